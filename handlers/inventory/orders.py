"""Order validation: the rules of a valid order, with a named reason when one is broken.

Every pattern matches the whole string (``re.fullmatch``: ``$`` alone also matches before a final newline,
so ``"o-1\\n"`` would pass as ``"o-1"``). Every value must fit what the order becomes: a DynamoDB key
(``SKU#<sku>``, ``ORDER#<orderId>``), a DynamoDB number, the order's reservation record (one item) and the
task's output; the limits and how they are measured are in ``inventory.limits``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import limits  # relative: also imported as handlers.inventory.orders (tools/emulator/invariants.py)

MAX_ITEMS = 99
"""One DynamoDB transaction holds 100 writes; one is the order's reservation record
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-dynamodb-transactions)."""
ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
"""Usable as an execution name (1-80 characters; the logging-safe subset): letters, digits, '-' and '_'."""
SKU_PREFIX = "SKU#"
SKU_BYTES = limits.PARTITION_KEY_BYTES - len(SKU_PREFIX)
"""A sku is stored in the partition key ``SKU#<sku>``: at most 2044 bytes of UTF-8."""


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

    def output(self) -> str:
        """The task output of a reserved order (SendTaskSuccess ``output``), JSON without ASCII escaping."""
        return limits.to_json({"orderId": self.order_id, "status": "RESERVED",
                               "items": [i.as_json() for i in self.items]})


def parse_order(data: Any) -> Order:
    """Validate an execution input; unknown fields are ignored. Raises Rejection("InvalidOrder")."""
    if not isinstance(data, dict):
        raise _invalid(f"the order must be a JSON object, got {type(data).__name__}")
    order_id = data.get("orderId")
    if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
        raise _invalid("orderId must be 1-80 characters of letters, digits, '-' and '_'")
    items = data.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise _invalid(f"items must be a list of 1 to {MAX_ITEMS} entries")
    parsed: list[Item] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        parsed.append(_item(index, item))
        if parsed[-1].sku in seen:
            raise _invalid(f"sku {parsed[-1].sku!r} appears more than once")
        seen.add(parsed[-1].sku)
    order = Order(order_id=order_id, items=tuple(parsed))
    check_sizes(order, execution_arn_chars=limits.EXECUTION_ARN_CHARS)
    return order


def _item(index: int, item: Any) -> Item:
    if not isinstance(item, dict):
        raise _invalid(f"items[{index}] must be an object")
    sku, quantity = item.get("sku"), item.get("quantity")
    if not isinstance(sku, str) or not sku.strip():
        raise _invalid(f"items[{index}].sku must be a non-empty string")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in sku):
        raise _invalid(f"items[{index}].sku must be valid Unicode (no lone surrogate): DynamoDB stores UTF-8")
    if limits.utf8_bytes(sku) > SKU_BYTES:
        raise _invalid(f"items[{index}].sku is {limits.utf8_bytes(sku)} bytes as UTF-8; at most {SKU_BYTES} "
                       f"(DynamoDB partition key {SKU_PREFIX}<sku> <= {limits.PARTITION_KEY_BYTES} bytes)")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise _invalid(f"items[{index}].quantity must be a JSON integer >= 1")
    if quantity > limits.MAX_QUANTITY or not limits.storable_number(Decimal(quantity)):
        raise _invalid(f"items[{index}].quantity must be at most {limits.NUMBER_DIGITS} digits "
                       f"(a DynamoDB number holds {limits.NUMBER_DIGITS} significant digits)")
    return Item(sku=sku, quantity=quantity)


def check_sizes(order: Order, execution_arn_chars: int) -> None:
    """The order's reservation record must fit one DynamoDB item and its output one Step Functions payload.

    ``execution_arn_chars`` is the length of the execution ARN stored in the record (at most 256 ASCII
    characters, so bytes); the record's largest form is the reserved one (see ``inventory.stock``).
    """
    record = limits.item_bytes({
        "pk": {"S": f"ORDER#{order.order_id}"}, "status": {"S": "RESERVED"},
        "execution": {"S": "a" * execution_arn_chars},
        "items": {"S": limits.to_json([i.as_json() for i in order.items])},
    })
    if record > limits.ITEM_BYTES:
        raise _invalid(f"the order's reservation record would be {record} bytes; DynamoDB items hold at most "
                       f"{limits.ITEM_BYTES} bytes")
    output = limits.utf8_bytes(order.output())
    if output > limits.PAYLOAD_BYTES:
        raise _invalid(f"the task output would be {output} bytes as UTF-8; Step Functions payloads hold at most "
                       f"{limits.PAYLOAD_BYTES} bytes")


def _invalid(detail: str) -> Rejection:
    return Rejection("InvalidOrder", detail)
