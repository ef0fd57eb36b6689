"""The synth's export as a real `pulumi stack export` after `up`: provider defaults in outputs, stable code hash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import resources
from tools.synth import synthesize

ROOT = Path(__file__).resolve().parent.parent


def by_name(export: dict[str, Any], typ: str) -> dict[str, dict[str, Any]]:
    return {r["inputs"].get("name", r["urn"]): r["outputs"] for r in resources(export, typ)}


# (type, physical name, output key, value a real deploy reports although the program does not set it)
DEFAULTS = [
    ("aws:sqs/queue:Queue", "orderflow-dev-inventory-queue", "maxMessageSize", 262_144),
    ("aws:sqs/queue:Queue", "orderflow-dev-inventory-queue", "delaySeconds", 0),
    ("aws:sqs/queue:Queue", "orderflow-dev-inventory-queue", "receiveWaitTimeSeconds", 0),
    ("aws:sqs/queue:Queue", "orderflow-dev-inventory-dlq", "visibilityTimeoutSeconds", 30),
    ("aws:sqs/queue:Queue", "orderflow-dev-inventory-dlq", "maxMessageSize", 262_144),
    ("aws:lambda/function:Function", "orderflow-dev-inventory-worker", "packageType", "Zip"),
    ("aws:lambda/function:Function", "orderflow-dev-inventory-worker", "ephemeralStorage", {"size": 512}),
    ("aws:lambda/function:Function", "orderflow-dev-inventory-worker", "publish", False),
    ("aws:sfn/stateMachine:StateMachine", "orderflow-dev-inventory", "publish", False),
    ("aws:dynamodb/table:Table", "orderflow-dev-inventory", "tableClass", "STANDARD"),
    ("aws:dynamodb/table:Table", "orderflow-dev-inventory", "streamEnabled", False),
    ("aws:cloudwatch/logGroup:LogGroup", "/aws/lambda/orderflow-dev-inventory-worker", "logGroupClass", "STANDARD"),
    ("aws:iam/role:Role", "orderflow-dev-inventory-worker-role", "maxSessionDuration", 3600),
]
# what the program sets wins over the default
SET = [
    ("aws:sqs/queue:Queue", "orderflow-dev-inventory-queue", "visibilityTimeoutSeconds", 18),
    ("aws:sqs/queue:Queue", "orderflow-dev-inventory-dlq", "messageRetentionSeconds", 1_209_600),
    ("aws:lambda/function:Function", "orderflow-dev-inventory-worker", "timeout", 3),
    ("aws:lambda/function:Function", "orderflow-dev-inventory-worker", "memorySize", 256),
    ("aws:lambda/function:Function", "orderflow-dev-inventory-worker", "tracingConfig", {"mode": "Active"}),
    ("aws:lambda/eventSourceMapping:EventSourceMapping", None, "enabled", True),
    ("aws:cloudwatch/logGroup:LogGroup", "/aws/lambda/orderflow-dev-inventory-worker", "retentionInDays", 7),
    ("aws:sfn/stateMachine:StateMachine", "orderflow-dev-inventory", "loggingConfiguration",
     {"level": "ALL", "includeExecutionData": False,
      "logDestination": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/orderflow-dev-inventory:*"}),
]


@pytest.mark.parametrize(("typ", "name", "key", "value"), DEFAULTS + SET)
def test_outputs_carry_what_the_provider_reports(dev_export: dict[str, Any], typ: str, name: str | None, key: str,
                                                 value: Any) -> None:
    outputs = by_name(dev_export, typ)
    (got,) = outputs.values() if name is None else [outputs[name]]
    assert got[key] == value


def test_inputs_stay_what_the_program_set(dev_export: dict[str, Any]) -> None:
    queue = next(q for q in resources(dev_export, "aws:sqs/queue:Queue") if q["inputs"]["name"].endswith("-queue"))
    assert "maxMessageSize" not in queue["inputs"]


def test_a_customer_key_turns_sse_sqs_off_in_outputs() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    export = synthesize("dev", config_overrides={"orderflow:kmsKeyArn": key})
    assert {q["outputs"]["sqsManagedSseEnabled"] for q in resources(export, "aws:sqs/queue:Queue")} == {False}


def code(export: dict[str, Any]) -> dict[str, Any]:
    (fn,) = resources(export, "aws:lambda/function:Function")
    return fn["inputs"]["code"]


def test_the_code_archive_holds_exactly_the_handler_sources_and_its_hash_survives_a_run() -> None:
    before_export = synthesize("dev")
    before = code(before_export)
    tracked = subprocess.run(["git", "ls-files", "handlers"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert sorted(f"handlers/{name}" for name in before["assets"]) == sorted(tracked)
    # run the handler's modules as a test run does: Python writes __pycache__/*.pyc beside them
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    (fn,) = resources(before_export, "aws:lambda/function:Function")  # the worker's own environment
    subprocess.run([sys.executable, "-c", "import inventory.app, inventory.orders, inventory.stock"],
                   cwd=ROOT / "handlers", env={**env, **fn["inputs"]["environment"]["variables"],
                                               "PYTHONPATH": str(ROOT / "handlers")}, check=True)
    assert list((ROOT / "handlers" / "inventory" / "__pycache__").glob("*.pyc"))
    after = code(synthesize("dev"))
    assert after["hash"] == before["hash"]
    assert after == before


def test_the_archive_hash_follows_the_sources(tmp_path: Path) -> None:
    from orderflow.code_asset import source_archive

    from tools.synth import _plain

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "app.py").write_text("x = 1\n")
    first = _plain(source_archive(tmp_path))
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "pkg" / "stale.pyc").write_bytes(b"\0")
    assert _plain(source_archive(tmp_path)) == first
    (tmp_path / "pkg" / "app.py").write_text("x = 2\n")
    assert _plain(source_archive(tmp_path))["hash"] != first["hash"]
    # the folder's own files, then the runtime the component adds to a folder that has none of its own
    assert [name for name in first["assets"] if not name.startswith("orderflow_runtime/")] == ["pkg/app.py"]
