"""The services' documented limits the worker checks before it writes or answers, measured as each service does.

DynamoDB (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html):
- a partition key value is 1..2048 bytes and a sort key value 1..1024 bytes, as UTF-8 (the inventory table has
  a partition key only, ``pk``);
- an item is at most 400 KB (409,600 bytes), counting every attribute's name (UTF-8 bytes) and value;
- a number holds up to 38 significant digits; a positive one lies in 1E-130 .. 9.9999999999999999999999999999999999999E+125.
Item sizes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
a string is its UTF-8 length; a number about one byte per two significant digits plus one byte.

Step Functions' limits (payload, token, execution ARN, error and cause) are the callback runtime's
(``orderflow_runtime.limits``), imported here so the order's checks read them from one place.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orderflow_runtime.limits import (
    CAUSE_CHARS,
    ERROR_CHARS,
    EXECUTION_ARN_CHARS,
    PAYLOAD_BYTES,
    TASK_TOKEN_CHARS,
    to_json,
    utf8_bytes,
)

__all__ = ["CAUSE_CHARS", "ERROR_CHARS", "EXECUTION_ARN_CHARS", "ITEM_BYTES", "MAX_QUANTITY", "NUMBER_DIGITS",
           "NUMBER_MAX", "NUMBER_MIN_POSITIVE", "PARTITION_KEY_BYTES", "PAYLOAD_BYTES", "SORT_KEY_BYTES",
           "TASK_TOKEN_CHARS", "item_bytes", "number_bytes", "significant_digits", "storable_number", "to_json",
           "utf8_bytes"]

PARTITION_KEY_BYTES = 2048
SORT_KEY_BYTES = 1024
ITEM_BYTES = 400 * 1024
NUMBER_DIGITS = 38
NUMBER_MAX = Decimal("9.9999999999999999999999999999999999999E+125")
NUMBER_MIN_POSITIVE = Decimal("1E-130")
MAX_QUANTITY = 10**NUMBER_DIGITS - 1
"""The largest integer DynamoDB stores exactly (38 digits); stock arithmetic on it stays exact too."""


def storable_number(value: Decimal) -> bool:
    """True when DynamoDB stores ``value`` as a number: 38 significant digits, within the documented range."""
    if not value.is_finite():
        return False
    if value == 0:
        return True
    return significant_digits(value) <= NUMBER_DIGITS and NUMBER_MIN_POSITIVE <= value.copy_abs() <= NUMBER_MAX  # copy_abs: abs() rounds to 28 digits


def significant_digits(value: Decimal) -> int:
    """Digits from the first to the last non-zero one (exact: ``Decimal.normalize`` would round to 28)."""
    digits = "".join(map(str, value.as_tuple().digits)).strip("0")
    return max(1, len(digits))


def number_bytes(text: str) -> int:
    """The size DynamoDB counts for a number attribute value: about 1 byte per 2 significant digits, + 1."""
    return (significant_digits(Decimal(text)) + 1) // 2 + 1


def item_bytes(item: dict[str, dict[str, Any]]) -> int:
    """The size DynamoDB counts for an item of S and N attributes: names plus values (see the module doc)."""
    size = 0
    for name, value in item.items():
        size += utf8_bytes(name)
        if "S" in value:
            size += utf8_bytes(value["S"])
        elif "N" in value:
            size += number_bytes(value["N"])
        else:
            raise ValueError(f"attribute {name!r}: only S and N values are sized here")
    return size
