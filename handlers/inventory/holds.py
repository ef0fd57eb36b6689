"""The inventory's unanswered reservations: the ledger's holds (``orderflow_runtime.ledger.holds``, whose module
doc explains them in the inventory's words), re-exported for the inventory's imports."""

from __future__ import annotations

from orderflow_runtime.ledger.holds import (
    FLUSH_MAX,
    HELD,
    HOLD,
    MAX_HELD,
    RESOLVE_AT_ONCE,
    RESOLVE_BATCH,
    SETTLED_MAX,
    Fate,
    Hold,
    Patience,
    Release,
    Resolver,
    Settled,
    Unprepared,
    Unsettled,
    holds_of,
    new_key,
)

__all__ = ["FLUSH_MAX", "HELD", "HOLD", "MAX_HELD", "RESOLVE_AT_ONCE", "RESOLVE_BATCH", "SETTLED_MAX", "Fate", "Hold",
           "Patience", "Release", "Resolver", "Settled", "Unprepared", "Unsettled", "holds_of", "new_key"]
