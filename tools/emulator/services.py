"""Service adapters: what the emulator knows of each worker's service, all of it read from the service's own code.

A worker is known by its handler's package (``inventory.app.lambda_handler`` -> ``inventory``). Each adapter names:

- the make variable of its seed file (``INVENTORY``, ``ACCOUNTS``) and the summary key of its final counters
  (``inventory``, ``credit``);
- its ledger ``Layout`` (``inventory.stock.LAYOUT``, ``payment.credit.LAYOUT``): the table is seeded and read only
  through ``orderflow_runtime.ledger.seed`` and ``read`` with it, so no key layout is restated under ``tools/``;
- ``demand``: what one order asks of its counters (counter id -> units), by the service's own validation
  (``inventory.orders.parse_order``, ``payment.requests.parse_payment``); None for an order it rejects as invalid.

A REJECTED order whose reason is the layout's ``short_error`` (``OutOfStock``, ``PaymentDeclined``) was wrongly
refused when the final counters cover its demand (``refused_yet_covered``; see ``judge``).

A worker no adapter knows (``examples/notifications``) runs without seeding and without a ledger to judge.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tools.emulator.errors import InputError

FUNCTION_TYPE = "aws:lambda/function:Function"


class SeedError(InputError):
    """DynamoDB refused a counter of a seed file; ``str(error)`` is one line naming the variable and the key."""


@dataclass(frozen=True)
class Service:
    """One service's adapter (see the module doc)."""

    package: str
    """The handler's package: ``inventory``, ``payment``."""
    variable: str
    """The make variable (and ``make local`` option, lower-cased) of its seed file: ``INVENTORY``, ``ACCOUNTS``."""
    summary_key: str
    """The summary's key of its final counters: ``inventory``, ``credit``."""
    layout_module: str
    """The module holding its ``LAYOUT``: ``inventory.stock``, ``payment.credit``."""
    demand_of: Callable[[Any], dict[str, int] | None]
    """What an order asks of the service's counters, or None when the service rejects it as invalid."""
    value_hint: str
    """What a seed value counts, for messages: ``a stock counts units``."""

    @property
    def layout(self) -> Any:
        """The service's ``orderflow_runtime.ledger.Layout``."""
        return importlib.import_module(self.layout_module).LAYOUT

    @property
    def noun(self) -> str:
        """What a counter id names: ``sku``, ``customer``."""
        return str(self.layout.counter_noun)

    def key_problem(self, counter_id: str) -> str | None:
        """Why DynamoDB cannot store ``counter_id`` as this service's counter key, or None."""
        from orderflow_runtime.ledger import counter_key_problem

        return counter_key_problem(self.layout, counter_id)

    def seed(self, client: Any, table: str, counters: Mapping[str, int]) -> None:
        """Put every counter through ``orderflow_runtime.ledger.seed``; a key or number DynamoDB refuses is a
        SeedError naming the counter (bad input, not a fault)."""
        from orderflow_runtime.ledger import seed

        for counter_id, value in counters.items():
            try:
                seed(client, table, self.layout, {counter_id: value})
            except ClientError as error:
                if error.response["Error"]["Code"] != "ValidationException":
                    raise
                shown = counter_id if len(counter_id) <= 40 else counter_id[:40] + "..."
                limit = self.layout.counter_id_bytes
                raise SeedError(f"{self.variable}: {self.noun} {shown!r} ({len(counter_id.encode())} bytes), "
                                f"{self.layout.counter_attribute} {value}: DynamoDB refuses it "
                                f"({error.response['Error']['Message']}); keep each {self.noun} at most "
                                f"{limit:,} bytes and each {self.layout.counter_attribute} at most 38 digits") \
                    from None

    def read(self, client: Any, table: str) -> Any:
        """The table's ``orderflow_runtime.ledger.Snapshot`` (counters, records)."""
        from orderflow_runtime.ledger import read

        return read(client, table, self.layout)

    def refused_yet_covered(self, order: Any, final: Mapping[str, int]) -> bool:
        """True when ``order`` (refused with the layout's short error) asks no more than ``final`` holds."""
        demand = self.demand_of(order)
        return demand is not None and all(final.get(c, 0) >= n for c, n in demand.items())


def _inventory_demand(order: Any) -> dict[str, int] | None:
    orders = importlib.import_module("inventory.orders")
    try:
        items = orders.parse_order(order).items
    except orders.Rejection:
        return None
    demand: dict[str, int] = {}
    for item in items:
        demand[item.sku] = demand.get(item.sku, 0) + item.quantity
    return demand


def _payment_demand(order: Any) -> dict[str, int] | None:
    from orderflow_runtime.runtime import Rejection

    requests = importlib.import_module("payment.requests")
    try:
        payment = requests.parse_payment(order)
    except Rejection:
        return None
    return {payment.customer_id: payment.amount_cents}


SERVICES: dict[str, Service] = {
    "inventory": Service("inventory", "INVENTORY", "inventory", "inventory.stock", _inventory_demand,
                         "a stock counts units"),
    "payment": Service("payment", "ACCOUNTS", "credit", "payment.credit", _payment_demand,
                       "a credit limit counts cents"),
}
"""Every adapter, by handler package."""


def service_of(handler: str) -> Service | None:
    """The adapter of a function's handler string (``payment.app.lambda_handler``), or None."""
    return SERVICES.get(handler.split(".", 1)[0])


def by_variable(variable: str) -> Service:
    """The adapter whose seed file is ``variable`` (``INVENTORY``, ``ACCOUNTS``); KeyError when none."""
    return next(s for s in SERVICES.values() if s.variable == variable)


def seed_variables(export: Mapping[str, Any]) -> set[str]:
    """The seed-file variables (``INVENTORY``, ``ACCOUNTS``) of the services a stack export's Lambda functions run,
    known by each function's ``handler`` input; a function no adapter knows adds none."""
    resources = export.get("deployment", {}).get("resources", [])
    handlers = [r.get("inputs", {}).get("handler", "") for r in resources if r.get("type") == FUNCTION_TYPE]
    return {service.variable for service in map(service_of, handlers) if service is not None}
