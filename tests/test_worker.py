"""The inventory worker against moto: the real handler on real SQS-shaped records from the real definition."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from handlers.inventory.orders import MAX_ITEMS, Rejection, parse_order
from tests.conftest import Emulated


def order(order_id: str, **items: int) -> dict[str, Any]:
    return {"orderId": order_id, "items": [{"sku": s, "quantity": q} for s, q in items.items()]}


def output(emulated: Emulated, arn: str) -> dict[str, Any]:
    desc = emulated.wait(arn)
    assert desc["status"] == "SUCCEEDED", desc
    return json.loads(desc["output"])


def throttle(client: Any, operation: str, when: str) -> None:
    """Make ``operation`` fail with ThrottlingException whenever its parameters mention ``when``."""
    service = client.meta.service_model.service_id.hyphenize()

    def hook(params: dict[str, Any], **_: Any) -> None:
        if when in json.dumps(params, default=str):
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"}}, operation)

    client.meta.events.register(f"before-call.{service}.{operation}", hook)


# One row per outcome: the order, the stock before, the answer, the stock after.
OUTCOMES = [
    (order("o-1", A=2, B=1), {"A": 5, "B": 1}, {"status": "RESERVED"}, {"A": 3, "B": 0}),
    (order("o-2", A=2, B=2), {"A": 5, "B": 1}, {"status": "REJECTED", "reason": "OutOfStock"}, {"A": 5, "B": 1}),
    (order("o-3", A=1, Z=1), {"A": 5}, {"status": "REJECTED", "reason": "UnknownSku"}, {"A": 5, "Z": None}),
    ({"orderId": "o-4", "items": [{"sku": "A", "quantity": "2"}]}, {"A": 5},
     {"status": "REJECTED", "reason": "InvalidOrder"}, {"A": 5}),
]


@pytest.mark.parametrize(("the_order", "before", "answer", "after"), OUTCOMES)
def test_each_outcome(emulated: Emulated, the_order: dict[str, Any], before: dict[str, int],
                      answer: dict[str, str], after: dict[str, int | None]) -> None:
    emulated.seed(before)
    arn = emulated.start(the_order, the_order["orderId"])
    assert emulated.invoke(emulated.receive()) == set()
    result = output(emulated, arn)
    assert {k: result[k] for k in answer} == answer
    if answer["status"] == "RESERVED":
        assert result == {"orderId": the_order["orderId"], "status": "RESERVED", "items": the_order["items"]}
    assert {sku: emulated.stock(sku) for sku in after} == after


def test_mixed_batch_reports_exactly_the_failed_records(emulated: Emulated) -> None:
    emulated.seed({"A": 10, "B": 0})
    ok = emulated.start(order("ok", A=1), "ok")
    oos = emulated.start(order("oos", B=1), "oos")
    slow = emulated.start(order("slow", A=2), "slow")
    emulated.sqs.send_message(QueueUrl=emulated.d.work_queue_url, MessageBody=json.dumps({"order": order("x", A=1)}))
    records = emulated.receive(4)
    throttle(emulated.module.stock._ddb, "TransactWriteItems", "ORDER#slow")
    by_body = {json.loads(r["body"]).get("order", {}).get("orderId"): r["messageId"] for r in records}
    assert emulated.invoke(records) == {by_body["slow"], by_body["x"]}
    assert output(emulated, ok)["status"] == "RESERVED"
    assert output(emulated, oos)["reason"] == "OutOfStock"
    assert emulated.sfn.describe_execution(executionArn=slow)["status"] == "RUNNING"
    assert emulated.stock("A") == 9


def test_duplicate_delivery_reserves_once_and_answers_the_same(emulated: Emulated) -> None:
    emulated.seed({"A": 5})
    arn = emulated.start(order("dup", A=2), "dup")
    (record,) = emulated.receive()
    twin = {**record, "messageId": "twin"}
    assert emulated.invoke([record, twin]) == set()
    assert output(emulated, arn)["status"] == "RESERVED"
    assert emulated.invoke([{**record, "messageId": "late-copy"}]) == set()  # after the execution ended
    assert emulated.stock("A") == 3
    assert emulated.reservation("dup")["status"]["S"] == "RESERVED"


def test_expired_token_releases_the_stock(fast_emulated: Emulated) -> None:
    fast_emulated.seed({"A": 5})
    arn = fast_emulated.start(order("late", A=4), "late")
    (record,) = fast_emulated.receive()
    assert fast_emulated.wait(arn, timeout=30)["status"] == "FAILED"  # heartbeat ran out: nobody answered
    assert fast_emulated.invoke([record]) == set()  # reserved, answer refused, released, message deleted
    assert fast_emulated.stock("A") == 5
    assert fast_emulated.reservation("late")["status"]["S"] == "RELEASED"
    assert fast_emulated.invoke([{**record, "messageId": "again"}]) == set()
    assert fast_emulated.stock("A") == 5


@pytest.mark.parametrize("body", ["not json", json.dumps({"order": order("p", A=1)}), json.dumps([1, 2]),
                                  json.dumps({"taskToken": "forged", "execution": "arn:aws:states:us-east-1:"
                                              "123456789012:execution:orderflow-dev-inventory:nope",
                                              "order": order("p", A=1)})])
def test_poison_message_ends_in_the_dlq(emulated: Emulated, body: str) -> None:
    emulated.seed({"A": 5})
    emulated.fail_until_dead_lettered(body)
    assert emulated.stock("A") == 5  # a forged token's reservation was given back


def test_stock_never_goes_negative_under_concurrent_orders(emulated: Emulated) -> None:
    emulated.seed({"A": 5})
    arns = [emulated.start(order(f"c{i}", A=1), f"c{i}") for i in range(12)]
    records = emulated.receive(12)
    assert emulated.invoke(records[:10]) == set()
    assert emulated.invoke(records[10:]) == set()
    statuses = sorted(output(emulated, a)["status"] for a in arns)
    assert statuses == ["REJECTED"] * 7 + ["RESERVED"] * 5
    assert emulated.stock("A") == 0


def crash(client: Any, operation: str) -> None:
    """The worker dies right before ``operation``: whatever it did before stays done, nothing after happens."""
    def hook(**_: Any) -> None:
        raise RuntimeError(f"injected crash before {operation}")

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-call.{service}.{operation}", hook, unique_id="test-crash")


def release_record(emulated: Emulated, arn: str) -> dict[str, Any]:
    """The failure path's release message for ``arn``."""
    assert emulated.wait(arn, timeout=30)["status"] == "FAILED"
    return emulated.receive_release(arn)


def test_failure_path_releases_what_a_crashed_worker_reserved(fast_emulated: Emulated) -> None:
    fast_emulated.seed({"A": 5})
    arn = fast_emulated.start(order("crashed", A=4), "crashed")
    (check,) = fast_emulated.receive()
    crash(fast_emulated.module.sfn, "SendTaskSuccess")
    assert fast_emulated.invoke([check]) == {check["messageId"]}  # reserved, then died before answering
    assert fast_emulated.stock("A") == 1
    fast_emulated.module.sfn.meta.events.unregister("before-call.sfn.SendTaskSuccess", unique_id="test-crash")
    assert fast_emulated.invoke([release_record(fast_emulated, arn)]) == set()
    assert fast_emulated.stock("A") == 5
    assert fast_emulated.reservation("crashed")["status"]["S"] == "RELEASED"
    assert fast_emulated.invoke([{**check, "messageId": "late"}]) == set()  # a late check reserves nothing
    assert fast_emulated.stock("A") == 5


def test_release_before_the_check_blocks_its_reservation(fast_emulated: Emulated) -> None:
    fast_emulated.seed({"A": 5})
    arn = fast_emulated.start(order("slow", A=4), "slow")
    (check,) = fast_emulated.receive()  # held past the heartbeat, as by a stalled worker
    assert fast_emulated.invoke([release_record(fast_emulated, arn)]) == set()
    assert fast_emulated.reservation("slow")["status"]["S"] == "RELEASED"
    assert fast_emulated.invoke([check]) == set()
    assert fast_emulated.stock("A") == 5


def test_release_is_refused_for_an_execution_that_kept_its_reservation(emulated: Emulated) -> None:
    emulated.seed({"A": 5})
    arn = emulated.start(order("kept", A=2), "kept")
    assert emulated.invoke(emulated.receive()) == set()
    assert output(emulated, arn)["status"] == "RESERVED"
    forged = {"action": "release", "order": order("kept", A=2), "execution": arn}
    emulated.sqs.send_message(QueueUrl=emulated.d.work_queue_url, MessageBody=json.dumps(forged))
    assert emulated.invoke(emulated.receive()) == set()
    assert emulated.stock("A") == 3
    assert emulated.reservation("kept")["status"]["S"] == "RESERVED"


@pytest.mark.parametrize("first_error", [
    ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"}}, "SendTaskHeartbeat"),
    EndpointConnectionError(endpoint_url="https://states.us-east-1.amazonaws.com"),
])
def test_heartbeat_survives_a_failed_beat(emulated: Emulated, first_error: Exception) -> None:
    beats: list[int] = []

    def beat(**_: Any) -> None:
        beats.append(1)
        if len(beats) == 1:
            raise first_error

    emulated.module.sfn.meta.events.register("before-call.sfn.SendTaskHeartbeat", beat)
    module = emulated.module
    with module.Heartbeat(lambda: module.beat("token"), 0.0, 1.0):  # the first beat fails; the next ones come
        deadline = time.time() + 30
        while len(beats) < 2 and time.time() < deadline:
            time.sleep(0.05)
    assert len(beats) >= 2


# One row per validation rule: the input and the named reason ("" when valid).
VALIDATION = [
    ({"orderId": "ok_1-A", "items": [{"sku": "A", "quantity": 1}], "note": "ignored"}, ""),
    ({"orderId": "x" * 80, "items": [{"sku": "A", "quantity": 1}]}, ""),
    ({"orderId": "x" * 81, "items": [{"sku": "A", "quantity": 1}]}, "orderId"),
    ({"orderId": "", "items": [{"sku": "A", "quantity": 1}]}, "orderId"),
    ({"orderId": "has space", "items": [{"sku": "A", "quantity": 1}]}, "orderId"),
    ({"orderId": 7, "items": [{"sku": "A", "quantity": 1}]}, "orderId"),
    ({"items": [{"sku": "A", "quantity": 1}]}, "orderId"),
    ({"orderId": "o", "items": []}, "items must be a list of 1 to 99"),
    ({"orderId": "o", "items": [{"sku": f"s{i}", "quantity": 1} for i in range(MAX_ITEMS)]}, ""),
    ({"orderId": "o", "items": [{"sku": f"s{i}", "quantity": 1} for i in range(MAX_ITEMS + 1)]}, "1 to 99"),
    ({"orderId": "o", "items": "A"}, "items must be a list"),
    ({"orderId": "o", "items": [{"sku": "", "quantity": 1}]}, "sku must be a non-empty string"),
    ({"orderId": "o", "items": [{"sku": "A", "quantity": 0}]}, "quantity must be a JSON integer >= 1"),
    ({"orderId": "o", "items": [{"sku": "A", "quantity": "2"}]}, "quantity must be a JSON integer >= 1"),
    ({"orderId": "o", "items": [{"sku": "A", "quantity": 1.5}]}, "quantity must be a JSON integer >= 1"),
    ({"orderId": "o", "items": [{"sku": "A", "quantity": True}]}, "quantity must be a JSON integer >= 1"),
    ({"orderId": "o", "items": [{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 2}]}, "more than once"),
    (["not", "an", "object"], "must be a JSON object"),
    ({"orderId": "o-1\n", "items": [{"sku": "A", "quantity": 1}]}, "orderId"),  # C06
    ({"orderId": "\no-1", "items": [{"sku": "A", "quantity": 1}]}, "orderId"),
    ({"orderId": "o-1\r\n", "items": [{"sku": "A", "quantity": 1}]}, "orderId"),
    ({"orderId": "o-\u0661", "items": [{"sku": "A", "quantity": 1}]}, "orderId"),  # an Arabic-Indic digit
    ({"orderId": "o", "items": [{"sku": "S" * 2044, "quantity": 1}]}, ""),  # SKU#<sku> = 2048 bytes
    ({"orderId": "o", "items": [{"sku": "S" * 2045, "quantity": 1}]}, "2045 bytes as UTF-8; at most 2044"),
    ({"orderId": "o", "items": [{"sku": "S" * 2100, "quantity": 1}]}, "at most 2044"),  # C04
    ({"orderId": "o", "items": [{"sku": "\u00e9" * 1022, "quantity": 1}]}, ""),  # 2 bytes each: 2044
    ({"orderId": "o", "items": [{"sku": "\u00e9" * 1023, "quantity": 1}]}, "2046 bytes as UTF-8"),
    ({"orderId": "o", "items": [{"sku": "\U0001f600" * 511, "quantity": 1}]}, ""),  # 4 bytes each: 2044
    ({"orderId": "o", "items": [{"sku": "\U0001f600" * 512, "quantity": 1}]}, "2048 bytes as UTF-8"),
    ({"orderId": "o", "items": [{"sku": "A\ud800", "quantity": 1}]}, "lone surrogate"),
    ({"orderId": "o", "items": [{"sku": "A", "quantity": 10**38 - 1}]}, ""),  # 38 digits
    ({"orderId": "o", "items": [{"sku": "A", "quantity": 10**38}]}, "at most 38 digits"),
    ({"orderId": "o", "items": [{"sku": "A", "quantity": 10**40 + 1}]}, "at most 38 digits"),  # C05
    ({"orderId": "o", "items": [{"sku": "A", "quantity": 10**126}]}, "at most 38 digits"),  # 1 digit, past 1E+126
]


@pytest.mark.parametrize(("data", "problem"), VALIDATION)
def test_order_validation(data: Any, problem: str) -> None:
    """Also the field cases C04 (sku over the key limit), C05 (quantity over 38 digits), C06 (``$`` before a
    final newline)."""
    if not problem:
        assert parse_order(data).order_id == data["orderId"]
        return
    with pytest.raises(Rejection) as rejection:
        parse_order(data)
    assert rejection.value.reason == "InvalidOrder"
    assert problem in rejection.value.detail
