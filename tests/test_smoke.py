"""`orderflow smoke` against moto in server mode on 127.0.0.1: the driver speaks HTTP to an endpoint, as to AWS.

The dev stack is deployed there by the emulator's deploy, and the emulator's poller plays the Lambda trigger
against the same endpoint (``AWS_ENDPOINT_URL``), so the real definition and the real handler answer.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from moto.server import ThreadedMotoServer

from tools.cli import main as cli
from tools.emulator.deploy import REGION, Deployment, deploy
from tools.emulator.poller import Poller
from tools.emulator.run import stop_running
from tools.smoke import Plan, Stack, smoke

SUMMARY_KEYS = {"orders", "inventory", "deadLetters", "pictures", "leastPrivilege", "notPlayed", "faults",
                "invariants", "reservedOfAllowed", "runSeconds", "poller"}
"""The summary of `make local` (README, Commands and variables)."""


@dataclass
class ServedStack:
    endpoint: str
    deployment: Deployment
    outputs: Path
    """The stack's outputs as `pulumi stack output --json` gives them."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(dev_export: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedStack]:
    """The dev stack deployed into a moto server, its worker polling the server's queue."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MOTO_PORT", str(port))  # the state machine's own SQS calls go back to this server
        env.setenv("AWS_ENDPOINT_URL", endpoint)
        env.setenv("AWS_DEFAULT_REGION", REGION)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:  # moto's backends live in this process: start from nothing whatever ran here before
            requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
            requests.post(f"{endpoint}/moto-api/config", timeout=10,
                          json={"stepfunctions": {"execute_state_machine": True}}).raise_for_status()
            d = deploy(dev_export)
            outputs = tmp_path_factory.mktemp("stack") / "outputs.json"
            outputs.write_text(json.dumps({"stateMachineArn": d.state_machine_arn, "tableName": d.table,
                                           "queueUrl": d.work_queue_url, "dlqUrl": d.dlq_url}))
            poller = Poller(d.function, d.mapping, d.work_queue_url).start()
            try:
                yield ServedStack(endpoint, d, outputs)
            finally:
                poller.stop()
                stop_running(d.state_machine_arn)
        finally:
            server.stop()


def test_smoke_command_holds_every_invariant_and_writes_the_summary(served: ServedStack, tmp_path: Path) -> None:
    summary_path = tmp_path / "summary.json"
    code = cli(["smoke", "--stack", "dev", "--outputs", str(served.outputs), "--summary", str(summary_path),
                "--timeout", "120"])
    summary = json.loads(summary_path.read_text())
    assert set(summary) >= SUMMARY_KEYS
    assert [(i["name"], i["holds"]) for i in summary["invariants"]] == [
        ("every execution ends", True),
        ("final stock = initial - reserved", True),
        ("reservation records = reserved executions", True),
        ("every poison message is in the DLQ", True),
        ("other DLQ messages belong to failed executions", True),
        ("no OutOfStock order whose demand the final stock covers", True),
        ("each smoke order gets its expected result", True),
    ]
    assert code == 0
    assert [(o["executionStatus"], o["result"], o["reason"]) for o in summary["orders"]] == [
        ("SUCCEEDED", "RESERVED", None), ("SUCCEEDED", "REJECTED", "OutOfStock"),
        ("SUCCEEDED", "REJECTED", "InvalidOrder")]
    assert all(isinstance(o["durationSeconds"], float) for o in summary["orders"])
    (a, b) = sorted(summary["inventory"])
    assert summary["inventory"] == {a: 3, b: 0}
    assert summary["reservedOfAllowed"] == {"reserved": 1, "allowed": 1, "share": 1.0}


def test_smoke_removes_what_it_seeded(served: ServedStack) -> None:
    import boto3

    plan = Plan.new("cleanup")
    from tools.deployed.outputs import read_outputs

    smoke(Stack(read_outputs("dev", str(served.outputs))), plan, 120)
    ddb = boto3.client("dynamodb", region_name=REGION)
    keys = [f"SKU#{sku}" for sku in plan.stock] + [f"ORDER#{o}" for o in plan.order_ids]
    assert [ddb.get_item(TableName=served.deployment.table, Key={"pk": {"S": k}}).get("Item") for k in keys] == \
        [None] * len(keys)


@pytest.mark.parametrize(("outputs", "message"), [
    ("missing.json", "error: OUTPUTS {path}: cannot read it"),
    ("[]", "error: OUTPUTS {path}: must be a JSON object of stack outputs, got list"),
    ("{}", "error: OUTPUTS {path}: output 'tableName' is missing or not a string"),
    ('{"tableName": "t", "stateMachineArn": "nope", "dlqUrl": "u"}',
     "error: OUTPUTS {path}: output 'stateMachineArn' is not a state machine ARN"),
])
def test_bad_outputs_exit_2_with_one_line(outputs: str, message: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "outputs.json"
    if outputs != "missing.json":
        path.write_text(outputs)
    assert cli(["smoke", "--outputs", str(path), "--summary", str(tmp_path / "s.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message.format(path=path)) and len(err.strip().splitlines()) == 1, err


class _Ddb:
    def __init__(self) -> None:
        self.put: list[str] = []
        self.deleted: list[str] = []

    def put_item(self, **kwargs: Any) -> None:
        self.put.append(kwargs["Item"]["pk"]["S"])

    def delete_item(self, **kwargs: Any) -> None:
        self.deleted.append(kwargs["Key"]["pk"]["S"])


class _Sfn:
    """Starts the first execution, refuses the second (as a throttled or denied StartExecution would)."""

    def __init__(self) -> None:
        self.stopped: list[str] = []

    def start_execution(self, **kwargs: Any) -> dict[str, str]:
        if kwargs["name"].endswith("-reserve"):
            return {"executionArn": f"arn:aws:states:us-east-1:123456789012:execution:sm:{kwargs['name']}"}
        from botocore.exceptions import ClientError
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "StartExecution")

    def stop_execution(self, **kwargs: Any) -> None:
        self.stopped.append(kwargs["executionArn"])


def test_a_failed_start_stops_what_started_and_removes_what_was_seeded() -> None:
    from botocore.exceptions import ClientError

    stack = Stack.__new__(Stack)
    stack.table, stack.state_machine, stack.dlq_url = "t", "arn:aws:states:us-east-1:123456789012:stateMachine:sm", "q"
    stack.ddb, stack.sfn = _Ddb(), _Sfn()
    stack.seeded, stack.left_behind = [], {}
    plan = Plan.new("fixed")
    with pytest.raises(ClientError):
        smoke(stack, plan, timeout=1)
    assert stack.sfn.stopped == ["arn:aws:states:us-east-1:123456789012:execution:sm:smoke-fixed-reserve"]
    assert stack.ddb.put == ["SKU#SMOKE-fixed-A", "SKU#SMOKE-fixed-B"]
    assert sorted(stack.ddb.deleted) == sorted([*stack.ddb.put, *(f"ORDER#{o}" for o in plan.order_ids)])
    assert stack.left_behind == {}
