"""Unanswered reservations (holds): a counter's units count as held by an execution only once its answer is accepted.

Written for the inventory (a counter is a sku's stock, a hold a reservation) and kept in its words below; every
ledger (``orderflow_runtime.ledger``) holds the same way: a customer's credit taken by a payment authorization is
a hold on the customer's counter until its answer is accepted. Key prefixes and the held record status come from
the ledger's ``Layout``.

Why: a check whose execution already ended while its message waited (stopped, timed out, failed) still reserves:
the worker learns the token is dead only from the answer (``TaskTimedOut``), and gives the stock back after
reading the execution, two Step Functions round trips later. A decision on the same sku in that window reads a
stock the dead execution holds; answering it ``OutOfStock`` would turn away an order the stock serves a moment
later (and likewise for a reservation whose environment froze or crashed before answering).

The mechanism (the normal path stays two calls: the transaction and the answer):

- the reserving transaction records the hold on each sku item it takes from, ``held.<key> = <quantity>`` with
  ``key = <orderId>/<nonce>``, and the key in the order's record (``hold``);
- a hold is settled when its answer is accepted (the execution succeeded with it) or when it is given back. The
  environment that saw it settle removes the entry in its next reservation on that sku (``Settled``), in the same
  transaction; an entry left behind (that environment ended first) is removed by the next decision that meets it;
- a decision that finds a sku short does not answer ``OutOfStock`` while the sku's entries could make up the
  difference (stock read + their units >= quantity): it resolves them first (``Resolver``): one GetItem of the
  order's record and one DescribeExecution of its execution each. An entry whose record no longer holds it, or
  whose execution succeeded with it, is removed; an execution that ended without keeping it (ABORTED, TIMED_OUT,
  FAILED, or one that never existed) gets its stock given back on its behalf, conditional on the record (so never
  twice, whoever gives back first); an execution still RUNNING is waited for (``Patience``), after which the
  record goes back to the queue and is decided on its next delivery;
- the reserving write requires ``held`` to exist and to hold fewer than ``MAX_HELD`` entries: a sku item written
  by another tool gets an empty ``held`` once, and a full one is resolved before the reservation goes on.

So ``OutOfStock`` is answered only when the stock read, plus every unit held by an answer not yet accepted, could
not serve the order, and no execution that can no longer use stock keeps another order from it.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from orderflow_runtime.ledger.layout import HELD, Layout

HOLD = "hold"
"""The work item record's attribute naming its hold's entry key."""
MAX_HELD = 100
"""Entries a counter item may hold before a new hold must resolve them (about 100 bytes each at most)."""
FLUSH_MAX = 16
"""Settled entries one hold removes from a counter item (the rest wait for the next one)."""
SETTLED_MAX = 64
"""Settled keys one environment remembers per counter (older ones are left for a decision to remove)."""
RESOLVE_BATCH = 25
"""Entries one decision resolves before it tries again."""
RESOLVE_AT_ONCE = 8
"""Entries resolved concurrently."""

Fate = Callable[[str], str]
"""An execution ARN -> ``"kept"`` (succeeded with its hold), ``"running"`` or ``"ended"`` (cannot use it)."""


@dataclass(frozen=True)
class Hold:
    """One entry of a counter item's ``held`` map: its key and the units it holds."""

    key: str
    quantity: int

    @property
    def work_id(self) -> str:
        """The id of the work item (an order) whose record names this hold."""
        return self.key.rpartition("/")[0]


def new_key(work_id: str) -> str:
    """A fresh entry key for one hold of ``work_id`` (a nonce: the same work item may be decided again)."""
    return f"{work_id}/{secrets.token_hex(3)}"


def holds_of(item: dict[str, Any]) -> list[Hold] | None:
    """The entries of a counter item (DynamoDB JSON); None when it has no ``held`` map."""
    held = item.get(HELD)
    if not isinstance(held, dict) or "M" not in held:
        return None
    out = []
    for key, value in held["M"].items():
        try:
            quantity = int(value.get("N", "0"))
        except (AttributeError, ValueError):
            quantity = 0
        out.append(Hold(key, quantity))
    return out


class Unprepared(Exception):
    """The counter item has no ``held`` map yet (written by another tool): it gets one, then the write is retried."""

    def __init__(self, counter: str) -> None:
        super().__init__(f"counter {counter!r} has no {HELD!r} map")
        self.counter = counter


class Unsettled(Exception):
    """The counter is short only by units held by unanswered reservations, or its ``held`` map is full."""

    def __init__(self, counter: str, holds: list[Hold], short: bool) -> None:
        units = sum(h.quantity for h in holds)
        super().__init__(f"counter {counter!r}: {len(holds)} unanswered reservation(s) hold {units} unit(s)"
                         + ("" if short else f"; at most {MAX_HELD} entries"))
        self.counter = counter
        self.holds = holds
        self.short = short


class Settled:
    """Keys whose hold this environment saw settle, per counter, until its next hold on that counter removes them;
    and the keys this environment reserved whose answer it is sending now (``answering``)."""

    ANSWERING_SECONDS = 30.0
    """A key counts as being answered here for at most this long (a record that failed between its reservation and
    its answer leaves its key behind; it is then resolved like any other)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, list[str]] = {}
        self._answering: dict[str, float] = {}

    def begin(self, key: str) -> None:
        """This environment reserved under ``key`` and will answer for it."""
        with self._lock:
            self._answering[key] = time.monotonic()

    def end(self, key: str) -> None:
        """The answer for ``key`` was sent (accepted or not)."""
        with self._lock:
            self._answering.pop(key, None)

    def answering(self, key: str) -> bool:
        """Whether this environment is sending ``key``'s answer now: it settles within one Step Functions call."""
        with self._lock:
            began = self._answering.get(key)
            return began is not None and time.monotonic() - began < self.ANSWERING_SECONDS

    def add(self, counters: Iterable[str], key: str) -> None:
        if not key:
            return
        with self._lock:
            for counter in counters:
                keys = self._keys.setdefault(counter, [])
                if key not in keys:
                    keys.append(key)
                del keys[:-SETTLED_MAX]

    def peek(self, counter: str) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._keys.get(counter, ())[:FLUSH_MAX])

    def has(self, counter: str, key: str) -> bool:
        """Whether this environment saw ``key``'s answer accepted (its hold is settled, whatever the execution's
        status reads now: Step Functions reports SUCCEEDED a moment after it accepts the answer)."""
        with self._lock:
            return key in self._keys.get(counter, ())

    def discard(self, counter: str, keys: Iterable[str]) -> None:
        gone = set(keys)
        with self._lock:
            left = [k for k in self._keys.get(counter, []) if k not in gone]
            if left:
                self._keys[counter] = left
            else:
                self._keys.pop(counter, None)


Release = Callable[[dict[str, Any]], bool]
"""A work item's record (DynamoDB JSON) -> True when this call gave its hold back."""


class Resolver:
    """Settles a counter's entries (see the module doc): GetItem of each work item's record, then its execution's
    fate. ``layout``: the table's keys and the held record status."""

    def __init__(self, client: Any, table: str, layout: Layout, fate: Fate, release: Release,
                 settled: Settled | None = None) -> None:
        self._ddb = client
        self._settled = settled or Settled()
        self._table = table
        self._layout = layout
        self._fate = fate
        self._release = release
        self._pool = ThreadPoolExecutor(max_workers=RESOLVE_AT_ONCE, thread_name_prefix="resolve")

    def prepare(self, counter: str) -> None:
        """Give the counter item an empty ``held`` map unless it has one (never creates the item)."""
        self._write(counter, "SET #h = if_not_exists(#h, :empty)", "attribute_exists(pk)", {"#h": HELD},
                    {":empty": {"M": {}}})

    def resolve(self, counter: str, holds: list[Hold]) -> tuple[bool, bool]:
        """(whether any entry was found settled (removed here, or left for the next try when its removal conflicted),
        whether every entry still RUNNING is one this environment is answering
        now) for the first entries. An entry whose answer this environment saw accepted is settled without a call."""
        batch = holds[:RESOLVE_BATCH]
        fates = list(self._pool.map(lambda hold: "kept" if self._settled.has(counter, hold.key) else self._settle(hold),
                                    batch))
        done = [h.key for h, fate in zip(batch, fates, strict=True) if fate != "running"]
        running = [h.key for h, fate in zip(batch, fates, strict=True) if fate == "running"]
        local = bool(running) and all(self._settled.answering(key) for key in running)
        removed = bool(done) and self._write(
            counter, "REMOVE " + ", ".join(f"#h.#k{i}" for i in range(len(done))), "attribute_exists(#h)",
            {"#h": HELD, **{f"#k{i}": key for i, key in enumerate(done)}}, None)
        return bool(done) or removed, local

    def _settle(self, hold: Hold) -> str:
        """``"running"`` while the hold's answer may still be accepted; else it is settled (given back if due)."""
        record = self._ddb.get_item(TableName=self._table, Key=self._layout.record_key(hold.work_id),
                                    ConsistentRead=True).get("Item")
        if record is None or record.get(HOLD, {}).get("S") != hold.key \
                or record.get("status", {}).get("S") != self._layout.held_status:
            return "gone"
        execution = record.get("execution", {}).get("S", "")
        fate = self._fate(execution)
        if fate == "ended":
            self._release(record)
        return fate

    def _write(self, counter: str, update: str, condition: str, names: dict[str, str],
               values: dict[str, Any] | None) -> bool:
        """One UpdateItem of the counter item; False when its condition failed or conflicts persisted."""
        extra = {"ExpressionAttributeValues": values} if values else {}
        for attempt in range(4):
            try:
                self._ddb.update_item(TableName=self._table, Key=self._layout.counter_key(counter),
                                      UpdateExpression=update, ConditionExpression=condition,
                                      ExpressionAttributeNames=names, **extra)
                return True
            except ClientError as error:
                code = error.response["Error"]["Code"]
                if code == "ConditionalCheckFailedException":
                    return False
                if code != "TransactionConflictException":
                    raise
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
        return False


class Patience:
    """How long a decision waits for RUNNING holders: ``WAIT_SECONDS``, and never past the invocation's deadline
    (less the time kept for the answer); then the record is sent back to the queue.

    An answer already on its way settles within a round trip or two; a holder whose environment crashed or froze
    settles only when its message comes back (a visibility timeout) or its task times out, and waiting longer in
    the invocation for it would only hold the environment's whole batch (in the benchmark's faulted run, waits up to
    the deadline, 3 s on dev, took about a third of the environments' time)."""

    WAIT_SECONDS = 0.25
    LOCAL_WAIT_SECONDS = 5.0
    """How long a decision waits when every RUNNING holder is one this environment is answering now (its answer
    settles within one Step Functions call, so a record of the same batch is not sent back for it)."""
    RESERVE_SECONDS = 0.5

    def __init__(self, deadline: float | None) -> None:
        now = time.monotonic()
        self._until = self._bounded(now + self.WAIT_SECONDS, deadline)
        self._local_until = self._bounded(now + self.LOCAL_WAIT_SECONDS, deadline)
        self._pause = 0.02

    def _bounded(self, until: float, deadline: float | None) -> float:
        return min(until, deadline - self.RESERVE_SECONDS) if deadline is not None else until

    def left(self) -> bool:
        """True while there is time to try again after entries were removed (progress: each try removes some)."""
        return time.monotonic() < self._local_until

    def wait(self, local: bool = False) -> bool:
        """Sleep a growing pause (20 ms to 0.5 s); False when there is no time left for one. ``local``: every
        holder is being answered by this environment (waits up to ``LOCAL_WAIT_SECONDS``)."""
        left = (self._local_until if local else self._until) - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(left, random.uniform(self._pause / 2, self._pause)))
        self._pause = min(0.5, self._pause * 2)
        return True
