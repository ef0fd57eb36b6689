"""Stock held by an unanswered reservation (handlers/inventory/holds.py): a decision that meets it gives it back
(the execution ended) or waits (it runs) instead of answering OutOfStock; the normal path stays two calls."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tests.conftest import Emulated
from tools.emulator import dynamodb_contention, moto_fixes
from tools.emulator.poller import LambdaContext, load_handler

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "handlers"))
from inventory import holds
from inventory.orders import Item, Order
from inventory.stock import Stock, TransientError

TABLE = "inventory"
LATENCY = 0.02
"""Seconds added to every call of the worker's clients: the benchmark's model of an AWS round trip."""


def slow(module: Any) -> None:
    def wait(**_: Any) -> None:
        time.sleep(LATENCY)
    for client in (module.sfn, module.stock._ddb):
        client.meta.events.register_first("before-send", wait)


def one(order_id: str, sku: str = "A", quantity: int = 1) -> dict[str, Any]:
    return {"orderId": order_id, "items": [{"sku": sku, "quantity": quantity}]}


def _run(emulated: Emulated, failed: dict[str, set[str]], label: str, handler: Any, record: dict[str, Any]) -> None:
    response = handler({"Records": [record]}, LambdaContext(emulated.d.function.name, 256, 3))
    failed[label] = {f["itemIdentifier"] for f in response["batchItemFailures"]}


def test_a_stopped_execution_waiting_on_the_queue_never_turns_a_live_order_away(emulated: Emulated) -> None:
    """Field case S1: X is stopped while its check waits; Y wants the same last unit. X's stale check and Y's check
    are handled at once by two environments (X first), every call taking 20 ms."""
    second, second_handler = load_handler(emulated.d.function)
    slow(emulated.module)
    slow(second)
    for n in range(3):
        emulated.seed({"A": 1})
        x = emulated.start(one(f"x-{n}"), f"x-{n}")
        (x_check,) = emulated.receive()
        emulated.sfn.stop_execution(executionArn=x, error="Cancelled", cause="the customer cancelled")
        y = emulated.start(one(f"y-{n}"), f"y-{n}")
        (y_check,) = emulated.receive()
        failed: dict[str, set[str]] = {}
        threads = [threading.Thread(target=_run, args=(emulated, failed, "x", emulated.handler, x_check)),
                   threading.Thread(target=_run, args=(emulated, failed, "y", second_handler, y_check))]
        threads[0].start()
        time.sleep(0.005)
        threads[1].start()
        for thread in threads:
            thread.join()
        assert failed == {"x": set(), "y": set()}
        assert json.loads(emulated.wait(y)["output"])["status"] == "RESERVED", n
        assert emulated.sfn.describe_execution(executionArn=x)["status"] == "ABORTED"
        assert emulated.stock("A") == 0
        assert emulated.reservation(f"x-{n}")["status"]["S"] != "RESERVED"


# -- the mechanism on moto's DynamoDB (AWS's condition and update semantics), each fate of the holder -----------------
@pytest.fixture
def table() -> Any:
    with mock_aws():
        moto_fixes.apply()
        dynamodb_contention.reset()
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        yield ddb


def put_sku(ddb: Any, sku: str, stock: int, held: dict[str, int] | None = None) -> None:
    item: dict[str, Any] = {"pk": {"S": f"SKU#{sku}"}, "stock": {"N": str(stock)}}
    if held is not None:
        item["held"] = {"M": {k: {"N": str(q)} for k, q in held.items()}}
    ddb.put_item(TableName=TABLE, Item=item)


def sku_item(ddb: Any, sku: str) -> dict[str, Any]:
    return ddb.get_item(TableName=TABLE, Key={"pk": {"S": f"SKU#{sku}"}}, ConsistentRead=True)["Item"]


def held(ddb: Any, sku: str) -> dict[str, int]:
    return {h.key: h.quantity for h in holds.holds_of(sku_item(ddb, sku)) or []}


def calls_of(ddb: Any) -> list[str]:
    seen: list[str] = []
    ddb.meta.events.register("before-call", lambda model, **_: seen.append(model.name))
    return seen


# One row per fate of the execution that holds the last unit -> Y's outcome, the stock after, X's record after.
FATES = [
    ("ended", ("RESERVED", ""), 0, "RELEASED"),      # stopped, timed out, failed: given back on its behalf
    ("kept", ("REJECTED", "OutOfStock"), 0, "RESERVED"),  # it succeeded with the unit: a true OutOfStock
    ("running", TransientError, 0, "RESERVED"),      # its answer may still be accepted: decided on a later delivery
]


@pytest.mark.parametrize(("fate", "expected", "stock_after", "x_record"), FATES, ids=[f[0] for f in FATES])
def test_a_short_sku_resolves_its_unanswered_reservations_first(table: Any, fate: str, expected: Any,
                                                                 stock_after: int, x_record: str) -> None:
    put_sku(table, "A", 1, {})
    asked: list[str] = []
    stock = Stock(table, TABLE, fate=lambda arn: asked.append(arn) or fate)
    x = stock.reserve(Order("x", (Item("A", 1),)), "exec-x")
    assert x.reserved and held(table, "A") == {x.hold: 1}
    stock.settled.end(x.hold)  # X's answer went out: its fate is Step Functions' to tell, not this environment's
    started = time.monotonic()
    if isinstance(expected, type):
        with pytest.raises(expected, match="unanswered reservation"):
            stock.reserve(Order("y", (Item("A", 1),)), "exec-y", deadline=time.monotonic() + 10.0)
        # waited about WAIT_SECONDS (not the whole invocation: that would hold the batch), then let SQS bring it back
        assert holds.Patience.WAIT_SECONDS <= time.monotonic() - started < 5.0
    else:
        y = stock.reserve(Order("y", (Item("A", 1),)), "exec-y")
        assert (y.status, y.reason) == expected
    assert "exec-x" in asked
    assert int(sku_item(table, "A")["stock"]["N"]) == stock_after
    record = table.get_item(TableName=TABLE, Key={"pk": {"S": "ORDER#x"}})["Item"]
    assert record["status"]["S"] == x_record
    if fate != "running":
        assert x.hold not in held(table, "A")  # settled: its entry is gone


def test_units_held_unanswered_that_cannot_make_up_the_difference_are_not_waited_for(table: Any) -> None:
    put_sku(table, "A", 1, {"other/abc123": 1})
    stock = Stock(table, TABLE, fate=lambda arn: pytest.fail("nothing to resolve: 1 + 1 < 3"))
    outcome = stock.reserve(Order("y", (Item("A", 3),)), "exec-y")
    assert (outcome.status, outcome.reason) == ("REJECTED", "OutOfStock")


def test_an_answered_reservation_is_removed_by_the_next_reservation_on_its_sku(table: Any) -> None:
    put_sku(table, "A", 5, {})
    stock = Stock(table, TABLE)
    first = stock.reserve(Order("o1", (Item("A", 1),)), "exec-1")
    stock.settled.add(["A"], first.hold)  # what the worker does once SendTaskSuccess is accepted
    seen = calls_of(table)
    second = stock.reserve(Order("o2", (Item("A", 2),)), "exec-2")
    assert seen == ["TransactWriteItems"]  # no call of its own
    assert held(table, "A") == {second.hold: 2}
    assert stock.settled.peek("A") == ()


def test_a_sku_item_without_the_map_gets_one_once(table: Any) -> None:
    put_sku(table, "A", 5)  # as another tool (or an older version) wrote it
    stock = Stock(table, TABLE)
    seen = calls_of(table)
    outcome = stock.reserve(Order("o1", (Item("A", 1),)), "exec-1")
    assert outcome.reserved and seen == ["TransactWriteItems", "UpdateItem", "TransactWriteItems"]
    assert held(table, "A") == {outcome.hold: 1}
    seen.clear()
    stock.reserve(Order("o2", (Item("A", 1),)), "exec-2")
    assert seen == ["TransactWriteItems"]


def test_a_full_map_is_resolved_before_the_reservation(table: Any) -> None:
    """Entries left by environments that ended before removing them: their records say they are settled."""
    stale = {f"gone-{i}/00000{i % 10}": 1 for i in range(holds.MAX_HELD)}
    put_sku(table, "A", 50, stale)
    stock = Stock(table, TABLE, fate=lambda arn: pytest.fail("no record holds them: nothing to ask"))
    outcome = stock.reserve(Order("o", (Item("A", 1),)), "exec")
    assert outcome.reserved
    left = held(table, "A")
    assert outcome.hold in left and len(left) < holds.MAX_HELD


def test_an_entry_whose_record_was_released_or_replaced_is_removed_without_asking(table: Any) -> None:
    put_sku(table, "A", 0, {"x/aaaaaa": 1, "z/bbbbbb": 1})
    table.put_item(TableName=TABLE, Item={"pk": {"S": "ORDER#x"}, "status": {"S": "RELEASED"},
                                          "execution": {"S": "exec-x"}, "hold": {"S": "x/aaaaaa"}})
    table.put_item(TableName=TABLE, Item={"pk": {"S": "ORDER#z"}, "status": {"S": "RESERVED"},
                                          "execution": {"S": "exec-z2"}, "hold": {"S": "z/cccccc"},
                                          "items": {"S": '[{"sku":"A","quantity":1}]'}})
    stock = Stock(table, TABLE, fate=lambda arn: pytest.fail(f"asked about {arn}"))
    outcome = stock.reserve(Order("y", (Item("A", 1),)), "exec-y")
    assert (outcome.status, outcome.reason) == ("REJECTED", "OutOfStock")
    assert held(table, "A") == {}


# -- the execution's fate, from DescribeExecution (botocore's real shapes) -------------------------------------------
def _description(status: str, output: dict[str, Any] | None = None) -> dict[str, Any]:
    base = {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:sm:x",
            "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:sm", "status": status,
            "startDate": 0}
    return {**base, **({"output": json.dumps(output)} if output else {})}


DESCRIBED = [
    ({"status": "RUNNING"}, "running"),
    ({"status": "SUCCEEDED", "output": {"status": "RESERVED", "items": []}}, "kept"),
    ({"status": "SUCCEEDED", "output": {"status": "REJECTED", "reason": "OutOfStock"}}, "ended"),
    ({"status": "ABORTED"}, "ended"),
    ({"status": "TIMED_OUT"}, "ended"),
    ({"status": "FAILED"}, "ended"),
    ({"error": "ExecutionDoesNotExist"}, "ended"),
    ({"error": "AccessDeniedException"}, "ended"),   # not an execution of this workflow
    ({"error": "ThrottlingException"}, "running"),   # unknown now: waited for, never given back
]


@pytest.mark.parametrize(("answer", "fate"), DESCRIBED, ids=[str(a) for a, _ in DESCRIBED])
def test_execution_fate(emulated: Emulated, answer: dict[str, Any], fate: str) -> None:
    client = botocore.session.get_session().create_client(
        "stepfunctions", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    stubber = Stubber(client)
    if "error" in answer:
        stubber.add_client_error("describe_execution", service_error_code=answer["error"], http_status_code=400)
    else:
        stubber.add_response("describe_execution", _description(answer["status"], answer.get("output")))
    module = emulated.module
    original, module.sfn = module.sfn, client
    try:
        with stubber:
            assert module.execution_fate("arn:aws:states:us-east-1:123456789012:execution:sm:x") == fate
    finally:
        module.sfn = original


def test_a_holder_this_environment_is_answering_is_waited_for_not_sent_back(table: Any) -> None:
    """X's answer is on its way from this environment (and Step Functions still reads X RUNNING): Y waits for it
    past WAIT_SECONDS, sees it accepted, and answers OutOfStock in the same invocation."""
    put_sku(table, "A", 1, {})
    stock = Stock(table, TABLE, fate=lambda arn: "running")
    x = stock.reserve(Order("x", (Item("A", 1),)), "exec-x")

    def answered() -> None:
        time.sleep(holds.Patience.WAIT_SECONDS + 0.5)
        stock.settled.add(["A"], x.hold)
        stock.settled.end(x.hold)

    threading.Thread(target=answered).start()
    y = stock.reserve(Order("y", (Item("A", 1),)), "exec-y", deadline=time.monotonic() + 10.0)
    assert (y.status, y.reason) == ("REJECTED", "OutOfStock")
    assert held(table, "A") == {}
