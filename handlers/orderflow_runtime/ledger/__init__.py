"""A generic reservation ledger: counters (a sku's stock, a customer's credit) that work items take from
atomically and idempotently per work item, with unanswered holds resolved from their execution's fate.

Modules: ``layout`` (``Layout``, ``Snapshot``, ``seed``, ``read``, ``counter_key_problem``: how a ledger's table
is keyed, and what operator tools and the emulator do with it), ``core`` (``Ledger``: take, give back, abandon;
the order contract and the measurements behind it), ``holds`` (unanswered holds), ``conflicts`` (write conflicts
on hot counters). A service configures one ``Layout`` (``inventory.stock.LAYOUT``, ``payment.credit.LAYOUT``).

Importing this package loads ``core`` (botocore and the runtime); ``orderflow_runtime.ledger.layout`` alone needs
only botocore.
"""

from orderflow_runtime.ledger.core import Claim, Entry, Ledger, Outcome
from orderflow_runtime.ledger.layout import (
    Layout,
    Snapshot,
    counter_key_problem,
    read,
    read_counter,
    seed,
    set_counter,
)

__all__ = ["Claim", "Entry", "Layout", "Ledger", "Outcome", "Snapshot", "counter_key_problem", "read",
           "read_counter", "seed", "set_counter"]
