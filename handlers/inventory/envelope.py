"""The inventory worker's messages on the callback runtime's envelope (``orderflow_runtime.envelope``).

A check is the callback task's message ``{"taskToken", "execution", "order"}`` (``action`` absent or
``"check"``); a release is the failure path's compensation ``{"action": "release", "order", "execution"}``: it
gives back what its execution reserved. The work item is the order (the execution's input). A body that is
neither is an ``UnanswerableMessage``: it reaches the dead-letter queue, with no write made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orderflow_runtime import envelope as runtime_envelope
from orderflow_runtime.envelope import Envelope, UnanswerableMessage, decode_body
from orderflow_runtime.logs import scalar

__all__ = ["COMPENSATIONS", "RELEASE", "OrderMessage", "UnanswerableMessage", "decode_body", "log_keys",
           "order_id_of", "parse_envelope"]

RELEASE = "release"
"""The compensation action of the failure path's message: give back what the execution reserved."""
COMPENSATIONS = (RELEASE,)
ORDER_ID_LOG_CHARS = 100


@dataclass(frozen=True)
class OrderMessage(Envelope):
    """A checked message whose work item is an order (unchecked: ``inventory.orders`` checks it)."""

    @property
    def order(self) -> Any:
        return self.work_item

    @property
    def order_id(self) -> str | None:
        return order_id_of(self.work_item)


def parse_envelope(body_text: str) -> OrderMessage:
    """Parse and check a message body (a check or a release). Raises UnanswerableMessage naming the first problem."""
    checked = runtime_envelope.parse_envelope(body_text, COMPENSATIONS)
    return OrderMessage(token=checked.token, execution=checked.execution, work_item=checked.work_item,
                        action=checked.action)


def order_id_of(order: Any) -> str | None:
    """The ``orderId`` of a work item when it is a string (None otherwise; not checked against its rules)."""
    order_id = order.get("orderId") if isinstance(order, dict) else None
    return order_id if isinstance(order_id, str) else None


def log_keys(order: Any) -> dict[str, Any]:
    """The order id for every log line of a record, before anything is checked (shortened; a value that is not a
    string or a number shows as its JSON type)."""
    order_id = order.get("orderId") if isinstance(order, dict) else None
    return {"order_id": scalar(order_id, ORDER_ID_LOG_CHARS)}
