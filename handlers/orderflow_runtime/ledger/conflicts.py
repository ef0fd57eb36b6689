"""DynamoDB write conflicts on hot items, handled where they happen and within the invocation's time budget.

On AWS two transactions touching one item at once conflict: the later TransactWriteItems is cancelled with
``TransactionCanceledException`` whose ``CancellationReasons`` has ``Code: TransactionConflict`` at the
item's index, and a plain write to an item inside a running transaction gets ``TransactionConflictException``
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling).
botocore retries neither (they are not in its retry table).

Two measures, one for each source of conflicts:
- ``CounterLocks``: records of one batch run concurrently in one environment; once a counter (a sku's stock, a
  customer's credit) has conflicted, those that touch it take their turn (locks taken in counter order, so never a
  deadlock). They would only cancel each other, and each cancelled attempt costs a round trip plus a back-off: one item takes one write at a time
  whatever we do. Counters that do not conflict keep full concurrency.
- ``Retry``: conflicts with other environments are retried at once in the invocation, up to
  ``CONFLICT_RETRY_ATTEMPTS`` times (a constant; ``Ledger(conflict_attempts=...)`` for a measurement), after a
  full-jitter exponential back-off (base 20 ms, cap 500 ms: about the latency of one transaction up to a few
  dozen), and never past the invocation's deadline minus the time kept for answering. Then the record fails (``TransientError``) and SQS redelivers it: the last
  resort, which costs a visibility timeout. ``conflict_attempts=0`` keeps only that last resort.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")

CONFLICT_RETRY_ATTEMPTS = 20
"""Retries of a write conflict in the invocation (``orderflow_runtime.ledger.core`` measures why 20); 0 would fail
the record at the first conflict and leave it to SQS's redelivery."""
BASE_SECONDS = 0.02
CAP_SECONDS = 0.5
HOT_SECONDS = 10.0
"""How long a counter that conflicted keeps its writers taking turns in one environment."""
ANSWER_RESERVE_SECONDS = 0.5
"""Time kept, out of the invocation's budget, for the answer after the last attempt."""


class Conflict(Exception):
    """A write lost to a concurrent transaction on one of its items; worth trying again at once."""


def is_conflict(error: ClientError) -> bool:
    """True for TransactionConflictException, or a cancelled transaction whose only failures are conflicts."""
    code = error.response.get("Error", {}).get("Code")
    if code == "TransactionConflictException":
        return True
    if code != "TransactionCanceledException":
        return False
    codes = {reason.get("Code") for reason in error.response.get("CancellationReasons") or []}
    return "TransactionConflict" in codes and codes <= {"TransactionConflict", "None", None}


class Retry:
    """Bounded, jittered retries of ``Conflict`` until a deadline (seconds on ``time.monotonic``)."""

    def __init__(self, attempts: int, deadline: Callable[[], float | None] = lambda: None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.attempts = attempts
        self._deadline = deadline
        self._sleep = sleep
        self.retried = 0

    def run(self, call: Callable[[], T]) -> T:
        """Run ``call``; on ``Conflict`` wait and run it again, at most ``attempts`` more times."""
        for attempt in range(self.attempts + 1):
            try:
                return call()
            except Conflict:
                pause = random.uniform(0, min(CAP_SECONDS, BASE_SECONDS * 2**attempt))
                deadline = self._deadline()
                if attempt == self.attempts or (
                        deadline is not None and time.monotonic() + pause + ANSWER_RESERVE_SECONDS > deadline):
                    raise
                self.retried += 1
                self._sleep(pause)
        raise AssertionError("unreachable")


class CounterLocks:
    """One environment's writers of a hot counter take turns; a lock per counter, taken in sorted order.

    A counter is hot for ``HOT_SECONDS`` after a write on it lost to a conflict. Counters that never conflicted are
    written concurrently, so a batch of records on quiet counters keeps its concurrency.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._hot_until: dict[str, float] = {}

    def heat(self, counters: Iterable[str]) -> None:
        until = time.monotonic() + HOT_SECONDS
        with self._guard:
            for counter in counters:
                self._hot_until[counter] = until

    def hot(self, counter: str) -> bool:
        return self._hot_until.get(counter, 0.0) > time.monotonic()

    @contextmanager
    def held(self, counters: Iterable[str]) -> Iterator[None]:
        with self._guard:
            locks = [self._locks.setdefault(counter, threading.Lock()) for counter in sorted(set(counters))
                     if self.hot(counter)]
        for lock in locks:
            lock.acquire()
        try:
            yield
        finally:
            for lock in reversed(locks):
                lock.release()


SkuLocks = CounterLocks
"""The inventory's name for ``CounterLocks`` (its counters are skus)."""
