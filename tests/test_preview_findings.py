"""The preview workflow's report of the pack's findings (scripts/preview_findings.py), on the CLI's output shapes
(pulumi/pulumi pkg/backend/display/progress.go, printPolicies)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def findings() -> ModuleType:
    spec = importlib.util.spec_from_file_location("preview_findings", ROOT / "scripts" / "preview_findings.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HEAD = "Previewing update (acme/dev)\n\n     Type                 Name\n +   pulumi:pulumi:Stack  orderflow-dev\n\n"
ADVISORY = ("Policies:\n    ⚠️ orderflow@v0.2.0 (local: judge/policy)\n"
            "        - [advisory]  queue-encryption  (aws:sqs/queue:Queue: inventory-queue)\n"
            "          queue uses SSE-SQS; a customer-managed key is stronger\n\n")
MANDATORY = ("Policies:\n    \x1b[1m❌ orderflow@v0.2.0\x1b[0m (local: judge/policy)\n"
             "        - [mandatory]  iam-least-privilege  (aws:iam/rolePolicy:RolePolicy: wide)\n"
             "          statement grants sqs:*\n"
             "        - [advisory]  callback-task-heartbeat  (aws:sfn/stateMachine:StateMachine: sm)\n"
             "          no heartbeat\n\n")
CLEAN = "Policies:\n    ✅ orderflow@v0.2.0 (local: judge/policy)\n\n"
TAIL = "Resources:\n    + 27 to create\n\nDuration: 4s\n"

# (preview output, the Markdown's heading line, the exit code, lines the report must show)
CASES = [
    (HEAD + ADVISORY + TAIL, "### Policy pack on `dev`: 0 mandatory, 1 advisory", 0,
     ["        - [advisory]  queue-encryption  (aws:sqs/queue:Queue: inventory-queue)"]),
    (HEAD + MANDATORY + TAIL, "### Policy pack on `dev`: 1 mandatory, 1 advisory", 0,
     ["    ❌ orderflow@v0.2.0 (local: judge/policy)", "          statement grants sqs:*"]),
    (HEAD + CLEAN + TAIL, "### Policy pack on `dev`: 0 mandatory, 0 advisory", 0,
     ["    ✅ orderflow@v0.2.0 (local: judge/policy)"]),
    (HEAD + "error: could not load the pack\n", "### Policy pack on `dev`", 1,
     ["the preview printed no Policies section: the pack did not report (see the job's log)."]),
]


@pytest.mark.parametrize(("text", "heading", "code", "shown"), CASES)
def test_the_policies_section_reaches_the_summary(text: str, heading: str, code: int, shown: list[str]) -> None:
    out, got = findings().markdown("dev", text)
    lines = out.splitlines()
    assert (lines[0], lines[1], got) == ("<!-- orderflow-preview:dev -->", heading, code)
    assert all(line in lines for line in shown)
    assert "Resources:" not in out and "Duration" not in out


def test_a_missing_log_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert findings().main([str(tmp_path / "none.txt"), "--stack", "prod"]) == 1
    assert "no preview output" in capsys.readouterr().out
