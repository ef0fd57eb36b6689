"""The payment worker (handlers/payment) against moto: the real handler module (``payment.app``) answering the real
callback task (``sqs:sendMessage.waitForTaskToken``) of small state machines, on a payment table read through the
ledger (``orderflow_runtime.ledger.read``) with the payment's own ``LAYOUT``."""

from __future__ import annotations

import importlib
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from orderflow_runtime import contract, ledger
from orderflow_runtime.runtime import CallbackRuntime
from orderflow_runtime.tasks import TaskClient
from payment.credit import LAYOUT, Credit
from payment.worker import PaymentWorker

from tools.emulator import moto_fixes, service_fidelity
from tools.emulator.poller import LambdaContext, _record
from tools.emulator.run import stop_running

TABLE = "payment"
ACCOUNT = "123456789012"
ENVIRONMENT = {"TABLE_NAME": TABLE, contract.HEARTBEAT_SECONDS: "30", contract.VISIBILITY_TIMEOUT_SECONDS: "15",
               contract.ANSWER_CONCURRENCY: "10"}


def definition(queue_url: str, then: str) -> str:
    """Authorize Payment (the callback task, no Catch), then ``then``: "end" (the answer ends the execution),
    "complete" (a Pass state whose output status is COMPLETED), or "wait" (a long Wait: the execution runs on)."""
    task: dict[str, Any] = {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue_url, "MessageBody": {
            f"{contract.WORK_ITEM}.$": "$", f"{contract.TASK_TOKEN}.$": "$$.Task.Token",
            f"{contract.EXECUTION}.$": "$$.Execution.Id"}},
        "TimeoutSeconds": 120, "HeartbeatSeconds": 30}
    completed = {"Type": "Pass", "Parameters": {"orderId.$": "$.orderId", "status": "COMPLETED",
                                                 "authorization.$": "$"}, "End": True}
    states: dict[str, Any] = {"Authorize Payment": {**task, "End": True}}
    if then == "complete":
        states = {"Authorize Payment": {**task, "Next": "Order Completed"}, "Order Completed": completed}
    elif then == "wait":
        states = {"Authorize Payment": {**task, "Next": "Hold"},
                  "Hold": {"Type": "Wait", "Seconds": 600, "Next": "Order Completed"}, "Order Completed": completed}
    return json.dumps({"StartAt": "Authorize Payment", "States": states})


@dataclass
class World:
    sfn: Any
    sqs: Any
    ddb: Any
    queue_url: str
    queue_arn: str
    machines: dict[str, str]
    app: ModuleType

    def seed(self, credits: dict[str, int]) -> None:
        ledger.seed(self.ddb, TABLE, LAYOUT, credits)

    def credit(self, customer: str) -> int | None:
        return ledger.read_counter(self.ddb, TABLE, LAYOUT, customer)

    def record(self, order_id: str) -> dict[str, str] | None:
        return ledger.read(self.ddb, TABLE, LAYOUT).records.get(order_id)

    def held(self, customer: str) -> dict[str, Any]:
        item = self.ddb.get_item(TableName=TABLE, Key=LAYOUT.counter_key(customer), ConsistentRead=True)["Item"]
        return dict(item["held"]["M"])

    def start(self, order: dict[str, Any], then: str = "end") -> str:
        return str(self.sfn.start_execution(stateMachineArn=self.machines[then], name=f"x{uuid.uuid4().hex[:12]}",
                                            input=json.dumps(order))["executionArn"])

    def receive(self, count: int = 1) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        deadline = time.time() + 10
        while len(got) < count and time.time() < deadline:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                                MessageSystemAttributeNames=["All"]).get("Messages", [])
            got += [_record(m, self.queue_arn) for m in messages]
            if not messages:
                time.sleep(0.05)
        assert len(got) == count, f"expected {count} messages, got {len(got)}"
        return got

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body))
        (record,) = self.receive()
        return record

    def invoke(self, records: list[dict[str, Any]], handler: Any = None) -> set[str]:
        response = (handler or self.app.lambda_handler)({"Records": records}, LambdaContext("payment", 256, 3))
        return {f["itemIdentifier"] for f in response["batchItemFailures"]}

    def wait(self, arn: str) -> dict[str, Any]:
        deadline = time.time() + 30
        while time.time() < deadline:
            described = dict(self.sfn.describe_execution(executionArn=arn))
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.05)
        raise AssertionError(f"{arn} still running")

    def until_in_state(self, arn: str, state: str) -> None:
        deadline = time.time() + 30
        while time.time() < deadline:
            events = self.sfn.get_execution_history(executionArn=arn)["events"]
            if any(e.get("stateEnteredEventDetails", {}).get("name") == state for e in events):
                return
            time.sleep(0.05)
        raise AssertionError(f"{arn} never entered {state}")


def _world(monkeypatch: pytest.MonkeyPatch, kept: str | None) -> Iterator[World]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        moto_fixes.apply()
        service_fidelity.apply()
        for name, value in ENVIRONMENT.items():
            monkeypatch.setenv(name, value)
        if kept is None:
            monkeypatch.delenv(contract.KEPT_STATUSES, raising=False)
        else:
            monkeypatch.setenv(contract.KEPT_STATUSES, kept)
        sqs, sfn = boto3.client("sqs"), boto3.client("stepfunctions")
        ddb = boto3.client("dynamodb")
        ddb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        url = sqs.create_queue(QueueName="payment", Attributes={"VisibilityTimeout": "15"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        machines = {then: sfn.create_state_machine(name=f"payment-{then}", definition=definition(url, then),
                                                   roleArn=f"arn:aws:iam::{ACCOUNT}:role/payment")["stateMachineArn"]
                    for then in ("end", "complete", "wait")}
        sys.modules.pop("payment.app", None)
        app = importlib.import_module("payment.app")  # its clients and settings, made inside the mock
        yield World(sfn, sqs, ddb, url, arn, machines, app)
        for machine in machines.values():
            stop_running(machine)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from _world(monkeypatch, None)


@pytest.fixture
def order_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The order workflow's setting: ``KEPT_STATUSES=COMPLETED``."""
    yield from _world(monkeypatch, "COMPLETED")


def pay(order_id: str, customer: str = "c-1", amount: int = 300) -> dict[str, Any]:
    return {"orderId": order_id, "customerId": customer, "amountCents": amount, "items": [{"sku": "A", "quantity": 1}]}


def test_authorize_takes_the_amount_and_answers_the_authorization(world: World) -> None:
    world.seed({"c-1": 1000})
    arn = world.start(pay("o-1"))
    assert world.invoke(world.receive()) == set()
    described = world.wait(arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"orderId": "o-1", "status": "AUTHORIZED", "customerId": "c-1",
                                               "amountCents": 300}
    assert world.credit("c-1") == 700
    record = world.record("o-1")
    assert record is not None
    assert (record["status"], record["execution"], json.loads(record["items"])) == (
        "AUTHORIZED", arn, [{"customerId": "c-1", "amountCents": 300}])
    assert world.app.clients == (world.app.sfn, world.app.credit._ddb)


def test_a_duplicate_delivery_authorizes_once_and_answers_the_same(world: World) -> None:
    world.seed({"c-1": 1000})
    arn = world.start(pay("dup"))
    (record,) = world.receive()
    assert world.invoke([record, {**record, "messageId": "twin"}]) == set()
    assert world.wait(arn)["status"] == "SUCCEEDED"
    assert world.invoke([{**record, "messageId": "late-copy"}]) == set()  # after the execution ended
    assert world.credit("c-1") == 700


@pytest.mark.parametrize(("credits", "order", "error", "cause"), [
    ({"c-1": 100}, pay("o-2", amount=300), "PaymentDeclined",
     "customer 'c-1': 100 cents of credit available, 300 requested"),
    ({"c-1": 100}, pay("o-3", customer="nobody"), "UnknownCustomer", "customer 'nobody' has no credit account"),
    ({"c-1": 100}, pay("o-4", amount=0), "InvalidPayment", "amountCents must be a JSON integer >= 1 (cents), got 0"),
])
def test_rejections_fail_the_task_with_their_error_and_take_nothing(world: World, credits: dict[str, int],
                                                                    order: dict[str, Any], error: str,
                                                                    cause: str) -> None:
    world.seed(credits)
    arn = world.start(order)
    assert world.invoke(world.receive()) == set()
    described = world.wait(arn)
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", error, cause)
    assert world.credit("c-1") == credits["c-1"]
    if error != "InvalidPayment":  # a payment refused before any write is answered, not recorded
        record = world.record(order["orderId"])
        assert record is not None
        assert (record["status"], record["reason"], record["detail"]) == ("REJECTED", error, cause)


def void(arn: str, order: Any) -> dict[str, Any]:
    return {contract.ACTION: "void", contract.EXECUTION: arn, contract.WORK_ITEM: order}


def test_void_gives_back_exactly_once(world: World) -> None:
    world.seed({"c-1": 1000})
    arn = world.start(pay("o-v"), then="wait")
    assert world.invoke(world.receive()) == set()
    world.until_in_state(arn, "Hold")
    assert world.credit("c-1") == 700
    first, second = world.send(void(arn, pay("o-v"))), world.send(void(arn, pay("o-v")))
    assert world.invoke([first]) == set()
    assert world.invoke([second]) == set()
    assert world.credit("c-1") == 1000
    assert world.record("o-v")["status"] == "VOIDED"  # type: ignore[index]


def test_a_late_authorization_after_the_void_takes_nothing(world: World) -> None:
    """The execution was stopped; its void (as EventBridge sends it: the order as a JSON string) comes before its
    authorization's message, whose token is dead: the authorization takes nothing and is deleted."""
    world.seed({"c-1": 1000})
    arn = world.start(pay("o-late"))
    (late,) = world.receive()
    world.sfn.stop_execution(executionArn=arn)
    assert world.invoke([world.send(void(arn, json.dumps(pay("o-late"))))]) == set()
    assert world.record("o-late") == {"status": "VOIDED", "execution": arn}
    assert world.invoke([late]) == set()
    assert world.credit("c-1") == 1000
    assert world.record("o-late") == {"status": "VOIDED", "execution": arn}


def test_a_void_of_an_execution_that_succeeded_with_its_authorization_is_refused(world: World) -> None:
    world.seed({"c-1": 1000})
    arn = world.start(pay("o-kept"))
    assert world.invoke(world.receive()) == set()
    assert world.wait(arn)["status"] == "SUCCEEDED"
    assert world.invoke([world.send(void(arn, pay("o-kept")))]) == set()
    assert world.credit("c-1") == 700
    assert world.record("o-kept")["status"] == "AUTHORIZED"  # type: ignore[index]


def second_environment(world: World) -> Any:
    """Another Lambda environment of the same function: its own clients, ledger object and runtime."""
    app = world.app
    credit = Credit(boto3.client("dynamodb"), TABLE, fate=app.execution_fate)
    tasks = TaskClient(boto3.client("stepfunctions"), app.logger)
    runtime = CallbackRuntime(PaymentWorker(credit, tasks, app.logger).runtime_worker(), settings=app.settings,
                              logger=app.logger, tasks=tasks)
    return runtime.lambda_handler


def test_concurrent_authorizations_of_one_customer_never_exceed_the_credit(world: World) -> None:
    world.seed({"c-1": 1000})
    arns = [world.start(pay(f"c{i}", amount=100)) for i in range(30)]
    records = world.receive(30)
    handlers = [world.app.lambda_handler, second_environment(world)]
    failures: list[set[str]] = [set(), set()]

    def run(index: int, batch: list[dict[str, Any]]) -> None:
        for _ in range(20):  # a record sent back (unsettled holds, conflicts) comes again
            failed = world.invoke(batch, handlers[index])
            batch = [r for r in batch if r["messageId"] in failed]
            if not batch:
                return
        failures[index] = {r["messageId"] for r in batch}

    threads = [threading.Thread(target=run, args=(i, records[i::2])) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [set(), set()]
    ended = [world.wait(arn) for arn in arns]
    authorized = [e for e in ended if e["status"] == "SUCCEEDED"]
    declined = [e for e in ended if e["status"] == "FAILED"]
    assert (len(authorized), len(declined)) == (10, 20)
    assert {e["error"] for e in declined} == {"PaymentDeclined"}
    assert world.credit("c-1") == 0
    statuses = [r["status"] for r in ledger.read(world.ddb, TABLE, LAYOUT).records.values()]
    assert sorted(statuses) == ["AUTHORIZED"] * 10 + ["REJECTED"] * 20


def test_by_default_an_accepted_authorization_is_settled_at_once(world: World) -> None:
    world.seed({"c-1": 1000})
    first = world.start(pay("o-a", amount=100))
    assert world.invoke(world.receive()) == set()
    key = world.record("o-a")["hold"]  # type: ignore[index]
    assert world.wait(first)["status"] == "SUCCEEDED"
    world.start(pay("o-b", amount=100))
    assert world.invoke(world.receive()) == set()
    assert key not in world.held("c-1")  # settled when accepted: the next authorization removed its entry


def test_an_accepted_answer_whose_status_is_not_kept_leaves_its_hold_unsettled(order_world: World) -> None:
    world = order_world
    world.seed({"c-1": 1000})
    first = world.start(pay("o-a", amount=100), then="wait")
    assert world.invoke(world.receive()) == set()
    world.until_in_state(first, "Hold")
    key = world.record("o-a")["hold"]  # type: ignore[index]
    world.start(pay("o-b", amount=100), then="wait")
    assert world.invoke(world.receive()) == set()
    assert world.held("c-1")[key] == {"N": "100"}  # AUTHORIZED is not COMPLETED: the execution may still fail


def test_a_stopped_executions_hold_is_given_back_when_a_later_decision_needs_the_credit(order_world: World) -> None:
    world = order_world
    world.seed({"c-1": 100})
    stopped = world.start(pay("o-stopped", amount=100), then="wait")
    assert world.invoke(world.receive()) == set()
    world.until_in_state(stopped, "Hold")
    world.sfn.stop_execution(executionArn=stopped)  # and no void ever comes
    arn = world.start(pay("o-next", amount=100))
    assert world.invoke(world.receive()) == set()
    assert world.wait(arn)["status"] == "SUCCEEDED"
    assert world.record("o-stopped")["status"] == "VOIDED"  # type: ignore[index]
    assert world.record("o-next")["status"] == "AUTHORIZED"  # type: ignore[index]
    assert world.credit("c-1") == 0


def test_a_completed_executions_hold_is_kept_when_a_later_decision_needs_the_credit(order_world: World) -> None:
    world = order_world
    world.seed({"c-1": 100})
    completed = world.start(pay("o-done", amount=100), then="complete")
    assert world.invoke(world.receive()) == set()
    assert json.loads(world.wait(completed)["output"])["status"] == "COMPLETED"
    arn = world.start(pay("o-next", amount=100))
    assert world.invoke(world.receive()) == set()
    described = world.wait(arn)
    assert (described["status"], described["error"]) == ("FAILED", "PaymentDeclined")
    assert world.record("o-done")["status"] == "AUTHORIZED"  # type: ignore[index]
    assert world.credit("c-1") == 0


BIG = 10**38 - 1  # 38 digits: the largest amount DynamoDB stores exactly


@pytest.mark.parametrize(("order", "detail"), [
    ({"customerId": "c-1", "amountCents": 1}, "orderId must be 1-80 characters of letters, digits, '-' and '_'"),
    ({"orderId": "o", "amountCents": 1}, "customerId must be a string, got null"),
    ({"orderId": "o", "customerId": 7, "amountCents": 1}, "customerId must be a string, got number"),
    ({"orderId": "o", "customerId": ["c"], "amountCents": 1}, "customerId must be a string, got array"),
    ({"orderId": "o", "customerId": "", "amountCents": 1}, "customerId: a customer must not be empty"),
    ({"orderId": "o", "customerId": "c\ud800", "amountCents": 1},
     "customerId: a customer must be Unicode text that UTF-8 can encode (it holds a lone surrogate)"),
    ({"orderId": "o", "customerId": "c" * 2040, "amountCents": 1},
     "customerId: its key CUSTOMER#<customer> is 2049 bytes in UTF-8, over DynamoDB's partition key limit of 2048 "
     "bytes"),
    ({"orderId": "o", "customerId": "c-1"}, "amountCents must be a JSON integer >= 1 (cents), got null"),
    ({"orderId": "o", "customerId": "c-1", "amountCents": True}, "amountCents must be a JSON integer >= 1 (cents), "
                                                                 "got true"),
    ({"orderId": "o", "customerId": "c-1", "amountCents": 100.0}, "amountCents must be a JSON integer >= 1 (cents), "
                                                                  "got 100.0"),
    ({"orderId": "o", "customerId": "c-1", "amountCents": "100"}, "amountCents must be a JSON integer >= 1 (cents), "
                                                                  'got "100"'),
    ({"orderId": "o", "customerId": "c-1", "amountCents": 0}, "amountCents must be a JSON integer >= 1 (cents), "
                                                              "got 0"),
    ({"orderId": "o", "customerId": "c-1", "amountCents": -5}, "amountCents must be a JSON integer >= 1 (cents), "
                                                               "got -5"),
    ({"orderId": "o", "customerId": "c-1", "amountCents": BIG + 1},
     "amountCents must be at most 38 digits (a DynamoDB number holds 38 significant digits), got 39 digits"),
    ([1, 2], "the order must be a JSON object, got list"),
])
def test_invalid_payments_are_rejected_naming_the_key(order: Any, detail: str) -> None:
    from orderflow_runtime.runtime import Rejection
    from payment.requests import parse_payment

    with pytest.raises(Rejection) as raised:
        parse_payment(order)
    assert (raised.value.error, raised.value.cause) == ("InvalidPayment", detail)


def test_the_largest_payment_is_valid() -> None:
    from payment.requests import Payment, parse_payment

    customer = "c" * 2039  # CUSTOMER# + 2,039 bytes = 2,048
    assert parse_payment({"orderId": "o", "customerId": customer, "amountCents": BIG, "other": 1}) == Payment(
        "o", customer, BIG)


def test_an_invalid_payment_through_the_worker_takes_nothing(world: World) -> None:
    world.seed({"c-1": 100})
    arn = world.start({"orderId": "o-bad", "customerId": "c-1", "amountCents": BIG + 1})
    assert world.invoke(world.receive()) == set()
    described = world.wait(arn)
    assert (described["status"], described["error"]) == ("FAILED", "InvalidPayment")
    assert world.credit("c-1") == 100
