"""The component package started as the CLI starts it: a virtualenv made from the plugin's requirements.txt only (the
language host's ``venv``), the plugin folder run with its python, a recording engine and resource monitor served in
the test process.

The virtualenv is installed with the Makefile's uv from the package index (as the language host installs it), with
every version constrained to the project's uv.lock, so the wheels ``make setup`` cached are reused: a few seconds, and
the same versions the rest of the tests use. (Not ``--offline``: a cache filled by ``uv sync`` from the lock holds
the wheels but not the index pages an offline resolution reads.)
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.runtime.proto import provider_pb2

from tests.package.harness import PLUGIN, ROOT, Engine, start_provider
from tests.project_uv import project_uv


def locked_versions() -> dict[str, str]:
    """Package name -> version, as uv.lock pins them."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {p["name"]: p["version"] for p in lock["package"] if "version" in p}


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without anything that points a python at the repository's environment."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "UV_PROJECT_ENVIRONMENT")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    return {**env, **extra}


@pytest.fixture(scope="session")
def plugin_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The python of a virtualenv holding exactly what components/orderflow/requirements.txt names (and their
    dependencies), at the versions of uv.lock; never the project itself."""
    folder = tmp_path_factory.mktemp("plugin")
    constraints = folder / "constraints.txt"
    # uv.lock's versions with their environment markers (one package may be locked twice, per Python version:
    # soupsieve 2.10 below Python 3.11.5, 4.1.3 from it), as `uv export` writes them
    exported = subprocess.run([project_uv(), "export", "--frozen", "--no-hashes", "--no-emit-project", "--all-groups",
                               "--all-extras", "--no-header", "--no-annotate"], cwd=ROOT, env=clean_env(),
                              capture_output=True, text=True, timeout=120, check=True)
    constraints.write_text(exported.stdout)
    venv = folder / "venv"
    for args in (["venv", "--quiet", str(venv)],
                 ["pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
                  "-r", str(PLUGIN / "requirements.txt"), "-c", str(constraints)]):
        done = subprocess.run([project_uv(), *args], cwd=folder, env=clean_env(), capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, f"uv {' '.join(args[:2])}: {done.stderr[-3000:]}"
    return str(venv / "bin" / "python")


@pytest.fixture
def engine() -> Iterator[Engine]:
    """A fresh engine and resource monitor for the stack ``orderflow/dev`` in us-east-1 (dev's region)."""
    served = Engine.serve("orderflow", "dev", "us-east-1")
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def provider(plugin_python: str, engine: Engine) -> Iterator[Any]:
    """A ``ResourceProvider`` stub on the component package, started from the plugin's virtualenv in the repository's
    root (the consuming program's folder: the worker code path ``handlers`` is relative to it)."""
    process, stub = start_provider(plugin_python, engine.address, ROOT, env=clean_env())
    try:
        yield stub
    finally:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def schema(plugin_python: str) -> dict[str, Any]:
    """The package schema as ``GetSchema`` answers it (its own provider process and engine)."""
    served = Engine.serve("orderflow", "dev", "us-east-1")
    process, stub = start_provider(plugin_python, served.address, ROOT, env=clean_env())
    try:
        return dict(json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest(), timeout=30).schema))
    finally:
        process.kill()
        process.wait()
        served.stop()
