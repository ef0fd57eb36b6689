"""The inventory's write-conflict handling: the ledger's (``orderflow_runtime.ledger.conflicts``), re-exported
under the names the inventory has always used (``SkuLocks``: a sku is one of the ledger's counters)."""

from __future__ import annotations

from orderflow_runtime.ledger.conflicts import (
    ANSWER_RESERVE_SECONDS,
    BASE_SECONDS,
    CAP_SECONDS,
    CONFLICT_RETRY_ATTEMPTS,
    HOT_SECONDS,
    Conflict,
    CounterLocks,
    Retry,
    SkuLocks,
    is_conflict,
)

__all__ = ["ANSWER_RESERVE_SECONDS", "BASE_SECONDS", "CAP_SECONDS", "CONFLICT_RETRY_ATTEMPTS", "HOT_SECONDS",
           "Conflict", "CounterLocks", "Retry", "SkuLocks", "is_conflict"]
