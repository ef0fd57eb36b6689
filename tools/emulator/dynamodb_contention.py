"""DynamoDB's transaction conflicts, played on moto: a TransactWriteItems holds its items for a service time.

On AWS a transaction is in flight for some milliseconds; another transaction that touches one of its items meanwhile
is cancelled with ``TransactionCanceledException``, reason ``TransactionConflict`` at that item's index and
``None`` elsewhere, and a plain PutItem/UpdateItem/DeleteItem of such an item fails with
``TransactionConflictException`` ("Transaction is ongoing for the item"); botocore retries neither. Source:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html (section "Transaction
conflict handling in DynamoDB") and the TransactWriteItems API reference
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html (cancellation reasons).

Here a transaction first claims every item it names (or is cancelled at once if another holds one), is applied to
moto's tables, then keeps its claims until ``SERVICE_SECONDS`` after it started: the window in which others
conflict with it. moto's own data structures are guarded by one re-entrant lock held only while moto reads or
writes them (microseconds to milliseconds), never during the service time, so transactions on different items
proceed in parallel as on AWS.

Counted per run (``snapshot()``): ``transactionConflicts`` (transactions cancelled by a conflict, plus plain writes
refused by one) and ``conflictRetries`` (a transaction for the same order record after one of its transactions was
cancelled by a conflict; the "order record" of a transaction is the set of items it creates with ``Put``, or, when
it puts none, every item it names).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SERVICE_SECONDS = 0.025
"""How long a TransactWriteItems holds its items: 25 ms, of the order of TransactWriteItems' latency on AWS for a
few small items in one Region (transactions take two round trips inside DynamoDB: prepare and commit)."""

DATA_LOCK = threading.RLock()
"""Guards moto's tables (dicts iterated by scans and replaced by rollbacks); held for moto's own work only."""

_claims_lock = threading.Lock()
_claims: dict[tuple[str, str], int] = {}
_counts_lock = threading.Lock()
_counts = {"transactionConflicts": 0, "conflictRetries": 0}
_cancelled: set[frozenset[tuple[str, str]]] = set()
_ids = iter(range(1, 2**62))
_local = threading.local()


def reset() -> None:
    """Forget counts and cancelled transactions (a new run); claims of transactions still in flight stay."""
    with _counts_lock:
        _counts.update(transactionConflicts=0, conflictRetries=0)
        _cancelled.clear()


def snapshot() -> dict[str, int]:
    with _counts_lock:
        return dict(_counts)


def item_key(table: Any, table_name: str, op_type: str, op: dict[str, Any]) -> tuple[str, str] | None:
    """(table, canonical key) of one transaction entry, or None when the entry names no usable key."""
    if op_type == "Put":
        attrs = op.get("Item", {})
        names = [n for n in (table.hash_key_attr, table.range_key_attr) if n]
        key = {n: attrs[n] for n in names if n in attrs}
    else:
        key = op.get("Key") or {}
    if not key:
        return None
    return table_name, json.dumps(key, sort_keys=True)


def keys_of(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[tuple[str, str] | None, str]]:
    """Each entry's (key, op type), in request order."""
    out: list[tuple[tuple[str, str] | None, str]] = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table_name = op.get("TableName", "")
        table = backend.tables.get(table_name)
        out.append((item_key(table, table_name, op_type, op) if table else None, op_type))
    return out


def _identity(keys: list[tuple[tuple[str, str] | None, str]]) -> frozenset[tuple[str, str]]:
    puts = frozenset(k for k, op in keys if k and op == "Put")
    return puts or frozenset(k for k, _ in keys if k)


def _count(name: str) -> None:
    with _counts_lock:
        _counts[name] += 1


def conflict_error(keys: list[tuple[tuple[str, str] | None, str]], held: set[int]) -> Exception:
    from moto.dynamodb.exceptions import TransactionCanceledException

    reasons = [("TransactionConflict", "Transaction is ongoing for the item", None) if i in held
               else (None, None, None) for i in range(len(keys))]
    return TransactionCanceledException(reasons)


def item_conflict_error() -> Exception:
    from moto.dynamodb.exceptions import DynamodbException

    return DynamodbException("com.amazonaws.dynamodb.v20120810#TransactionConflictException",
                             "Transaction is ongoing for the item")


@contextmanager
def in_flight(backend: Any, transact_items: list[dict[str, Any]]) -> Iterator[None]:
    """Claim the transaction's items for ``SERVICE_SECONDS`` around its body; raise the AWS conflict if taken."""
    keys = keys_of(backend, transact_items)
    identity = _identity(keys)
    started = time.monotonic()
    with _counts_lock:
        if identity in _cancelled:
            _counts["conflictRetries"] += 1
    with _claims_lock:
        held = {i for i, (k, _) in enumerate(keys) if k is not None and k in _claims}
        if not held:
            me = next(_ids)
            for k, _ in keys:
                if k is not None:
                    _claims[k] = me
    if held:
        with _counts_lock:
            _counts["transactionConflicts"] += 1
            _cancelled.add(identity)
        raise conflict_error(keys, held)
    _local.active = True
    try:
        yield
        with _counts_lock:
            _cancelled.discard(identity)
    finally:
        _local.active = False
        hold(SERVICE_SECONDS - (time.monotonic() - started))
        with _claims_lock:
            for k, _ in keys:
                if k is not None and _claims.get(k) == me:
                    del _claims[k]


def hold(seconds: float) -> None:
    """The rest of a transaction's service time, its items still claimed."""
    if seconds > 0:
        time.sleep(seconds)


def check_plain_write(backend: Any, table_name: str, key: dict[str, Any] | None) -> None:
    """A single-item write outside a transaction: refused while a transaction holds the item."""
    if getattr(_local, "active", False) or not key:
        return
    table = backend.tables.get(table_name)
    if table is None:
        return
    names = [n for n in (table.hash_key_attr, table.range_key_attr) if n]
    canonical = (table_name, json.dumps({n: key[n] for n in names if n in key}, sort_keys=True))
    with _claims_lock:
        taken = canonical in _claims
    if taken:
        _count("transactionConflicts")
        raise item_conflict_error()
