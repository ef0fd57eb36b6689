"""The worker under contention: DynamoDB's conflict errors, in botocore's real shapes, and threads racing.

``InFlight`` plays AWS's rule on moto-backed clients (moto has no conflicts): a TransactWriteItems holds its
items for a service time; another transaction touching one of them meanwhile is cancelled with
``TransactionCanceledException`` (``TransactionConflict`` at that item's index, ``None`` elsewhere) and a plain
write to one gets ``TransactionConflictException``
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.conftest import Emulated
from tools.emulator.poller import LambdaContext, load_handler

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "handlers"))
from inventory.orders import Item, Order
from inventory.stock import Stock, TransientError

CONFLICT_MESSAGE = "Transaction is ongoing for the item"


def cancelled(*codes: str, items: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A TransactionCanceledException as botocore parses it: one reason per item, in order."""
    reasons: list[dict[str, Any]] = []
    for index, code in enumerate(codes):
        reason: dict[str, Any] = {"Code": code}
        if code == "TransactionConflict":
            reason["Message"] = CONFLICT_MESSAGE
        elif code == "ConditionalCheckFailed":
            reason["Message"] = "The conditional request failed"
        if items and index in items:
            reason["Item"] = items[index]
        reasons.append(reason)
    return {"service_error_code": "TransactionCanceledException", "http_status_code": 400,
            "service_message": f"Transaction cancelled, please refer cancellation reasons for specific reasons "
                               f"[{', '.join(codes)}]", "modeled_fields": {"CancellationReasons": reasons}}


OK: dict[str, Any] = {}
VALIDATION = {"service_error_code": "ValidationException", "http_status_code": 400,
              "service_message": "One or more parameter values were invalid: Size of hashkey has exceeded the "
                                 "maximum size limit of 2048 bytes"}
PLAIN_CONFLICT = {"service_error_code": "TransactionConflictException", "http_status_code": 400,
                  "service_message": "Transaction is ongoing for the item"}
STOCK_1 = {"pk": {"S": "SKU#A"}, "stock": {"N": "1"}, "held": {"M": {}}}
STOCK_5 = {"pk": {"S": "SKU#A"}, "stock": {"N": "5"}, "held": {"M": {}}}
OTHER = {"pk": {"S": "ORDER#o"}, "status": {"S": "RESERVED"}, "execution": {"S": "other"},
         "items": {"S": '[{"sku":"A","quantity":2}]'}}

# One row per sequence of DynamoDB answers (operation, error or OK) -> outcome (status, reason) or the error.
SEQUENCES = [
    ("conflict-then-ok", 10, [("transact_write_items", cancelled("TransactionConflict", "None")),
                              ("transact_write_items", OK)], ("RESERVED", "")),
    ("no-retries", 0, [("transact_write_items", cancelled("TransactionConflict", "None"))], TransientError),
    ("retries-run-out", 2, [("transact_write_items", cancelled("TransactionConflict", "None"))] * 3,
     TransientError),
    ("conflict-on-the-record", 10, [("transact_write_items", cancelled("None", "TransactionConflict")),
                                    ("transact_write_items", OK)], ("RESERVED", "")),
    ("out-of-stock", 10, [("transact_write_items", cancelled("ConditionalCheckFailed", "None", items={0: STOCK_1})),
                          ("put_item", OK)], ("REJECTED", "OutOfStock")),
    ("read-could-serve", 10, [("transact_write_items",
                               cancelled("ConditionalCheckFailed", "TransactionConflict", items={0: STOCK_5})),
                              ("transact_write_items", OK)], ("RESERVED", "")),
    ("unknown-sku", 10, [("transact_write_items", cancelled("ConditionalCheckFailed", "None")),
                         ("put_item", OK)], ("REJECTED", "UnknownSku")),
    ("recorded-elsewhere", 10, [("transact_write_items",
                                 cancelled("TransactionConflict", "ConditionalCheckFailed", items={1: OTHER}))],
     ("RESERVED", "")),
    ("rejection-write-conflict", 10,
     [("transact_write_items", cancelled("ConditionalCheckFailed", "None", items={0: STOCK_1})),
      ("put_item", PLAIN_CONFLICT), ("transact_write_items", OK)], ("RESERVED", "")),
    ("validation", 10, [("transact_write_items", VALIDATION), ("put_item", OK)], ("REJECTED", "InvalidOrder")),
]


@pytest.mark.parametrize(("name", "attempts", "answers", "expected"), SEQUENCES, ids=[r[0] for r in SEQUENCES])
def test_conflict_shapes(name: str, attempts: int, answers: list[tuple[str, dict[str, Any]]],
                         expected: Any) -> None:
    client = botocore.session.get_session().create_client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    stubber = Stubber(client)
    for operation, answer in answers:
        if answer is OK:
            stubber.add_response(operation, {})
        else:
            stubber.add_client_error(operation, **answer)
    stock = Stock(client, "inventory", conflict_attempts=attempts)
    with stubber:
        if isinstance(expected, type):
            with pytest.raises(expected):
                stock.reserve(Order("o", (Item("A", 2),)), "mine")
        else:
            outcome = stock.reserve(Order("o", (Item("A", 2),)), "mine")
            assert (outcome.status, outcome.reason) == expected
        stubber.assert_no_pending_responses()


class InFlight:
    """AWS's conflict rule, played with hooks on moto-backed DynamoDB clients (see the module doc)."""

    def __init__(self, hold_seconds: float) -> None:
        self._hold = hold_seconds
        self._lock = threading.Lock()
        self._busy: Counter[str] = Counter()
        self.cancelled = 0

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", self._begin)
        client.meta.events.register("after-call.dynamodb.TransactWriteItems", self._end)
        client.meta.events.register("before-parameter-build.dynamodb.PutItem", self._plain)

    @staticmethod
    def _keys(params: dict[str, Any]) -> list[str]:
        keys = []
        for entry in params["TransactItems"]:
            (operation,) = entry.values()
            key = operation.get("Key") or {"pk": operation["Item"]["pk"]}
            keys.append(key["pk"]["S"])
        return keys

    def _begin(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        keys = self._keys(params)
        with self._lock:
            codes = ["TransactionConflict" if self._busy[k] else "None" for k in keys]
            if "TransactionConflict" not in codes:
                self._busy.update(keys)
                context["in_flight"] = keys
        if "in_flight" not in context:
            self.cancelled += 1
            reasons = [{"Code": c, "Message": CONFLICT_MESSAGE} if c != "None" else {"Code": c} for c in codes]
            raise ClientError({"Error": {"Code": "TransactionCanceledException",
                                         "Message": f"Transaction cancelled, please refer cancellation reasons "
                                                    f"for specific reasons [{', '.join(codes)}]"},
                               "CancellationReasons": reasons}, "TransactWriteItems")
        time.sleep(self._hold)  # the service time: the items stay in flight meanwhile

    def _end(self, context: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self._busy.subtract(context.pop("in_flight", []))

    def _plain(self, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            busy = self._busy[params["Item"]["pk"]["S"]] > 0
        if busy:
            raise ClientError({"Error": {"Code": "TransactionConflictException", "Message": CONFLICT_MESSAGE}},
                              "PutItem")


def race(emulated: Emulated, attempts: int, orders: int, stock: int) -> tuple[InFlight, set[str], list[Any]]:
    """``orders`` orders of one unit of the hot sku H, in batches of 10 split over two environments at once."""
    emulated.seed({"H": stock})
    second, second_handler = load_handler(emulated.d.function)
    envs = [(emulated.module, emulated.handler), (second, second_handler)]
    in_flight = InFlight(hold_seconds=0.03)
    for module, _ in envs:
        module.stock.conflict_attempts = attempts
        in_flight.attach(module.stock._ddb)
    arns = [emulated.start({"orderId": f"h{i}", "items": [{"sku": "H", "quantity": 1}]}, f"h{i}")
            for i in range(orders)]
    records = emulated.receive(orders)
    failed: set[str] = set()

    def run(env: int) -> None:
        _, handler = envs[env]
        mine = records[env::2]
        for start in range(0, len(mine), 10):
            response = handler({"Records": mine[start:start + 10]}, LambdaContext("worker", 256, 60))
            failed.update(f["itemIdentifier"] for f in response["batchItemFailures"])

    threads = [threading.Thread(target=run, args=(env,)) for env in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return in_flight, failed, arns


def recorded(emulated: Emulated, orders: int) -> Counter[str]:
    return Counter(emulated.reservation(f"h{i}")["status"]["S"] for i in range(orders)  # type: ignore[index]
                   if emulated.reservation(f"h{i}") is not None)


def test_racing_on_a_hot_sku_retries_in_place(emulated: Emulated) -> None:
    in_flight, failed, arns = race(emulated, attempts=20, orders=40, stock=25)
    assert in_flight.cancelled > 0  # the two environments did collide
    assert failed == set()  # every conflict was settled within the invocation
    assert recorded(emulated, 40) == {"RESERVED": 25, "REJECTED": 15}
    assert emulated.stock("H") == 0
    for arn in arns:
        result = json.loads(emulated.wait(arn)["output"])
        assert result["status"] in ("RESERVED", "REJECTED")
    causes = {emulated.reservation(f"h{i}")["detail"]["S"] for i in range(40)  # type: ignore[index]
              if emulated.reservation(f"h{i}")["status"]["S"] == "REJECTED"}  # type: ignore[index]
    assert causes == {"sku 'H': 0 left, 1 requested"}  # the stock read in that decision could not serve


def test_without_retries_a_conflict_is_redelivered_and_nothing_is_lost(emulated: Emulated) -> None:
    in_flight, failed, _ = race(emulated, attempts=0, orders=40, stock=25)
    assert in_flight.cancelled > 0
    assert len(failed) == in_flight.cancelled  # each conflict fails its record: SQS brings it back
    statuses = recorded(emulated, 40)
    assert statuses["RESERVED"] + statuses["REJECTED"] == 40 - len(failed)
    assert emulated.stock("H") == 25 - statuses["RESERVED"]


def test_only_a_sku_that_conflicted_takes_turns() -> None:
    from inventory.conflicts import SkuLocks
    locks = SkuLocks()
    with locks.held(["A", "B"]):
        assert locks._locks == {}  # quiet skus: no lock taken, records stay concurrent
    locks.heat(["B"])
    with locks.held(["A", "B"]):
        assert set(locks._locks) == {"B"} and locks._locks["B"].locked()
    assert not locks._locks["B"].locked()


@pytest.mark.parametrize(("attempts", "deadline_in", "calls"), [
    (3, None, 4),     # no deadline: every retry is made
    (3, 3600.0, 4),
    (3, 0.0, 1),      # the invocation's time is up: no retry, the record goes back to the queue
    (0, None, 1),
])
def test_retries_are_bounded_by_count_and_deadline(attempts: int, deadline_in: float | None, calls: int) -> None:
    from inventory.conflicts import Conflict, Retry
    made: list[int] = []

    def conflict() -> None:
        made.append(1)
        raise Conflict("TransactionConflict")

    deadline = None if deadline_in is None else time.monotonic() + deadline_in
    with pytest.raises(Conflict):
        Retry(attempts, lambda: deadline, sleep=lambda _: None).run(conflict)
    assert len(made) == calls
