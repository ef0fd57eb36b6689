"""Credit authorizations in DynamoDB, idempotent per order: the generic ledger (``orderflow_runtime.ledger``, whose
``core`` module doc states the contract per work item, the limits, unanswered holds and contention) configured with
the payment's ``LAYOUT``.

Table layout: ``pk = "CUSTOMER#<customerId>"`` holds ``credit`` (cents available now) and ``held`` (the unanswered
authorizations); ``pk = "PAYMENT#<orderId>"`` holds the payment's result (``status`` AUTHORIZED, REJECTED or
VOIDED, ``items`` ``[{"customerId", "amountCents"}]``, ``reason``, ``detail``, ``execution``, and ``hold``, an
authorization's key in ``held``). Tools read and seed it through ``LAYOUT`` (``orderflow_runtime.ledger.seed``,
``read``).

- authorize: take ``amountCents`` from the customer's credit and record AUTHORIZED, in one transaction; a payment
  already AUTHORIZED or REJECTED answers the same for any execution; too little credit (even counting every cent
  held by unanswered authorizations) -> ``PaymentDeclined``, no such customer -> ``UnknownCustomer``;
- void (the compensation): give back what that execution authorized, once; with nothing authorized yet, a VOIDED
  record is left so that a late authorization of the dead execution takes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orderflow_runtime.ledger import Claim, Entry, Layout, Ledger
from orderflow_runtime.ledger import Outcome as LedgerOutcome
from orderflow_runtime.ledger.conflicts import CONFLICT_RETRY_ATTEMPTS
from orderflow_runtime.ledger.holds import Fate
from orderflow_runtime.limits import to_json

__all__ = ["LAYOUT", "Credit", "Outcome"]

LAYOUT = Layout(
    counter_prefix="CUSTOMER#", record_prefix="PAYMENT#", counter_attribute="credit", held_status="AUTHORIZED",
    released_status="VOIDED", short_error="PaymentDeclined", unknown_error="UnknownCustomer",
    invalid_error="InvalidPayment", counter_noun="customer", entry_keys=("customerId", "amountCents"),
    unknown_cause="customer {counter!r} has no credit account",
    short_cause="customer {counter!r}: {available} cents of credit available, {requested} requested",
    refused_cause="DynamoDB refused the payment: {message}",
)
"""The payment table's layout: a customer's ``credit`` in cents, a payment's authorization record."""


@dataclass(frozen=True)
class Outcome(LedgerOutcome):
    """The recorded result for a payment; a redelivery answers with it again."""

    @property
    def authorized(self) -> bool:
        return self.status == LAYOUT.held_status

    @property
    def order_id(self) -> str:
        return self.work_id

    def output(self) -> str:
        """SendTaskSuccess output of an authorized payment ``{"orderId", "status": "AUTHORIZED", "customerId",
        "amountCents"}``, JSON without ASCII escaping."""
        (entry,) = self.entries
        return to_json({"orderId": self.order_id, "status": self.status, "customerId": entry.counter,
                        "amountCents": entry.amount})


class Credit(Ledger[Outcome]):
    """The payment table's ledger; ``fate``: see ``orderflow_runtime.ledger.holds``."""

    def __init__(self, client: Any, table: str, conflict_attempts: int = CONFLICT_RETRY_ATTEMPTS,
                 fate: Fate = lambda _: "running") -> None:
        super().__init__(client, table, LAYOUT, Outcome, conflict_attempts, fate)

    def authorize(self, order_id: str, customer_id: str, amount_cents: int, execution: str, *,
                  over_voided: bool = False, deadline: float | None = None) -> Outcome:
        """Take ``amount_cents`` of the customer's credit and record it under the order id, in one transaction
        (``Ledger.take``). ``over_voided``: the order's VOIDED record may be replaced (a fresh decision). Returns the
        recorded Outcome (which may be another execution's, or VOIDED); raises TransientError."""
        claim = Claim(order_id, (Entry(customer_id, amount_cents),))
        return self.take(claim, execution, over_released=over_voided, deadline=deadline)
