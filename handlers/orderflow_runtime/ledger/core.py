"""A ledger of counters in DynamoDB: holds taken atomically and idempotently per work item, given back once.

A counter is a number some work takes from (a sku's stock, a customer's credit); a work item takes from one or more
counters at once (an order's items; a payment's one customer) under its id. ``Layout`` (``ledger.layout``) says how
the table is keyed and what the answers are called; everything below is written for the inventory, where the ledger
was first built (counter = sku, work item = order, hold = reservation, ``RESERVED``/``RELEASED``,
``OutOfStock``/``UnknownSku``/``InvalidOrder``), and holds word for word for every layout (the payment's:
customer, payment, authorization, ``AUTHORIZED``/``VOIDED``, ``PaymentDeclined``/``UnknownCustomer``/
``InvalidPayment``).

Why a reservation record written in the same transaction, and not Powertools idempotency: the record
and the stock decrements commit together or not at all, so a crash at any point can neither reserve
twice nor leave stock taken without a record saying by whom. (An idempotency record stored beside the
work would leave an INPROGRESS window in which a crash after the decrement reserves again on retry.)

Table layout (inventory's ``Layout``; see ``ledger.layout``): ``pk = "SKU#<sku>"`` holds ``stock`` and ``held``
(the unanswered reservations, see below); ``pk = "ORDER#<orderId>"`` holds the order's result (``status``
RESERVED, REJECTED or RELEASED, ``items``, ``reason``, ``detail``, ``execution``, and ``hold``, a reservation's
key in ``held``).

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
(``inventory.orders``, ``inventory.limits``; the payment's ``payment.requests``); a ValidationException that still comes back from DynamoDB is an
InvalidOrder rejection, never a retry: the same request can only be refused again.

**Unanswered reservations** (see ``ledger.holds``): stock counts as held by an execution only once its
answer is accepted. Each reservation records itself on its skus' items (``held``) in the same transaction; a
decision that finds a sku short while unanswered reservations hold enough of it resolves them first (gives back
what an ended execution holds, waits for a running one) instead of answering OutOfStock.

**Contention** (see ``ledger.conflicts``): a cancelled transaction is an OutOfStock or UnknownSku answer
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
the default (``ledger.conflicts.CONFLICT_RETRY_ATTEMPTS``) is 20, bounded by the invocation's deadline. Turns
only for skus that conflicted keep a batch on quiet skus fully concurrent (taking turns always would serialize every batch sharing a sku, conflict or not).
FIFO per sku or sharded stock would change the deployed topology or every reader of the table; neither is
needed for a hot sku's one-item write rate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from botocore.exceptions import ClientError

from orderflow_runtime import limits
from orderflow_runtime.ledger import holds
from orderflow_runtime.ledger.conflicts import CONFLICT_RETRY_ATTEMPTS, Conflict, CounterLocks, Retry, is_conflict
from orderflow_runtime.ledger.holds import HELD, HOLD, MAX_HELD
from orderflow_runtime.ledger.layout import REJECTED, Layout
from orderflow_runtime.runtime import TransientError


@dataclass(frozen=True)
class Entry:
    """What a hold takes from one counter: ``amount`` units (an integer >= 1) of counter ``counter``."""

    counter: str
    amount: int


@dataclass(frozen=True)
class Claim:
    """A checked work item as the ledger takes it: its id (the record's key) and its entries (distinct counters,
    at most 99: one DynamoDB transaction holds 100 writes, one of them the record)."""

    work_id: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Outcome:
    """The recorded result for a work item; a redelivery answers with it again."""

    status: str
    entries: tuple[Entry, ...] = ()
    reason: str = ""
    detail: str = ""
    execution: str = ""
    work_id: str = ""
    hold: str = ""
    """The hold's entry key in its counters' ``held`` maps (``ledger.holds``); "" when nothing is held."""


OutcomeT = TypeVar("OutcomeT", bound=Outcome)
T = TypeVar("T")
_NEW = "attribute_not_exists(pk)"
_NEW_OR_RELEASED = "attribute_not_exists(pk) OR #s = :released"


class Ledger(Generic[OutcomeT]):
    """One ledger table's holds (see the module doc): ``client`` (a botocore DynamoDB client), ``table`` (its
    name), ``layout``; ``outcome_type`` (an ``Outcome`` subclass the ledger's answers are made of)."""

    def __init__(self, client: Any, table: str, layout: Layout, outcome_type: type[OutcomeT],
                 conflict_attempts: int = CONFLICT_RETRY_ATTEMPTS, fate: holds.Fate = lambda _: "running") -> None:
        """``fate``: an execution ARN -> ``"kept"``, ``"running"`` or ``"ended"`` (see ``ledger.holds``); the
        default knows nothing, so a decision that meets unanswered reservations waits, then retries later."""
        self._ddb = client
        self._table = table
        self.layout = layout
        self._outcome = outcome_type
        self.conflict_attempts = conflict_attempts
        self._locks = CounterLocks()
        self.settled = holds.Settled()
        self.resolver = holds.Resolver(client, table, layout, fate, self._release_recorded, self.settled)

    def holds(self, outcome: Outcome) -> bool:
        """Whether ``outcome`` records a hold (``layout.held_status``)."""
        return outcome.status == self.layout.held_status

    def take(self, claim: Claim, execution: str, *, over_released: bool = False,
             deadline: float | None = None) -> OutcomeT:
        """Take every entry or none, and record the result under the work item's id, in one transaction.

        ``over_released``: the work item's released record may be replaced (a fresh decision, see the module doc).
        ``deadline``: ``time.monotonic()`` value after which conflicts are no longer retried here, nor unanswered
        reservations waited for (``ledger.holds``).
        Returns the recorded Outcome (which may be another execution's, or released); raises TransientError.
        """
        counters = [entry.counter for entry in claim.entries]
        key = holds.new_key(claim.work_id)
        patience = holds.Patience(deadline)
        prepared: set[str] = set()
        while True:
            try:
                return self._settle(counters, deadline, lambda: self._take_once(claim, execution, over_released, key))
            except holds.Unprepared as missing:
                if missing.counter in prepared:
                    raise TransientError(f"{missing}, and giving it one did not hold") from missing
                prepared.add(missing.counter)
                self.resolver.prepare(missing.counter)
            except holds.Unsettled as unsettled:
                removed, local = self.resolver.resolve(unsettled.counter, unsettled.holds)
                if not (removed and patience.left()) and not patience.wait(local):
                    raise TransientError(f"{unsettled}; decided on a later delivery") from unsettled

    def _settle(self, counters: list[str], deadline: float | None, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` (hot counters taking turns), retrying conflicts; TransientError when they persist."""
        def turn() -> T:
            with self._locks.held(counters):
                try:
                    return attempt()
                except Conflict:
                    self._locks.heat(counters)
                    raise

        retry = Retry(self.conflict_attempts, lambda: deadline)
        try:
            return retry.run(turn)
        except Conflict as conflict:
            raise TransientError(f"write conflict after {retry.retried} retries: {conflict}") from conflict

    def _take_once(self, claim: Claim, execution: str, over_released: bool, key: str) -> OutcomeT:
        flushed = {entry.counter: self.settled.peek(entry.counter) for entry in claim.entries}
        writes = [self._take(entry, key, flushed[entry.counter]) for entry in claim.entries]
        writes.append({"Put": {
            "TableName": self._table,
            "Item": {**self.layout.record_key(claim.work_id), "status": {"S": self.layout.held_status},
                     "execution": {"S": execution}, "items": {"S": self.items_json(claim.entries)},
                     HOLD: {"S": key}},
            **self._record_condition(over_released),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }})
        try:
            self._ddb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            return self._cancelled(claim, execution, over_released, error)
        for counter, keys in flushed.items():
            self.settled.discard(counter, keys)
        self.settled.begin(key)
        return self._outcome(status=self.layout.held_status, entries=claim.entries, execution=execution,
                             work_id=claim.work_id, hold=key)

    def items_json(self, entries: tuple[Entry, ...]) -> str:
        """A record's ``items``: one ``{<counter key>: id, <amount key>: units}`` per entry (``layout.entry_keys``),
        JSON without ASCII escaping."""
        counter_key, amount_key = self.layout.entry_keys
        return limits.to_json([{counter_key: e.counter, amount_key: e.amount} for e in entries])

    def _cancelled(self, claim: Claim, execution: str, over_released: bool, error: ClientError) -> OutcomeT:
        if is_conflict(error):
            raise Conflict(_describe(error)) from error
        if error.response["Error"]["Code"] == "ValidationException":
            return self._refused(claim, execution, over_released, error)
        reasons = _cancellation_reasons(error)
        if reasons is None:
            raise error
        if reasons[-1].get("Code") == "ConditionalCheckFailed":
            old = reasons[-1].get("Item")
            return self._recorded_outcome(old, claim.work_id) if old else self.recorded(claim.work_id)
        if any(reason.get("Code") == "ValidationError" for reason in reasons):
            return self._refused(claim, execution, over_released, error)
        failed = [(entry, reason.get("Item")) for entry, reason in zip(claim.entries, reasons, strict=False)
                  if reason.get("Code") == "ConditionalCheckFailed"]
        for entry, old in failed:  # a counter that settles the answer, whatever the other counters hold
            rejection = self._rejection(entry, old)
            if rejection:
                return self.reject(claim.work_id, *rejection, execution, over_released)
        for entry, old in failed:  # short only by unanswered reservations, or their map needs room or creating
            self._unsettled(entry, old or {})
        if any(reason.get("Code") in ("TransactionConflict", "ConditionalCheckFailed") for reason in reasons):
            raise Conflict(_describe(error)) from error  # the counter read could serve: not a decision
        raise TransientError(f"transaction cancelled: {_describe(error)}") from error

    def _refused(self, claim: Claim, execution: str, over_released: bool, error: ClientError) -> OutcomeT:
        message = error.response.get("Error", {}).get("Message", "")
        detail = self.layout.refused_cause.format(message=message)[:limits.CAUSE_CHARS]
        return self.reject(claim.work_id, self.layout.invalid_error, detail, execution, over_released)

    def reject(self, work_id: str, reason: str, detail: str, execution: str, over_released: bool = False) -> OutcomeT:
        """Record a rejection (``reason``: its error name, ``detail``: its cause); keep the first one, so a
        redelivery after a restock still answers the same. Returns the recorded Outcome."""
        outcome = self._outcome(status=REJECTED, reason=reason, detail=detail, execution=execution, work_id=work_id)
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={**self.layout.record_key(work_id), "status": {"S": REJECTED}, "execution": {"S": execution},
                      "reason": {"S": reason}, "detail": {"S": detail}},
                **self._record_condition(over_released),
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ConditionalCheckFailedException":
                return self.recorded(work_id)
            if code == "TransactionConflictException":
                raise Conflict(_describe(error)) from error
            if code == "ValidationException":
                return outcome  # answered, not recorded: the same work item is refused the same way again
            raise
        return outcome

    def recorded(self, work_id: str) -> OutcomeT:
        """The work item's record as an Outcome (a strongly consistent read); TransientError when there is none."""
        item = self._ddb.get_item(TableName=self._table, Key=self.layout.record_key(work_id),
                                  ConsistentRead=True).get("Item")
        if item is None:
            raise TransientError(f"work item {work_id}: its record is not readable yet")
        return self._recorded_outcome(item, work_id)

    def give_back(self, work_id: str, entries: tuple[Entry, ...], execution: str,
                  deadline: float | None = None, hold: str = "") -> bool:
        """Give back what ``execution`` holds for the work item, once; False when it holds none now.
        ``hold``: the hold's entry key, when known: only that hold is given back."""
        counters = [entry.counter for entry in entries]
        released = self._settle(counters, deadline, lambda: self._give_back_once(work_id, entries, execution, hold))
        if released:
            self.settled.add(counters, hold)
        return released

    def _release_recorded(self, record: dict[str, Any]) -> bool:
        """Give back the hold a record (DynamoDB JSON) holds, for an execution that cannot use it."""
        outcome = self._recorded_outcome(record, record["pk"]["S"].removeprefix(self.layout.record_prefix))
        return self.give_back(outcome.work_id, outcome.entries, outcome.execution, hold=outcome.hold)

    def _give_back_once(self, work_id: str, entries: tuple[Entry, ...], execution: str, hold: str) -> bool:
        writes: list[dict[str, Any]] = [{"Update": {
            "TableName": self._table,
            "Key": self.layout.counter_key(entry.counter),
            "UpdateExpression": "SET #c = #c + :q",
            "ExpressionAttributeNames": {"#c": self.layout.counter_attribute},
            "ExpressionAttributeValues": {":q": {"N": str(entry.amount)}},
        }} for entry in entries]
        names = {"#s": "status", "#e": "execution", **({"#h": HOLD} if hold else {})}
        values = {":released": {"S": self.layout.released_status}, ":reserved": {"S": self.layout.held_status},
                  ":execution": {"S": execution}, **({":hold": {"S": hold}} if hold else {})}
        writes.append({"Update": {
            "TableName": self._table,
            "Key": self.layout.record_key(work_id),
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

    def abandon(self, work_id: str, execution: str, deadline: float | None = None) -> str:
        """For an execution on its failure path: give back its hold, or block one that has not happened (a
        released record). Returns ``"NOTHING_RESERVED"``, ``"OTHER_EXECUTION"``, the record's status when it holds
        nothing (``REJECTED``, or released already), ``"RELEASED"`` or ``"ALREADY_RELEASED"``."""
        try:
            self._settle([], deadline, lambda: self._tombstone(work_id, execution))
            return "NOTHING_RESERVED"
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        outcome = self.recorded(work_id)
        if outcome.execution != execution:
            return "OTHER_EXECUTION"  # the work item's record belongs to another execution: not ours to touch
        if not self.holds(outcome):
            return outcome.status  # REJECTED, or released already
        released = self.give_back(work_id, outcome.entries, execution, deadline, hold=outcome.hold)
        return "RELEASED" if released else "ALREADY_RELEASED"

    def _tombstone(self, work_id: str, execution: str) -> None:
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={**self.layout.record_key(work_id), "status": {"S": self.layout.released_status},
                      "execution": {"S": execution}},
                ConditionExpression=_NEW,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionConflictException":
                raise Conflict(_describe(error)) from error
            raise

    def _record_condition(self, over_released: bool) -> dict[str, Any]:
        if not over_released:
            return {"ConditionExpression": _NEW}
        return {"ConditionExpression": _NEW_OR_RELEASED, "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":released": {"S": self.layout.released_status}}}

    def _take(self, entry: Entry, key: str, flush: tuple[str, ...]) -> dict[str, Any]:
        """Take the entry's amount and record the hold ``key`` (``ledger.holds``); remove ``flush``, entries
        this environment saw settle."""
        remove = " REMOVE " + ", ".join(f"#h.#f{i}" for i in range(len(flush))) if flush else ""
        return {"Update": {
            "TableName": self._table,
            "Key": self.layout.counter_key(entry.counter),
            "UpdateExpression": f"SET #c = #c - :q, #h.#k = :q{remove}",
            "ConditionExpression": "attribute_exists(pk) AND #c >= :q AND attribute_exists(#h) "
                                   "AND size(#h) < :max",
            "ExpressionAttributeNames": {"#c": self.layout.counter_attribute, "#h": HELD, "#k": key,
                                         **{f"#f{i}": f for i, f in enumerate(flush)}},
            "ExpressionAttributeValues": {":q": {"N": str(entry.amount)}, ":max": {"N": str(MAX_HELD)}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }}

    def _recorded_outcome(self, item: dict[str, Any], work_id: str) -> OutcomeT:
        counter_key, amount_key = self.layout.entry_keys
        entries = tuple(Entry(i[counter_key], i[amount_key]) for i in json.loads(item["items"]["S"])) \
            if "items" in item else ()
        return self._outcome(
            status=item["status"]["S"],
            entries=entries,
            reason=item.get("reason", {}).get("S", ""),
            detail=item.get("detail", {}).get("S", ""),
            execution=item.get("execution", {}).get("S", ""),
            work_id=work_id,
            hold=item.get(HOLD, {}).get("S", ""),
        )

    def _value(self, old: dict[str, Any]) -> int:
        return int(old.get(self.layout.counter_attribute, {}).get("N", "0"))

    def _rejection(self, entry: Entry, old: dict[str, Any] | None) -> tuple[str, str] | None:
        """The answer (error name, cause) a failed condition on a counter item settles: unknown, or short when
        even every unit held by an unanswered reservation could not make up the difference (``ledger.holds``);
        else None."""
        layout = self.layout
        if old is None:
            return layout.unknown_error, layout.unknown_cause.format(noun=layout.counter_noun, counter=entry.counter)
        value = self._value(old)
        held = holds.holds_of(old) or []
        if value + sum(h.quantity for h in held) < entry.amount:
            return layout.short_error, layout.short_cause.format(noun=layout.counter_noun, counter=entry.counter,
                                                                 available=value, requested=entry.amount)
        return None

    def _unsettled(self, entry: Entry, old: dict[str, Any]) -> None:
        """Raise what keeps a counter item from deciding: no ``held`` map, a full one, or units held unanswered."""
        held = holds.holds_of(old)
        if held is None:
            raise holds.Unprepared(entry.counter)
        if self._value(old) < entry.amount:
            raise holds.Unsettled(entry.counter, held, short=True)
        if len(held) >= MAX_HELD:
            raise holds.Unsettled(entry.counter, held, short=False)


def _cancellation_reasons(error: ClientError) -> list[dict[str, Any]] | None:
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return None
    reasons = error.response.get("CancellationReasons")
    return list(reasons) if reasons else None


def _describe(error: ClientError) -> str:
    reasons = error.response.get("CancellationReasons")
    codes = f" {[r.get('Code') for r in reasons]}" if reasons else ""
    return f"{error.response['Error']['Code']}{codes}"
