"""Order validation: the rules of a valid order, with a named reason when one is broken."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_ITEMS = 99
"""One DynamoDB transaction holds 100 writes; one is the order's reservation record."""
ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
"""Usable as an execution name: 1-80 letters, digits, '-' and '_'."""


class Rejection(Exception):
    """A business answer, not a fault: the state machine routes it to its rejection path, unretried."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Item:
    sku: str
    quantity: int

    def as_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "quantity": self.quantity}


@dataclass(frozen=True)
class Order:
    order_id: str
    items: tuple[Item, ...]


def parse_order(data: Any) -> Order:
    """Validate an execution input; unknown fields are ignored. Raises Rejection("InvalidOrder")."""
    if not isinstance(data, dict):
        raise _invalid(f"the order must be a JSON object, got {type(data).__name__}")
    order_id = data.get("orderId")
    if not isinstance(order_id, str) or not ORDER_ID.match(order_id):
        raise _invalid("orderId must be 1-80 characters of letters, digits, '-' and '_'")
    items = data.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise _invalid(f"items must be a list of 1 to {MAX_ITEMS} entries")
    parsed: list[Item] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _invalid(f"items[{index}] must be an object")
        sku, quantity = item.get("sku"), item.get("quantity")
        if not isinstance(sku, str) or not sku.strip():
            raise _invalid(f"items[{index}].sku must be a non-empty string")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise _invalid(f"items[{index}].quantity must be a JSON integer >= 1")
        if sku in seen:
            raise _invalid(f"sku {sku!r} appears more than once")
        seen.add(sku)
        parsed.append(Item(sku=sku, quantity=quantity))
    return Order(order_id=order_id, items=tuple(parsed))


def _invalid(detail: str) -> Rejection:
    return Rejection("InvalidOrder", detail)
