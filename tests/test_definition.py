"""The generated definition, executed in moto: token in the message, and each path it can take."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Emulated
from tools.bench.cost import paths

ORDER = {"orderId": "order-1", "items": [{"sku": "A", "quantity": 1}]}


def test_message_carries_order_token_and_execution(emulated: Emulated) -> None:
    arn = emulated.start(ORDER, "order-1")
    (record,) = emulated.receive()
    body = json.loads(record["body"])
    assert body["order"] == ORDER
    assert body["execution"] == arn
    assert isinstance(body["taskToken"], str) and body["taskToken"]


def entered(emulated: Emulated, arn: str) -> list[str]:
    """The states the execution entered: each one is a billed state transition of a Standard workflow."""
    history = emulated.sfn.get_execution_history(executionArn=arn)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]


@pytest.mark.parametrize(
    ("answer", "status", "output", "error", "path"),
    [
        ("success", "SUCCEEDED", {"orderId": "order-1", "status": "RESERVED", "items": []}, None,
         ["Check Inventory"]),
        ("OutOfStock", "SUCCEEDED", {"status": "REJECTED", "reason": "OutOfStock", "cause": "why",
                                     "execution": "order-1"}, None, ["Check Inventory", "Notify Rejection"]),
        ("Boom", "FAILED", None, "OrderFailed", ["Check Inventory", "Release Reservation", "Order Failed"]),
    ],
)
def test_answers_take_their_path(emulated: Emulated, answer: str, status: str, output: dict | None,
                                 error: str | None, path: list[str]) -> None:
    arn = emulated.start(ORDER, "order-1")
    (record,) = emulated.receive()
    token = json.loads(record["body"])["taskToken"]
    if answer == "success":
        emulated.sfn.send_task_success(taskToken=token, output=json.dumps(output))
    else:
        emulated.sfn.send_task_failure(taskToken=token, error=answer, cause="why")
    desc = emulated.wait(arn)
    assert desc["status"] == status
    assert (json.loads(desc["output"]) if "output" in desc else None) == output
    assert desc.get("error") == error
    if error:
        assert desc["cause"] == answer  # the underlying error name
    assert entered(emulated, arn) == path
    outcome = {"success": "RESERVED", "OutOfStock": "REJECTED"}.get(answer, "FAILED")
    assert paths(emulated.d.state_machine_definition)[outcome] == path  # what the cost model bills


def test_silence_takes_the_timeout_path(fast_emulated: Emulated) -> None:
    arn = fast_emulated.start(ORDER, "order-1")
    fast_emulated.receive()
    desc = fast_emulated.wait(arn, timeout=30)  # heartbeat of the fast stack: 12 s
    assert desc["status"] == "FAILED"
    assert desc["error"] == "OrderFailed"
    assert desc["cause"] in ("States.HeartbeatTimeout", "States.Timeout")
    assert entered(fast_emulated, arn) == ["Check Inventory", "Release Reservation", "Order Failed"]
    release = fast_emulated.receive_release(arn)  # the failure path's compensation, for the worker
    assert json.loads(release["body"]) == {"action": "release", "order": ORDER, "execution": arn}


def test_cost_model_reads_the_tutorial_paths() -> None:
    """The tutorial's definition bills two transitions on success and has no rejection path."""
    tutorial = json.loads((Path(__file__).parent.parent / "samples" / "tutorial-stack.json").read_text())
    sm = next(r for r in tutorial["deployment"]["resources"] if r["type"] == "aws:sfn/stateMachine:StateMachine")
    assert paths(json.loads(sm["inputs"]["definition"])) == {
        "RESERVED": ["Check Inventory", "Notify Success"], "FAILED": ["Check Inventory", "Notify Failure"]}


def test_send_message_retries_only_on_the_error_names_step_functions_emits() -> None:
    from orderflow.callback_worker import failure_path
    from orderflow.definition import CallbackDefinition
    from orderflow.settings import WorkerSettings

    from components.inventory_service.service import CHECK_STATE, FAILURE, RELEASE_STATE

    built = CallbackDefinition(queue_url="https://sqs.us-east-1.amazonaws.com/1/q",
                               queue_arn="arn:aws:sqs:us-east-1:123456789012:q",
                               settings=WorkerSettings(function_timeout_seconds=3),
                               failure=failure_path(FAILURE)).build()
    for state in (CHECK_STATE, RELEASE_STATE):
        (retry,) = built["States"][state]["Retry"]
        assert retry["ErrorEquals"] == ["SQS.SdkClientException", "SQS.AmazonSQSException"]
