"""`python -m policy.audit` as a user and a CI gate run it: what it refuses, how it reads config, what it judges."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policy.audit import evaluate, judged_props, main
from policy.rules import runtime_lifecycle

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parents[1] / "fixtures" / "policy"
TUTORIAL = ROOT / "samples" / "tutorial-stack.json"
WHAT = 'a stack export is {"version": 3, "deployment": {"resources": [...]}}'
SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


@pytest.fixture(autouse=True)
def fixed_date(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(runtime_lifecycle, "today", lambda: datetime.date(2026, 11, 30))
    yield


def run_audit(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "policy.audit", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def write(path: Path, content: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


# (file name, content or None for a missing file, what the one-line error must say)
BAD_EXPORTS = [
    ("empty-object.json", {}, "no \"deployment\" object"),
    ("array.json", [1, 2], "a JSON array, not a stack export"),
    ("inventory.json", {"sku-1": 5, "sku-2": 0}, "top-level keys: sku-1, sku-2"),
    ("summary.json", {"orders": [], "inventory": {}, "invariants": []}, "top-level keys: invariants, inventory, orders"),
    ("README.md", "# orderflow\n\nNot JSON at all.\n", "not JSON (Expecting value: line 1 column 1"),
    ("empty.json", "", "not JSON"),
    ("string.json", "\"hello\"", "a JSON string, not a stack export"),
    ("no-version.json", {"deployment": {"resources": []}}, "\"version\" is null, not 3"),
    ("resources-object.json", {"version": 3, "deployment": {"resources": {}}}, "deployment.resources is object"),
    ("bad-entry.json", {"version": 3, "deployment": {"resources": [{"type": "aws:sqs/queue:Queue"}]}},
     "deployment.resources[0] is not a resource"),
    ("binary.json", "\udcff", "not UTF-8"),
    ("missing.json", None, "no such file"),
    ("build/dev.json", None, "run `make synth` first"),
]


@pytest.mark.parametrize(("name", "content", "says"), BAD_EXPORTS, ids=[row[0] for row in BAD_EXPORTS])
def test_audit_refuses_what_is_not_a_stack_export(tmp_path: Path, name: str, content: Any, says: str) -> None:
    path = tmp_path / name
    if content == "\udcff":
        path.write_bytes(b"\xff\xfe{")
    elif content is not None:
        write(path, content)
    result = run_audit(path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}: ")
    assert says in lines[0]
    assert WHAT in lines[0] or "make synth" in lines[0]
    assert "Traceback" not in result.stderr


def test_audit_of_a_directory_and_an_empty_stack(tmp_path: Path) -> None:
    result = run_audit(tmp_path)
    assert (result.returncode, result.stderr.count("\n")) == (2, 1) and "is a directory" in result.stderr
    empty = write(tmp_path / "empty-stack.json", {"version": 3, "deployment": {"manifest": {"time": "t"}}})
    result = run_audit(empty)
    assert result.returncode == 0
    assert result.stdout.strip().endswith("0 mandatory, 0 advisory violation(s)")


DEV_MRC1 = FIXTURES / "p4-dev-mrc1.json"
QUEUE_TAIL = "orderflow:index:CallbackWorker$aws:sqs/queue:Queue::inventory-queue"
# One row per config form: (config content, export, exit code, what stdout or the one-line error must contain)
CONFIGS = [
    ("", TUTORIAL, 1, "5 mandatory, 5 advisory"),
    ({}, TUTORIAL, 1, "5 mandatory, 5 advisory"),
    ({"all": "disabled"}, TUTORIAL, 0, "0 mandatory, 0 advisory"),
    ({"all": "advisory"}, TUTORIAL, 0, "0 mandatory, 10 advisory"),
    ({"all": "mandatory"}, TUTORIAL, 1, "10 mandatory, 0 advisory"),
    ({"all": {"enforcementLevel": "mandatory"}}, TUTORIAL, 1, "10 mandatory, 0 advisory"),
    ({"queue-dead-letter": {}}, TUTORIAL, 1, "5 mandatory, 5 advisory"),
    ({"all": "disabled", "queue-dead-letter": "mandatory"}, TUTORIAL, 1, "1 mandatory, 0 advisory"),
    ({"all": "disabled", "queue-dead-letter": {"enforcementLevel": "advisory"}}, TUTORIAL, 0,
     "0 mandatory, 1 advisory"),
    ({"callback-task-timeout": "advisory", "queue-dead-letter": {"enforcementLevel": "disabled"}}, TUTORIAL, 1,
     "3 mandatory, 6 advisory"),
    ({"no-full-access-managed-policies": "remediate", "callback-task-timeout": "remediate",
      "queue-dead-letter": "remediate"}, TUTORIAL, 1, "5 mandatory, 5 advisory"),
    ({"all": "remediate"}, TUTORIAL, 1, "10 mandatory, 0 advisory"),
    ({"callback-task-timeout": {"enforcementLevel": "mandatroy"}}, TUTORIAL, 2,
     "callback-task-timeout: \"mandatroy\" is not a valid enforcement level (did you mean 'mandatory'?)"),
    ({"queue-dead-letter": "block"}, TUTORIAL, 2, "queue-dead-letter: \"block\" is not a valid enforcement level"),
    ({"queue-dead-letter": "Mandatory"}, TUTORIAL, 2, "use exactly one of advisory, mandatory, remediate, disabled"),
    ({"all": "on"}, TUTORIAL, 2, "all: \"on\" is not a valid enforcement level"),
    ({"queue-dead-letter": {"enforcementLevel": 1}}, TUTORIAL, 2, "enforcementLevel 1 is not a string"),
    ({"queue-dead-letter": 5}, TUTORIAL, 2, "queue-dead-letter: 5 is not a valid value"),
    ([], TUTORIAL, 2, "the config is a JSON array, not an object"),
    ("{not json", TUTORIAL, 2, "not JSON"),
    ({"queue-dead-letter": {"minMaxReceiveCount": 0}}, DEV_MRC1, 2,
     "queue-dead-letter: minMaxReceiveCount: 0 is less than the minimum of 1"),
    ({"queue-dead-letter": {"minMaxReceiveCount": "five"}}, DEV_MRC1, 2,
     "queue-dead-letter: minMaxReceiveCount: 'five' is not of type 'integer'"),
    ({"queue-dead-letter": {"allowlist": [{"resource": "inventory-queue"}]}}, DEV_MRC1, 2,
     "queue-dead-letter: allowlist.0: 'reason' is a required property"),
    ({"iam-least-privilege": {"allowlist": "everything"}}, DEV_MRC1, 2,
     "iam-least-privilege: allowlist: 'everything' is not of type 'array'"),
    ({}, DEV_MRC1, 1, "1 mandatory, 0 advisory"),
    ({"queue-dead-letter": {"minMaxReceiveCount": 1}}, DEV_MRC1, 0, "0 mandatory, 0 advisory"),
    ({"queue-dead-letter": {"allowlist": [{"resource": "inventory-queue", "reason": "load test queue"}]}},
     DEV_MRC1, 2, "queue-dead-letter: allowlist.0.resource: \"inventory-queue\" names no single resource"),
    ({"queue-dead-letter": {"allowlist": [{"resource": QUEUE_TAIL, "reason": "load test queue"}]}},
     DEV_MRC1, 0, f"allowed: {QUEUE_TAIL} (queue-dead-letter): load test queue"),
    ({"queue-dead-letter": {"allowlist": [{"resource": "aws:sqs/queue:Queue::inventory-queue", "reason": "x"}]}},
     DEV_MRC1, 1, "allowlist entry 'aws:sqs/queue:Queue::inventory-queue' (queue-dead-letter) exempts no resource"),
]


@pytest.mark.parametrize(("config", "export", "code", "says"), CONFIGS)
def test_config_is_read_as_the_cli_reads_it(tmp_path: Path, capsys: pytest.CaptureFixture[str], config: Any,
                                            export: Path, code: int, says: str) -> None:
    path = write(tmp_path / "config.json", config)
    assert main([str(export), "--config", str(path)]) == code
    out, err = capsys.readouterr()
    if code == 2:
        assert out == ""  # refused before anything is judged
        assert err.count("\n") == 1 and err.startswith(f"error: {path}: ")
        assert says in err
    else:
        assert says in " ".join(out.split())  # the report wraps at 80 columns


def test_a_config_naming_no_rule_warns_and_is_otherwise_ignored(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "config.json", {"iam-least-privlege": "disabled"})
    assert main([str(TUTORIAL), "--config", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "did you mean 'iam-least-privilege'?" in err
    assert "5 mandatory" in out


def test_a_missing_config_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(TUTORIAL), "--config", str(tmp_path / "nope.json")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["inputs-and-outputs", "inputs-only"])
def test_p1_all_mandatory_blocks_a_stack_without_tracing(dev_export: dict[str, Any], tmp_path: Path, where: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    export = json.loads(json.dumps(dev_export))
    for r in export["deployment"]["resources"]:
        if r["type"] == "aws:sfn/stateMachine:StateMachine":
            r["inputs"]["tracingConfiguration"] = {"enabled": False}
            if where == "inputs-and-outputs":  # else as the field's P1 export: the outputs still say enabled
                (r.get("outputs") or {})["tracingConfiguration"] = {"enabled": False}
    path = write(tmp_path / "dev-no-tracing.json", export)
    assert main([str(path)]) == 0
    assert main([str(path), "--config", str(write(tmp_path / "all.json", {"all": "mandatory"}))]) == 1
    assert "MANDATORY state-machine-observability" in capsys.readouterr().out


def secret(value: Any, *, plaintext: bool) -> dict[str, Any]:
    if plaintext:
        return {**SIG, "plaintext": json.dumps(value)}
    return {**SIG, "ciphertext": "v1:Zm9vYmFy:AAAA"}


WIDE = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
NARROW = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:123456789012:q"}]})


def one_resource(typ: str, props: dict[str, Any], name: str = "worker-policy") -> dict[str, Any]:
    return {"version": 3, "deployment": {"resources": [
        {"urn": f"urn:pulumi:dev::hunt::{typ}::{name}", "custom": True, "type": typ, "inputs": props}]}}


# (export, config, exit code, text the report must hold); C13 and other shapes of a secret judged value
SECRETS = [
    (json.loads((FIXTURES / "c13-secret.json").read_text()), {}, 1, "--show-secrets"),
    (json.loads((FIXTURES / "c13-plaintext.json").read_text()), {}, 1, "every action of a service"),
    (one_resource("aws:iam/rolePolicy:RolePolicy", {"role": "r", "policy": secret(WIDE, plaintext=True)}), {}, 1,
     "every action of a service"),
    (one_resource("aws:iam/rolePolicy:RolePolicy", {"role": "r", "policy": secret(NARROW, plaintext=True)}), {}, 0,
     "0 mandatory, 0 advisory"),
    (one_resource("aws:iam/role:Role", {"inlinePolicies": [{"name": "x", "policy": secret(WIDE, plaintext=False)}]}),
     {}, 1, "inlinePolicies is a secret, encrypted in this stack export"),
    (one_resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                  {"role": "r", "policyArn": secret("arn:aws:iam::aws:policy/AdministratorAccess", plaintext=False)}),
     {}, 1, "policyArn is a secret"),
    (one_resource("aws:iam/rolePolicy:RolePolicy", {"role": "r", "policy": secret(WIDE, plaintext=False)}),
     {"iam-least-privilege": "advisory", "iam-privilege-escalation": "advisory"}, 0, "ADVISORY  iam-least-privilege"),
    (one_resource("aws:iam/rolePolicy:RolePolicy", {"role": secret("r", plaintext=False), "policy": NARROW}), {}, 0,
     "0 mandatory, 0 advisory"),
]


@pytest.mark.parametrize(("export", "config", "code", "says"), SECRETS)
def test_secrets_are_reported_not_passed(tmp_path: Path, capsys: pytest.CaptureFixture[str], export: dict[str, Any],
                                         config: dict[str, Any], code: int, says: str) -> None:
    path = write(tmp_path / "export.json", export)
    assert main([str(path), "--config", str(write(tmp_path / "c.json", config))]) == code
    out = capsys.readouterr().out
    assert says in out
    if code:
        assert out.startswith("worker-policy  [iam/")


def test_inputs_win_and_outputs_fill_in_provider_defaults() -> None:
    queue = {"inputs": {"visibilityTimeoutSeconds": 30, "name": "q", "delaySeconds": None},
             "outputs": {"visibilityTimeoutSeconds": 400, "maxMessageSize": 262144, "delaySeconds": 0}}
    assert judged_props(queue) == {"visibilityTimeoutSeconds": 30, "maxMessageSize": 262144, "name": "q",
                                   "delaySeconds": 0}
    export = one_resource("aws:sqs/queue:Queue", {"name": "lonely"}, name="lonely")
    export["deployment"]["resources"][0]["outputs"] = {"redrivePolicy": json.dumps(
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq", "maxReceiveCount": 2})}
    assert [(v.rule, v.message.split(";")[0]) for v in evaluate(export) if v.level == "mandatory"] == [
        ("queue-dead-letter", "lonely: maxReceiveCount 2 is below 5")]


# Field cases with their right values: (fixture, exit code, {(rule, resource): level})
FIELD = [
    ("c09-alias.json", 0, {("queue-visibility-timeout", "work"): "advisory"}),
    ("c09-unqualified.json", 0, {("queue-visibility-timeout", "work"): "advisory"}),
    ("c14-exclusive.json", 1, {("no-full-access-managed-policies", "worker-attachments"): "mandatory"}),
    ("c13-secret.json", 1, {(rule, "worker-policy"): "mandatory"
                            for rule in ("iam-least-privilege", "iam-privilege-escalation")}),
    ("c19-runtimes.json", 0, {("lambda-runtime-supported", f"fn-{r}"): "advisory"
                              for r in ("dotnet8", "nodejs20-x", "python3-10", "nodejs18-x")}),
    ("c21-wildcards.json", 1, {("iam-least-privilege", r): "mandatory" for r in (
        "notaction-allow", "any-queue-via-question-star", "passrole-question-mark", "action-question-mark-on-star")}
     | {("iam-privilege-escalation", r): "mandatory" for r in ("notaction-allow", "passrole-question-mark")}),
]


@pytest.mark.parametrize(("fixture", "code", "found"), FIELD, ids=[row[0] for row in FIELD])
def test_field_cases(fixture: str, code: int, found: dict[tuple[str, str], str],
                     capsys: pytest.CaptureFixture[str]) -> None:
    export = json.loads((FIXTURES / fixture).read_text())
    assert {(v.rule, v.resource): v.level for v in evaluate(export)} == found
    assert main([str(FIXTURES / fixture)]) == code
    capsys.readouterr()


def test_report_fits_80_columns_and_names_each_resource_once(capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["samples/tutorial-stack.json"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert lines[-2:] == ["audited samples/tutorial-stack.json (9 resources)", "5 mandatory, 5 advisory violation(s)"]
    headers = [line for line in lines if line and not line.startswith(" ")][:-2]
    names = [h.split()[0] for h in headers]
    assert len(names) == len(set(names)) == 6
    assert "CallbackExample" in names
    assert sum("CallbackExample" in line for line in lines) == 1
    assert "  MANDATORY callback-task-timeout" in lines
