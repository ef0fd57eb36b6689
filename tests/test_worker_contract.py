"""The order contract (inventory.stock): one order id, one order; a failed attempt is decided afresh.

Field cases C10 (a new execution for an order whose first execution failed) and W2 (the same execution
redriven: same ARN, new task token; moto has no RedriveExecution, so the state it leaves is built directly).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import Emulated


def order(order_id: str, **items: int) -> dict[str, Any]:
    return {"orderId": order_id, "items": [{"sku": s, "quantity": q} for s, q in items.items()]}


def answered(emulated: Emulated, arn: str) -> dict[str, Any]:
    desc = emulated.wait(arn)
    assert desc["status"] == "SUCCEEDED", desc
    return dict(json.loads(desc["output"]))


def first_reserved(e: Emulated) -> str:
    arn = e.start(order("o-c", A=2), "first")
    assert e.invoke(e.receive()) == set()
    return arn


def first_rejected(e: Emulated) -> str:
    e.seed({"A": 1})
    arn = e.start(order("o-c", A=2), "first")
    assert e.invoke(e.receive()) == set()
    e.seed({"A": 5})  # restocked: the recorded answer still holds
    return arn


def first_released(e: Emulated) -> str:
    """The first execution's failure path released the order (its record says RELEASED)."""
    arn = "arn:aws:states:us-east-1:123456789012:execution:orderflow-dev-inventory:first"
    e.ddb.put_item(TableName=e.d.table, Item={"pk": {"S": "ORDER#o-c"}, "status": {"S": "RELEASED"},
                                              "execution": {"S": arn}})
    return arn


# One row per recorded state of the order: what a second execution for it is answered, and the stock after.
SECOND_EXECUTION = [
    ("reserved", first_reserved, {"status": "RESERVED"}, 3),
    ("rejected", first_rejected, {"status": "REJECTED", "reason": "OutOfStock"}, 5),
    ("released", first_released, {"status": "RESERVED"}, 3),
]


@pytest.mark.parametrize(("name", "first", "answer", "stock_after"), SECOND_EXECUTION,
                         ids=[row[0] for row in SECOND_EXECUTION])
def test_a_second_execution_for_an_order(emulated: Emulated, name: str, first: Any, answer: dict[str, str],
                                         stock_after: int) -> None:
    emulated.seed({"A": 5})
    first(emulated)
    second = emulated.start(order("o-c", A=2), "second")
    (record,) = emulated.receive()
    assert emulated.invoke([record]) == set()  # answered at once, never "decide later"
    result = answered(emulated, second)
    assert {k: result[k] for k in answer} == answer
    assert emulated.stock("A") == stock_after
    if answer["status"] == "RESERVED" and name == "released":
        assert emulated.reservation("o-c")["execution"]["S"] == second  # type: ignore[index]


def test_w2_redriven_execution_is_decided_afresh(emulated: Emulated) -> None:
    """The record says RELEASED by execution X, and X runs again in Check Inventory with a new, live token."""
    emulated.seed({"A": 5})
    arn = emulated.start(order("o-redrive", A=2), "o-redrive")
    emulated.ddb.put_item(TableName=emulated.d.table, Item={"pk": {"S": "ORDER#o-redrive"},
                                                            "status": {"S": "RELEASED"}, "execution": {"S": arn}})
    (record,) = emulated.receive()
    assert emulated.invoke([record]) == set()
    assert answered(emulated, arn)["status"] == "RESERVED"
    assert emulated.stock("A") == 3
    assert emulated.reservation("o-redrive")["status"]["S"] == "RESERVED"  # type: ignore[index]


def test_a_late_check_of_a_released_execution_reserves_nothing(emulated: Emulated) -> None:
    """Same ARN, but the token is dead (the task was answered): a stale copy, deleted, nothing reserved."""
    emulated.seed({"A": 5})
    arn = emulated.start(order("o-late", A=2), "o-late")
    (record,) = emulated.receive()
    emulated.sfn.send_task_failure(taskToken=json.loads(record["body"])["taskToken"], error="Boom", cause="x")
    assert emulated.wait(arn)["status"] == "FAILED"
    emulated.ddb.put_item(TableName=emulated.d.table, Item={"pk": {"S": "ORDER#o-late"},
                                                            "status": {"S": "RELEASED"}, "execution": {"S": arn}})
    assert emulated.invoke([record]) == set()
    assert emulated.stock("A") == 5
    assert emulated.reservation("o-late")["status"]["S"] == "RELEASED"  # type: ignore[index]


def check_of(e: Emulated, arn: str) -> dict[str, Any]:
    """The check message of execution ``arn`` (other messages are left in flight)."""
    deadline = time.time() + 20
    while time.time() < deadline:
        for record in e.receive(count=1, timeout=20):
            if json.loads(record["body"]).get("execution") == arn:
                return record
    raise AssertionError(f"no check message for {arn}")


def test_c10_retry_after_a_failed_execution_is_reserved(fast_emulated: Emulated) -> None:
    """C10: attempt 1's only delivery is lost, it fails on its heartbeat and is released; attempt 2 reserves."""
    e = fast_emulated
    e.seed({"A": 5})
    first = e.start(order("r-1", A=1), "r-1-attempt-1")
    e.receive()  # lost: nobody answers or beats
    assert e.wait(first, timeout=60)["status"] == "FAILED"
    assert e.invoke([e.receive_release(first)]) == set()
    assert e.reservation("r-1")["status"]["S"] == "RELEASED"  # type: ignore[index]
    second = e.start(order("r-1", A=1), "r-1-attempt-2")
    assert e.invoke([check_of(e, second)]) == set()
    assert answered(e, second)["status"] == "RESERVED"
    assert e.stock("A") == 4
