"""The emulated Step Functions: StopExecution aborts and kills tokens (field case M1), every execution started at
once is parsed and run (M3), an emulator fault ends an execution instead of leaving it RUNNING, fallback execution
names never collide with an order id (W3), and StartExecution is refused over its quota without being carried out."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import Emulated
from tools.emulator import quotas
from tools.emulator.run import execution_names


def order(order_id: str, **skus: int) -> dict[str, Any]:
    return {"orderId": order_id, "items": [{"sku": s, "quantity": q} for s, q in skus.items()]}


def history(e: Emulated, arn: str) -> list[str]:
    return [h["type"] for h in e.sfn.get_execution_history(executionArn=arn)["events"]]


def test_M1_stop_execution_aborts_at_once_and_kills_the_token(emulated: Emulated) -> None:
    e = emulated
    e.seed({"A": 5})
    arn = e.start(order("o-stop", A=2), "o-stop")
    (record,) = e.receive()
    e.sfn.stop_execution(executionArn=arn, error="Operator", cause="stuck")
    assert e.sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    with pytest.raises(ClientError) as error:
        e.module.sfn.send_task_success(taskToken=json.loads(record["body"])["taskToken"], output="{}")
    assert error.value.response["Error"]["Code"] == "TaskTimedOut"
    desc = e.wait(arn)
    assert desc["status"] == "ABORTED"
    assert history(e, arn)[-1] == "ExecutionAborted"
    assert e.queue_depth(e.d.work_queue_url) == 1  # only the check in flight: no failure path ran


def test_M1_the_worker_releases_what_it_reserved_for_a_stopped_execution(emulated: Emulated) -> None:
    e = emulated
    e.seed({"A": 5})
    arn = e.start(order("o-stop3", A=2), "o-stop3")
    (record,) = e.receive()
    e.sfn.stop_execution(executionArn=arn, error="Operator", cause="stuck")
    assert e.invoke([record]) == set()
    assert e.wait(arn)["status"] == "ABORTED"
    assert e.stock("A") == 5
    assert (e.reservation("o-stop3") or {})["status"]["S"] == "RELEASED"


def test_M3_executions_started_at_once_are_all_parsed_and_run(emulated: Emulated) -> None:
    e = emulated
    e.seed({"A": 100})
    arns: list[str] = []
    lock = threading.Lock()

    def start(n: int) -> None:
        for i in range(5):
            arn = e.start(order(f"o-{n}-{i}", A=1), f"o-{n}-{i}")
            with lock:
                arns.append(arn)

    threads = [threading.Thread(target=start, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(e.receive(count=40, timeout=120)) == 40  # every execution reached its task
    assert {e.sfn.describe_execution(executionArn=a)["status"] for a in arns} == {"RUNNING"}


def test_an_emulator_fault_ends_the_execution_failed(emulated: Emulated, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    def broken(self: Any) -> Any:
        raise IndexError("list index out of range")

    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", broken)
    arn = emulated.start(order("o-broken", A=1), "o-broken")
    desc = emulated.wait(arn)
    assert (desc["status"], desc.get("error")) == ("FAILED", "States.Runtime")
    assert "emulator fault: IndexError" in desc["cause"]


# One row per order list: the execution names; a fallback never takes an order id of the run.
NAMES: list[tuple[list[Any], list[str]]] = [
    ([order("order-00001", A=1), order("not a valid id!", A=1)], ["order-00001", "order-00001_"]),
    ([order("bad id", A=1), order("order-00000", A=1)], ["order-00000_", "order-00000"]),
    ([order("order-00001_", A=1), order("x y", A=1), order("order-00001", A=1)],
     ["order-00001_", "order-00001__", "order-00001"]),
    (["not an order", {"orderId": 7}, order("o-1\n", A=1)], ["order-00000", "order-00001", "order-00002"]),
    ([order("o-1", A=1), order("o-1", A=1)], ["o-1", "o-1"]),  # the same order id is the same execution
]


@pytest.mark.parametrize(("orders", "names"), NAMES)
def test_W3_fallback_execution_names_never_collide(orders: list[Any], names: list[str]) -> None:
    assert [name for _, name in execution_names(orders)] == names


def test_start_execution_over_its_quota_is_throttled_and_not_carried_out(emulated: Emulated) -> None:
    e = emulated
    quotas.reset(scale=1 / 1300)  # a bucket of one StartExecution, refilled at 0.23 per second
    try:
        e.start(order("o-q1", A=1), "o-q1")
        client = boto3.client("stepfunctions", config=Config(retries={"total_max_attempts": 1}))  # one attempt
        with pytest.raises(ClientError) as error:
            client.start_execution(stateMachineArn=e.d.state_machine_arn, name="o-q2",
                                   input=json.dumps(order("o-q2", A=1)))
        throttled = quotas.throttled()
    finally:
        quotas.reset()
    assert error.value.response["Error"]["Code"] == "ThrottlingException"
    assert throttled.get("StartExecution") == 1  # the one attempt, refused before moto saw it
    names = [x["name"] for x in e.sfn.list_executions(stateMachineArn=e.d.state_machine_arn)["executions"]]
    assert names == ["o-q1"]


# -- States.DataLimitExceeded and States.Runtime: terminal, not matched by States.ALL (field case F2) ---------------
def test_F2_a_check_message_over_the_payload_quota_fails_the_execution_with_data_limit_exceeded(
        emulated: Emulated) -> None:
    """The input fits StartExecution's 262,144 bytes; with the token and the execution ARN added by Parameters the
    Check Inventory state's input does not. AWS: States.DataLimitExceeded, which States.ALL does not catch, so no
    Release Reservation runs (nothing was sent, nothing can have been reserved) and the execution fails with it."""
    filler = "x" * (262_144 - 200)
    order = {"orderId": "big", "items": [{"sku": "A", "quantity": 1}], "note": filler}
    assert len(json.dumps(order).encode()) <= 262_144
    arn = emulated.start(order, "big")
    description = emulated.wait(arn, timeout=30)
    assert (description["status"], description["error"]) == ("FAILED", "States.DataLimitExceeded")
    events = emulated.sfn.get_execution_history(executionArn=arn)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert entered == ["Check Inventory"]
    assert emulated.queue_depth(emulated.d.work_queue_url) == 0


def _machine(emulated: Emulated, name: str, catch: list[str]) -> str:
    """A task whose Parameters name a path the input lacks: States.Runtime, raised inside the task, where Retry and
    Catch are consulted."""
    definition = {"StartAt": "Send", "States": {
        "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                 "Parameters": {"QueueUrl": emulated.d.work_queue_url, "MessageBody.$": "$.missing"}, "End": True,
                 "Retry": [{"ErrorEquals": catch, "MaxAttempts": 2, "IntervalSeconds": 1}],
                 "Catch": [{"ErrorEquals": catch, "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "Result": "caught", "End": True}}}
    return str(emulated.sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                                 roleArn="arn:aws:iam::123456789012:role/any")["stateMachineArn"])


def test_F2_states_all_neither_retries_nor_catches_states_runtime(emulated: Emulated) -> None:
    machine = _machine(emulated, "runtime", ["States.ALL"])
    arn = emulated.sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    description = emulated.wait(arn, timeout=30)
    assert (description["status"], description["error"]) == ("FAILED", "States.Runtime")
    assert history(emulated, arn).count("TaskStateEntered") == 1
    assert "PassStateEntered" not in history(emulated, arn)
