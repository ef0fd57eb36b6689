"""Stock reservations in DynamoDB, idempotent per order: the generic ledger (``orderflow_runtime.ledger``, whose
``core`` module doc states the order contract, the limits, unanswered reservations, contention and the measurements)
configured with the inventory's ``LAYOUT``.

Table layout: ``pk = "SKU#<sku>"`` holds ``stock`` and ``held`` (the unanswered reservations);
``pk = "ORDER#<orderId>"`` holds the order's result (``status`` RESERVED, REJECTED or RELEASED, ``items``
``[{"sku", "quantity"}, ...]``, ``reason``, ``detail``, ``execution``, and ``hold``, a reservation's key in
``held``). Tools read and seed it through ``LAYOUT`` (``orderflow_runtime.ledger.seed``, ``read``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orderflow_runtime.ledger import Claim, Entry, Layout, Ledger
from orderflow_runtime.ledger import Outcome as LedgerOutcome
from orderflow_runtime.ledger.conflicts import CONFLICT_RETRY_ATTEMPTS
from orderflow_runtime.ledger.holds import Fate
from orderflow_runtime.runtime import TransientError

from inventory.orders import SKU_PREFIX, Item, Order, Rejection

__all__ = ["LAYOUT", "Outcome", "Stock", "TransientError", "order_key", "sku_key"]

LAYOUT = Layout(
    counter_prefix=SKU_PREFIX, record_prefix="ORDER#", counter_attribute="stock", held_status="RESERVED",
    released_status="RELEASED", short_error="OutOfStock", unknown_error="UnknownSku", invalid_error="InvalidOrder",
    counter_noun="sku", entry_keys=("sku", "quantity"), unknown_cause="sku {counter!r} is not in the inventory",
    refused_cause="DynamoDB refused the order: {message}",
)
"""The inventory table's layout: a sku's ``stock``, an order's reservation record."""


@dataclass(frozen=True)
class Outcome(LedgerOutcome):
    """The recorded result for an order; a redelivery answers with it again."""

    @property
    def reserved(self) -> bool:
        return self.status == LAYOUT.held_status

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(Item(entry.counter, entry.amount) for entry in self.entries)

    @property
    def order_id(self) -> str:
        return self.work_id

    def output(self) -> str:
        """SendTaskSuccess output of a reserved order, JSON without ASCII escaping."""
        return Order(self.order_id, self.items).output()


def sku_key(sku: str) -> dict[str, Any]:
    return LAYOUT.counter_key(sku)


def order_key(order_id: str) -> dict[str, Any]:
    return LAYOUT.record_key(order_id)


def entries(items: tuple[Item, ...]) -> tuple[Entry, ...]:
    """An order's items as the ledger's entries (a sku is a counter, a quantity an amount)."""
    return tuple(Entry(item.sku, item.quantity) for item in items)


class Stock(Ledger[Outcome]):
    """The inventory table's ledger; ``fate``: see ``orderflow_runtime.ledger.holds``."""

    def __init__(self, client: Any, table: str, conflict_attempts: int = CONFLICT_RETRY_ATTEMPTS,
                 fate: Fate = lambda _: "running") -> None:
        super().__init__(client, table, LAYOUT, Outcome, conflict_attempts, fate)

    def reserve(self, order: Order, execution: str, *, over_released: bool = False,
                deadline: float | None = None) -> Outcome:
        """Take every item or none, and record the result under the order id, in one transaction
        (``Ledger.take``). Returns the recorded Outcome (which may be another execution's, or RELEASED); raises
        TransientError."""
        return self.take(Claim(order.order_id, entries(order.items)), execution, over_released=over_released,
                         deadline=deadline)

    def record_rejection(self, order: Order, rejection: Rejection, execution: str,
                         over_released: bool = False) -> Outcome:
        """Keep the first rejection, so a redelivery after a restock still answers the same."""
        return self.reject(order.order_id, rejection.reason, rejection.detail, execution, over_released)

    def release(self, order_id: str, items: tuple[Item, ...], execution: str,
                deadline: float | None = None, hold: str = "") -> bool:
        """Give back the stock ``execution`` reserved for the order, once; False when it holds none now.
        ``hold``: the reservation's entry key, when known: only that reservation is given back."""
        return self.give_back(order_id, entries(items), execution, deadline, hold)
