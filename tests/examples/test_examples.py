"""The examples (examples/notifications, examples/embedded): programs outside the library's folder, built from its
public API, synthesized as their own projects, audited by the policy pack, and run end to end in the emulator
(the export deployed into moto, the worker's trigger played in process, executions started with boto3)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import orderflow_runtime
import pytest
from moto import mock_aws

from policy.audit import evaluate
from tools.emulator.deploy import Deployment, deploy
from tools.emulator.poller import Poller
from tools.emulator.run import stop_running
from tools.synth import synthesize

ROOT = Path(__file__).resolve().parents[2]
NOTIFICATIONS = ROOT / "examples" / "notifications"
EMBEDDED = ROOT / "examples" / "embedded"
REGION = "us-east-1"
FORBIDDEN = ("components.inventory_service", "from components", "import components", "tools.", "handlers.",
             "inventory")


def synth(program: Path) -> dict[str, Any]:
    return synthesize("dev", program=program, stack_file=program / "Pulumi.dev.yaml")


@pytest.fixture(scope="module")
def notifications() -> dict[str, Any]:
    return synth(NOTIFICATIONS)


@pytest.fixture(scope="module")
def embedded() -> dict[str, Any]:
    return synth(EMBEDDED)


def resources(export: dict[str, Any], typ: str) -> list[dict[str, Any]]:
    return [r for r in export["deployment"]["resources"] if r["type"] == typ]


def named(export: dict[str, Any], typ: str, name: str) -> dict[str, Any]:
    (found,) = [r for r in resources(export, typ) if r["urn"].endswith(f"::{name}")]
    return found


@pytest.mark.parametrize("program", [NOTIFICATIONS, EMBEDDED])
def test_a_program_uses_only_the_public_api(program: Path) -> None:
    for path in [program / "__main__.py", *sorted((program / "worker").glob("*.py"))]:
        if path.exists():
            text = path.read_text()
            assert not [word for word in FORBIDDEN if word in text], path


def test_the_notifications_handler_is_20_to_40_lines_on_the_runtime() -> None:
    handler = (NOTIFICATIONS / "worker" / "notify.py").read_text()
    assert 20 <= len(handler.splitlines()) <= 40
    assert "from orderflow_runtime.runtime import Answer, CallbackRuntime, Rejection, Worker" in handler


@pytest.mark.parametrize(("fixture", "project"), [("notifications", "notifications"), ("embedded", "embedded")])
def test_a_program_is_its_own_project_and_passes_the_pack(fixture: str, project: str,
                                                          request: pytest.FixtureRequest) -> None:
    export = request.getfixturevalue(fixture)
    (stack,) = resources(export, "pulumi:pulumi:Stack")
    assert stack["urn"] == f"urn:pulumi:dev::{project}::pulumi:pulumi:Stack::{project}-dev"
    assert [(v.rule, v.level) for v in evaluate(export)] == []


def test_the_notifications_worker_has_its_rejections_no_compensation_and_a_grant_on_its_table(
        notifications: dict[str, Any]) -> None:
    machine = named(notifications, "aws:sfn/stateMachine:StateMachine", "notifications-state-machine")
    states = json.loads(machine["inputs"]["definition"])["States"]
    assert sorted(states) == ["Failed", "Not Sent", "Notify"]  # no compensation state
    assert states["Notify"]["Catch"][0] == {"ErrorEquals": ["InvalidRecipient", "Unsubscribed"], "Next": "Not Sent"}
    table = named(notifications, "aws:dynamodb/table:Table", "notifications")
    work = named(notifications, "aws:iam/rolePolicy:RolePolicy", "notifications-work")
    assert json.loads(work["inputs"]["policy"])["Statement"] == [{
        "Sid": "RecordNotifications", "Effect": "Allow", "Action": ["dynamodb:PutItem"],
        "Resource": [table["outputs"]["arn"]]}]
    assert table["outputs"]["arn"] == "arn:aws:dynamodb:us-east-1:123456789012:table/notifications-dev-sent"


def test_the_callers_role_has_exactly_the_tasks_statements(embedded: dict[str, Any]) -> None:
    queue = named(embedded, "aws:sqs/queue:Queue", "notify-queue")
    policy = named(embedded, "aws:iam/rolePolicy:RolePolicy", "caller-notify")
    assert json.loads(policy["inputs"]["policy"]) == {"Version": "2012-10-17", "Statement": [
        {"Sid": "SendToQueue", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [queue["outputs"]["arn"]]}]}
    machine = named(embedded, "aws:sfn/stateMachine:StateMachine", "caller")
    states = json.loads(machine["inputs"]["definition"])["States"]
    assert states["Notify"]["Resource"] == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    assert states["Notify"]["Parameters"]["QueueUrl"] == queue["outputs"]["url"]
    assert (states["Prepare"]["Next"], states["Notify"]["Next"]) == ("Notify", "Record")


@contextmanager
def running(export: dict[str, Any], program: Path) -> Iterator[tuple[Deployment, Any]]:
    """The export deployed into moto from ``program``'s folder, its worker's trigger polling."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        d = deploy(export, program)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        poller = Poller(d.function, d.mapping, d.work_queue_url).start()
        try:
            yield d, sfn
        finally:
            poller.stop()
            for machine in sfn.list_state_machines()["stateMachines"]:
                stop_running(machine["stateMachineArn"])


def run(sfn: Any, machine: str, item: dict[str, Any]) -> dict[str, Any]:
    arn = sfn.start_execution(stateMachineArn=machine, name=f"x{uuid.uuid4().hex[:12]}",
                              input=json.dumps(item))["executionArn"]
    deadline = time.time() + 60
    while time.time() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.1)
    raise AssertionError(f"{arn} still running")


def entered(sfn: Any, execution: str) -> list[str]:
    events = sfn.get_execution_history(executionArn=execution)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def machine_named(sfn: Any, name: str) -> str:
    (arn,) = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if m["name"] == name]
    return str(arn)


def test_the_notifications_worker_runs_end_to_end(notifications: dict[str, Any]) -> None:
    with running(notifications, NOTIFICATIONS) as (d, sfn):
        machine = machine_named(sfn, "notifications-dev-notifications")
        sent = run(sfn, machine, {"id": "n-1", "recipient": "ada@example.com", "message": "hello"})
        assert (sent["status"], json.loads(sent["output"])) == ("SUCCEEDED", {"notified": "ada@example.com",
                                                                              "id": "n-1"})
        item = boto3.client("dynamodb", region_name=REGION).get_item(
            TableName="notifications-dev-sent", Key={"id": {"S": "n-1"}})["Item"]
        assert item == {"id": {"S": "n-1"}, "recipient": {"S": "ada@example.com"}, "message": {"S": "hello"}}
        rejections: list[tuple[dict[str, Any], str, str]] = [
            ({"id": "n-2", "recipient": "nobody", "message": "x"}, "InvalidRecipient",
             "recipient must be an email address; got 'nobody'"),
            ({"id": "n-3", "recipient": "bob@example.com", "unsubscribed": True}, "Unsubscribed",
             "bob@example.com unsubscribed"),
        ]
        for work, error, cause in rejections:
            rejected = run(sfn, machine, work)
            assert rejected["status"] == "SUCCEEDED"
            assert json.loads(rejected["output"]) == {"status": "REJECTED", "reason": error, "cause": cause,
                                                      "execution": rejected["name"]}
            assert entered(sfn, rejected["executionArn"]) == ["Notify", "Not Sent"]
        ran = json.loads(sfn.describe_state_machine(stateMachineArn=machine)["definition"])
        assert not [s for s in ran["States"] if "ompensat" in s] and "Compensate" not in json.dumps(ran)
        assert d.function.code_path == str(NOTIFICATIONS / "worker")


def test_the_embedded_task_runs_between_the_callers_own_states(embedded: dict[str, Any]) -> None:
    with running(embedded, EMBEDDED) as (_, sfn):
        caller = machine_named(sfn, "embedded-dev-caller")
        done = run(sfn, caller, {"orderId": "o-1", "email": "ada@example.com"})
        assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", {"recorded": "o-1",
                                                                              "to": "ada@example.com"})
        assert entered(sfn, done["executionArn"]) == ["Prepare", "Notify", "Record"]
        skipped = run(sfn, caller, {"orderId": "o-2", "email": "nobody"})
        assert (skipped["status"], json.loads(skipped["output"])) == ("SUCCEEDED", {"skipped": "o-2",
                                                                                    "why": "InvalidRecipient"})
        assert entered(sfn, skipped["executionArn"]) == ["Prepare", "Notify", "Skipped"]


def test_synth_writes_a_programs_export_from_its_own_stack_file(tmp_path: Path,
                                                               notifications: dict[str, Any]) -> None:
    from tools.synth import main

    out = tmp_path / "notifications-dev.json"
    assert main(["--stack", "dev", "--program", str(NOTIFICATIONS), "--out", str(out)]) == 0
    written = json.loads(out.read_text())["deployment"]["resources"]
    by_urn = {r["urn"]: r for r in json.loads(json.dumps(notifications))["deployment"]["resources"]}
    assert {r["urn"]: r for r in written} == by_urn  # the same resources (registration order may differ)
    assert main(["--stack", "dev", "--program", str(tmp_path), "--out", str(out)]) == 2


def test_a_worker_folder_without_the_runtime_ships_it_in_its_archive() -> None:
    """The notifications worker's archive carries the runtime's files at the code root, each from the runtime's
    own source; the inventory worker's folder holds the runtime and ships only its own files."""
    from orderflow.code_asset import source_archive, source_files

    runtime = Path(orderflow_runtime.__file__).parent
    worker = ROOT / "examples" / "notifications" / "worker"
    assets = source_archive(worker).assets
    shipped = {name[len("orderflow_runtime/"):] for name in assets if name.startswith("orderflow_runtime/")}
    assert shipped == set(source_files(runtime))
    assert "contract.py" in shipped
    assert {name for name in assets if not name.startswith("orderflow_runtime/")} == set(source_files(worker))
    own = source_archive(ROOT / "handlers").assets
    assert set(own) == set(source_files(ROOT / "handlers"))


def test_make_local_runs_the_notifications_program_on_its_samples(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from tools.local import main

    summary = tmp_path / "summary.json"
    assert main(["--program", str(NOTIFICATIONS), "--summary", str(summary)]) == 0
    out = capsys.readouterr().out
    result = json.loads(summary.read_text())
    assert [(o["result"], o["reason"]) for o in result["orders"]] == [
        ("SUCCEEDED", None), ("SUCCEEDED", None), ("REJECTED", "InvalidRecipient"), ("REJECTED", "Unsubscribed")]
    assert all(i["holds"] for i in result["invariants"])
    assert "credit" not in result and result["inventory"] == {}
    assert "final stock" not in out and "reserved of what stock allowed" not in out  # no stock in this program
    assert "summary: " in out and "(dead letters: 0)" in out
