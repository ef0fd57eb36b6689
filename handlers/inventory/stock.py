"""Stock reservations in DynamoDB, idempotent per order.

Why a reservation record written in the same transaction, and not Powertools idempotency: the record
and the stock decrements commit together or not at all, so a crash at any point can neither reserve
twice nor leave stock taken without a record saying by whom. (An idempotency record stored beside the
work would leave an INPROGRESS window in which a crash after the decrement reserves again on retry.)

Table layout: ``pk = "SKU#<sku>"`` holds ``stock`` and ``held`` (the unanswered reservations, see below);
``pk = "ORDER#<orderId>"`` holds the order's result (``status`` RESERVED, REJECTED or RELEASED, ``items``,
``reason``, ``detail``, ``execution``, and ``hold``, a reservation's key in ``held``).

**The order contract.** An order id identifies one order:
- an order already RESERVED or REJECTED gets that recorded answer, for any execution and at once
  (a duplicate delivery, a retried client, a second execution: nothing is reserved twice);
- an order whose attempt FAILED (its reservation released, or a RELEASED record left so that a late check of
  the dead execution reserves nothing) is decided afresh by the next check whose task token is live: a new
  execution for the order, or the same execution redriven (same execution ARN, new task token). "Live" is
  asked of Step Functions with one SendTaskHeartbeat (accepted = live), so a late delivery of the dead
  execution's own check (token refused) still reserves nothing and is deleted;
- no path waits on redelivery for something that cannot change: the only "decide later" left is a dead token
  whose execution still RUNS while this message's reservation is its own (the execution is between its failed
  task and its failure path, or was redriven); it ends with that execution, within its task timeout.

**Limits.** An order is checked against DynamoDB's and Step Functions' documented limits before any write
(``inventory.orders``, ``inventory.limits``); a ValidationException that still comes back from DynamoDB is an
InvalidOrder rejection, never a retry: the same request can only be refused again.

**Unanswered reservations** (see ``inventory.holds``): stock counts as held by an execution only once its
answer is accepted. Each reservation records itself on its skus' items (``held``) in the same transaction; a
decision that finds a sku short while unanswered reservations hold enough of it resolves them first (gives back
what an ended execution holds, waits for a running one) instead of answering OutOfStock.

**Contention** (see ``inventory.conflicts``): a cancelled transaction is an OutOfStock or UnknownSku answer
only when a cancellation reason says so with the item DynamoDB read in that decision (``ALL_OLD``): the sku
missing, or its stock, plus every unit unanswered reservations hold, below the quantity. A conflict is retried in the invocation (bounded, jittered,
deadline-aware), and the records of one environment touching a sku that conflicted take turns. Measured
with the racing harness of ``tests/test_worker_conflicts.py`` (60 one-unit orders on one sku stocked 40,
two environments handling batches of 10 at once, every transaction in flight 30 ms, AWS's conflict shape;
two runs each, 20 retries):

| handling | conflicts | records sent back to the queue | reserved / rejected | seconds |
|---|---|---|---|---|
| ``conflict_attempts=0`` (redelivery) | 39, 49 | 39, 49 (each waits a visibility timeout) | 21 / 0, 11 / 0 | 4.2, 3.5 |
| retries, records always concurrent | 282, 271 | 0, 0 | 40 / 20 | 6.7, 6.8 |
| retries, records on a common sku always in turn | 113, 193 | 0, 0 | 40 / 20 | 6.6, 6.3 |
| retries, turns once a sku conflicted (chosen) | 101, 165 | 0, 0 | 40 / 20 | 5.6, 5.5 |

With 10 retries, one record in some runs ran out of them (one environment in turn keeps the item busy), so
the default (``inventory.conflicts.CONFLICT_RETRY_ATTEMPTS``) is 20, bounded by the invocation's deadline. Turns
only for skus that conflicted keep a batch on quiet skus fully concurrent (taking turns always would serialize every batch sharing a sku, conflict or not).
FIFO per sku or sharded stock would change the deployed topology or every reader of the table; neither is
needed for a hot sku's one-item write rate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from orderflow_runtime.runtime import TransientError

from inventory import holds, limits
from inventory.conflicts import CONFLICT_RETRY_ATTEMPTS, Conflict, Retry, SkuLocks, is_conflict
from inventory.holds import HELD, HOLD, MAX_HELD
from inventory.orders import Item, Order, Rejection


@dataclass(frozen=True)
class Outcome:
    """The recorded result for an order; a redelivery answers with it again."""

    status: str
    items: tuple[Item, ...] = ()
    reason: str = ""
    detail: str = ""
    execution: str = ""
    order_id: str = ""
    hold: str = ""
    """The reservation's entry key in its skus' ``held`` maps (``inventory.holds``); "" when not reserved."""

    @property
    def reserved(self) -> bool:
        return self.status == "RESERVED"

    def output(self) -> str:
        """SendTaskSuccess output of a reserved order, JSON without ASCII escaping."""
        return Order(self.order_id, self.items).output()


def sku_key(sku: str) -> dict[str, Any]:
    return {"pk": {"S": f"SKU#{sku}"}}


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}}


T = TypeVar("T")
_NEW = "attribute_not_exists(pk)"
_NEW_OR_RELEASED = "attribute_not_exists(pk) OR #s = :released"


class Stock:
    def __init__(self, client: Any, table: str, conflict_attempts: int = CONFLICT_RETRY_ATTEMPTS,
                 fate: holds.Fate = lambda _: "running") -> None:
        """``fate``: an execution ARN -> ``"kept"``, ``"running"`` or ``"ended"`` (see ``inventory.holds``); the
        default knows nothing, so a decision that meets unanswered reservations waits, then retries later."""
        self._ddb = client
        self._table = table
        self.conflict_attempts = conflict_attempts
        self._locks = SkuLocks()
        self.settled = holds.Settled()
        self.resolver = holds.Resolver(client, table, fate, self._release_recorded, self.settled)

    def reserve(self, order: Order, execution: str, *, over_released: bool = False,
                deadline: float | None = None) -> Outcome:
        """Take every item or none, and record the result under the order id, in one transaction.

        ``over_released``: the order's RELEASED record may be replaced (a fresh decision, see the module doc).
        ``deadline``: ``time.monotonic()`` value after which conflicts are no longer retried here, nor unanswered
        reservations waited for (``inventory.holds``).
        Returns the recorded Outcome (which may be another execution's, or RELEASED); raises TransientError.
        """
        skus = [item.sku for item in order.items]
        key = holds.new_key(order.order_id)
        patience = holds.Patience(deadline)
        prepared: set[str] = set()
        while True:
            try:
                return self._settle(skus, deadline, lambda: self._reserve_once(order, execution, over_released, key))
            except holds.Unprepared as missing:
                if missing.sku in prepared:
                    raise TransientError(f"{missing}, and giving it one did not hold") from missing
                prepared.add(missing.sku)
                self.resolver.prepare(missing.sku)
            except holds.Unsettled as unsettled:
                removed, local = self.resolver.resolve(unsettled.sku, unsettled.holds)
                if not (removed and patience.left()) and not patience.wait(local):
                    raise TransientError(f"{unsettled}; decided on a later delivery") from unsettled

    def _settle(self, skus: list[str], deadline: float | None, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` (hot skus taking turns), retrying conflicts; TransientError when they persist."""
        def turn() -> T:
            with self._locks.held(skus):
                try:
                    return attempt()
                except Conflict:
                    self._locks.heat(skus)
                    raise

        retry = Retry(self.conflict_attempts, lambda: deadline)
        try:
            return retry.run(turn)
        except Conflict as conflict:
            raise TransientError(f"write conflict after {retry.retried} retries: {conflict}") from conflict

    def _reserve_once(self, order: Order, execution: str, over_released: bool, key: str) -> Outcome:
        flushed = {item.sku: self.settled.peek(item.sku) for item in order.items}
        writes = [self._take(item, key, flushed[item.sku]) for item in order.items]
        writes.append({"Put": {
            "TableName": self._table,
            "Item": {**order_key(order.order_id), "status": {"S": "RESERVED"}, "execution": {"S": execution},
                     "items": {"S": limits.to_json([i.as_json() for i in order.items])}, HOLD: {"S": key}},
            **self._order_condition(over_released),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }})
        try:
            self._ddb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            return self._cancelled(order, execution, over_released, error)
        for sku, keys in flushed.items():
            self.settled.discard(sku, keys)
        self.settled.begin(key)
        return Outcome(status="RESERVED", items=order.items, execution=execution, order_id=order.order_id, hold=key)

    def _cancelled(self, order: Order, execution: str, over_released: bool, error: ClientError) -> Outcome:
        if is_conflict(error):
            raise Conflict(_describe(error)) from error
        if error.response["Error"]["Code"] == "ValidationException":
            return self._refused(order, execution, over_released, error)
        reasons = _cancellation_reasons(error)
        if reasons is None:
            raise error
        if reasons[-1].get("Code") == "ConditionalCheckFailed":
            old = reasons[-1].get("Item")
            return _outcome(old, order.order_id) if old else self.recorded(order.order_id)
        if any(reason.get("Code") == "ValidationError" for reason in reasons):
            return self._refused(order, execution, over_released, error)
        failed = [(item, reason.get("Item")) for item, reason in zip(order.items, reasons, strict=False)
                  if reason.get("Code") == "ConditionalCheckFailed"]
        for item, old in failed:  # a sku that settles the answer, whatever the other skus hold
            rejection = _rejection(item, old)
            if rejection:
                return self.record_rejection(order, rejection, execution, over_released)
        for item, old in failed:  # short only by unanswered reservations, or their map needs room or creating
            _unsettled(item, old or {})
        if any(reason.get("Code") in ("TransactionConflict", "ConditionalCheckFailed") for reason in reasons):
            raise Conflict(_describe(error)) from error  # the stock read could serve: not a decision
        raise TransientError(f"transaction cancelled: {_describe(error)}") from error

    def _refused(self, order: Order, execution: str, over_released: bool, error: ClientError) -> Outcome:
        message = error.response.get("Error", {}).get("Message", "")
        rejection = Rejection("InvalidOrder", f"DynamoDB refused the order: {message}"[:limits.CAUSE_CHARS])
        return self.record_rejection(order, rejection, execution, over_released)

    def record_rejection(self, order: Order, rejection: Rejection, execution: str,
                         over_released: bool = False) -> Outcome:
        """Keep the first rejection, so a redelivery after a restock still answers the same."""
        outcome = Outcome(status="REJECTED", reason=rejection.reason, detail=rejection.detail, execution=execution,
                          order_id=order.order_id)
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={**order_key(order.order_id), "status": {"S": "REJECTED"}, "execution": {"S": execution},
                      "reason": {"S": rejection.reason}, "detail": {"S": rejection.detail}},
                **self._order_condition(over_released),
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ConditionalCheckFailedException":
                return self.recorded(order.order_id)
            if code == "TransactionConflictException":
                raise Conflict(_describe(error)) from error
            if code == "ValidationException":
                return outcome  # answered, not recorded: the same order is refused the same way again
            raise
        return outcome

    def recorded(self, order_id: str) -> Outcome:
        item = self._ddb.get_item(TableName=self._table, Key=order_key(order_id), ConsistentRead=True).get("Item")
        if item is None:
            raise TransientError(f"order {order_id}: reservation record not readable yet")
        return _outcome(item, order_id)

    def release(self, order_id: str, items: tuple[Item, ...], execution: str,
                deadline: float | None = None, hold: str = "") -> bool:
        """Give back the stock ``execution`` reserved for the order, once; False when it holds none now.
        ``hold``: the reservation's entry key, when known: only that reservation is given back."""
        skus = [item.sku for item in items]
        released = self._settle(skus, deadline, lambda: self._release_once(order_id, items, execution, hold))
        if released:
            self.settled.add(skus, hold)
        return released

    def _release_recorded(self, record: dict[str, Any]) -> bool:
        """Give back the reservation a record (DynamoDB JSON) holds, for an execution that cannot use it."""
        outcome = _outcome(record, record["pk"]["S"].removeprefix("ORDER#"))
        return self.release(outcome.order_id, outcome.items, outcome.execution, hold=outcome.hold)

    def _release_once(self, order_id: str, items: tuple[Item, ...], execution: str, hold: str) -> bool:
        writes: list[dict[str, Any]] = [{"Update": {
            "TableName": self._table,
            "Key": sku_key(item.sku),
            "UpdateExpression": "SET stock = stock + :q",
            "ExpressionAttributeValues": {":q": {"N": str(item.quantity)}},
        }} for item in items]
        names = {"#s": "status", "#e": "execution", **({"#h": HOLD} if hold else {})}
        values = {":released": {"S": "RELEASED"}, ":reserved": {"S": "RESERVED"}, ":execution": {"S": execution},
                  **({":hold": {"S": hold}} if hold else {})}
        writes.append({"Update": {
            "TableName": self._table,
            "Key": order_key(order_id),
            "UpdateExpression": "SET #s = :released",
            "ConditionExpression": "#s = :reserved AND #e = :execution" + (" AND #h = :hold" if hold else ""),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }})
        try:
            self._ddb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if is_conflict(error):
                raise Conflict(_describe(error)) from error
            reasons = _cancellation_reasons(error)
            if reasons is not None and reasons[-1].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True

    def abandon(self, order_id: str, execution: str, deadline: float | None = None) -> str:
        """For an execution on its failure path: release its reservation, or block one that has not happened."""
        try:
            self._settle([], deadline, lambda: self._tombstone(order_id, execution))
            return "NOTHING_RESERVED"
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        outcome = self.recorded(order_id)
        if outcome.execution != execution:
            return "OTHER_EXECUTION"  # the order id's record belongs to another execution: not ours to touch
        if not outcome.reserved:
            return outcome.status  # REJECTED, or RELEASED already
        released = self.release(order_id, outcome.items, execution, deadline, hold=outcome.hold)
        return "RELEASED" if released else "ALREADY_RELEASED"

    def _tombstone(self, order_id: str, execution: str) -> None:
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={**order_key(order_id), "status": {"S": "RELEASED"}, "execution": {"S": execution}},
                ConditionExpression=_NEW,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionConflictException":
                raise Conflict(_describe(error)) from error
            raise

    def _order_condition(self, over_released: bool) -> dict[str, Any]:
        if not over_released:
            return {"ConditionExpression": _NEW}
        return {"ConditionExpression": _NEW_OR_RELEASED, "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":released": {"S": "RELEASED"}}}

    def _take(self, item: Item, key: str, flush: tuple[str, ...]) -> dict[str, Any]:
        """Take the item's quantity and record the hold ``key`` (``inventory.holds``); remove ``flush``, entries
        this environment saw settle."""
        remove = " REMOVE " + ", ".join(f"#h.#f{i}" for i in range(len(flush))) if flush else ""
        return {"Update": {
            "TableName": self._table,
            "Key": sku_key(item.sku),
            "UpdateExpression": f"SET stock = stock - :q, #h.#k = :q{remove}",
            "ConditionExpression": "attribute_exists(pk) AND stock >= :q AND attribute_exists(#h) "
                                   "AND size(#h) < :max",
            "ExpressionAttributeNames": {"#h": HELD, "#k": key, **{f"#f{i}": f for i, f in enumerate(flush)}},
            "ExpressionAttributeValues": {":q": {"N": str(item.quantity)}, ":max": {"N": str(MAX_HELD)}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }}


def _outcome(item: dict[str, Any], order_id: str) -> Outcome:
    items = tuple(Item(**i) for i in json.loads(item["items"]["S"])) if "items" in item else ()
    return Outcome(
        status=item["status"]["S"],
        items=items,
        reason=item.get("reason", {}).get("S", ""),
        detail=item.get("detail", {}).get("S", ""),
        execution=item.get("execution", {}).get("S", ""),
        order_id=order_id,
        hold=item.get(HOLD, {}).get("S", ""),
    )


def _rejection(item: Item, old: dict[str, Any] | None) -> Rejection | None:
    """The answer a failed condition on a sku item settles: UnknownSku, or OutOfStock when even every unit held by
    an unanswered reservation could not make up the difference (``inventory.holds``); else None."""
    if old is None:
        return Rejection("UnknownSku", f"sku {item.sku!r} is not in the inventory")
    stock = int(old.get("stock", {}).get("N", "0"))
    held = holds.holds_of(old) or []
    if stock + sum(h.quantity for h in held) < item.quantity:
        return Rejection("OutOfStock", f"sku {item.sku!r}: {stock} left, {item.quantity} requested")
    return None


def _unsettled(item: Item, old: dict[str, Any]) -> None:
    """Raise what keeps a sku item from deciding: no ``held`` map, a full one, or units held unanswered."""
    held = holds.holds_of(old)
    if held is None:
        raise holds.Unprepared(item.sku)
    if int(old.get("stock", {}).get("N", "0")) < item.quantity:
        raise holds.Unsettled(item.sku, held, short=True)
    if len(held) >= MAX_HELD:
        raise holds.Unsettled(item.sku, held, short=False)


def _cancellation_reasons(error: ClientError) -> list[dict[str, Any]] | None:
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return None
    reasons = error.response.get("CancellationReasons")
    return list(reasons) if reasons else None


def _describe(error: ClientError) -> str:
    reasons = error.response.get("CancellationReasons")
    codes = f" {[r.get('Code') for r in reasons]}" if reasons else ""
    return f"{error.response['Error']['Code']}{codes}"
