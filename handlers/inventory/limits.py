"""The services' documented limits the worker checks before it writes or answers, measured as each service does.

DynamoDB (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html):
- a partition key value is 1..2048 bytes and a sort key value 1..1024 bytes, as UTF-8 (the inventory table has
  a partition key only, ``pk``);
- an item is at most 400 KB (409,600 bytes), counting every attribute's name (UTF-8 bytes) and value;
- a number holds up to 38 significant digits; a positive one lies in 1E-130 .. 9.9999999999999999999999999999999999999E+125.
Item sizes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
a string is its UTF-8 length; a number about one byte per two significant digits plus one byte.

Step Functions (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html,
https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html,
https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions):
- ``taskToken`` is 1..2048 characters; a task's ``output`` (and any state's payload) at most 256 KiB
  (262,144 bytes) as UTF-8;
- SendTaskFailure ``error`` is at most 256 characters and ``cause`` at most 32,768 characters;
- an execution ARN (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html)
  is 1..256 characters; state machine and execution names are 1..80 characters without white space, brackets,
  wildcards, ``" # % \\ ^ | ~ ` $ & , ; : /``, control characters, surrogates or U+FFFE/U+FFFF
  (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

PARTITION_KEY_BYTES = 2048
SORT_KEY_BYTES = 1024
ITEM_BYTES = 400 * 1024
NUMBER_DIGITS = 38
NUMBER_MAX = Decimal("9.9999999999999999999999999999999999999E+125")
NUMBER_MIN_POSITIVE = Decimal("1E-130")
PAYLOAD_BYTES = 256 * 1024
TASK_TOKEN_CHARS = 2048
EXECUTION_ARN_CHARS = 256
ERROR_CHARS = 256
CAUSE_CHARS = 32768
MAX_QUANTITY = 10**NUMBER_DIGITS - 1
"""The largest integer DynamoDB stores exactly (38 digits); stock arithmetic on it stays exact too."""


def utf8_bytes(text: str) -> int:
    """Bytes of ``text`` as UTF-8, the unit of DynamoDB key/item sizes and Step Functions payloads.

    A lone surrogate (JSON allows ``"\\ud800"``) cannot be encoded; it is counted as the 3 bytes the
    services' replacement would take, so the count never raises.
    """
    return len(text.encode("utf-8", "surrogatepass"))


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


def to_json(value: Any) -> str:
    """Compact JSON without ASCII escaping: the bytes the services count are the characters' UTF-8 bytes, so
    escaping a character outside ASCII (6 or 12 bytes instead of 2 to 4) only brings the limits closer."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
