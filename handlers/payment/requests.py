"""Payment validation: the rules of a valid payment request, with a named reason when one is broken.

The work item is the whole order (the execution's input); the payment reads three keys and ignores the rest:
- ``orderId``: the same rule as the inventory's (``inventory.orders.ORDER_ID``): 1-80 letters, digits, '-', '_';
- ``customerId``: a string DynamoDB can store in the key ``CUSTOMER#<customerId>`` (``payment.credit.LAYOUT``):
  1..``CUSTOMER_BYTES`` bytes of UTF-8, no lone surrogate;
- ``amountCents``: a JSON integer >= 1 of at most ``AMOUNT_DIGITS`` digits (a DynamoDB number holds 38 significant
  digits; credit arithmetic on it stays exact), not a boolean, not a float (``100.0`` is refused: cents are whole).

Every pattern matches the whole string (``re.fullmatch``). What the payment becomes fits by these bounds alone: its
record (``PAYMENT#<orderId>``, an execution ARN of at most 256 characters, ``items`` of one customer and amount:
under 3 KB) is far below DynamoDB's 400 KB item, and its output (under 3 KB) below Step Functions' 256 KiB payload
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html,
https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from orderflow_runtime.ledger.layout import PARTITION_KEY_BYTES, counter_key_problem
from orderflow_runtime.runtime import Rejection

from payment.credit import LAYOUT

INVALID = "InvalidPayment"
"""The error name of a payment that breaks a rule (a business rejection, recorded like the inventory's
InvalidOrder)."""
ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
"""Usable as an execution name (1-80 characters; the logging-safe subset): letters, digits, '-' and '_'."""
CUSTOMER_BYTES = PARTITION_KEY_BYTES - len(LAYOUT.counter_prefix)
"""A customer id is stored in the partition key ``CUSTOMER#<customerId>``: at most 2,039 bytes of UTF-8."""
AMOUNT_DIGITS = 38
MAX_AMOUNT = 10**AMOUNT_DIGITS - 1
"""The largest amount DynamoDB stores exactly (38 digits)."""


@dataclass(frozen=True)
class Payment:
    """A checked payment request: ``amount_cents`` (an integer >= 1) of customer ``customer_id``'s credit, for
    order ``order_id``."""

    order_id: str
    customer_id: str
    amount_cents: int


def parse_payment(data: Any) -> Payment:
    """Validate a work item (the order); unknown fields are ignored. Raises Rejection(INVALID) naming the key."""
    if not isinstance(data, dict):
        raise _invalid(f"the order must be a JSON object, got {type(data).__name__}")
    order_id = data.get("orderId")
    if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
        raise _invalid("orderId must be 1-80 characters of letters, digits, '-' and '_'")
    customer_id = data.get("customerId")
    if not isinstance(customer_id, str):
        raise _invalid(f"customerId must be a string, got {_kind(customer_id)}")
    problem = counter_key_problem(LAYOUT, customer_id)
    if problem:
        raise _invalid(f"customerId: {problem}")
    amount = data.get("amountCents")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise _invalid(f"amountCents must be a JSON integer >= 1 (cents), got {_shown(amount)}")
    if amount > MAX_AMOUNT:
        raise _invalid(f"amountCents must be at most {AMOUNT_DIGITS} digits (a DynamoDB number holds "
                       f"{AMOUNT_DIGITS} significant digits), got {len(str(amount))} digits")
    return Payment(order_id=order_id, customer_id=customer_id, amount_cents=amount)


def _kind(value: Any) -> str:
    """A value's JSON type, as the message shows it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict | list | str):
        return {dict: "object", list: "array", str: "string"}[type(value)]
    return "number"


def _shown(value: Any) -> str:
    """A scalar as JSON (shortened to 50 characters); an object or array by its type."""
    if isinstance(value, dict | list):
        return f"a JSON {_kind(value)}"
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 50 else text[:47] + "..."


def _invalid(detail: str) -> Rejection:
    return Rejection(INVALID, detail)
