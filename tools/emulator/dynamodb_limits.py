"""DynamoDB's documented size and number limits, enforced on every write path of the emulator (moto skips some).

Limits (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html, sections "Attributes"
and "Items"; data types: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html):

- partition key value: at most 2,048 bytes; sort key value: at most 1,024 bytes (UTF-8 for strings, raw bytes for
  binary);
- item: at most 400 KB (409,600 bytes), attribute names included, measured as in
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html (strings: UTF-8
  bytes; numbers: 1 byte per two significant digits plus 1; binary: bytes; null and boolean: 1 byte; lists and
  maps: 3 bytes plus 1 byte per element plus the elements; sets: the sum of their members);
- numbers: at most 38 significant digits; magnitude from 1E-130 to 9.9999999999999999999999999999999999999E+125
  (or zero).

A request that breaks a limit in its parameters (a key, an item to put, a number among the expression values) is
refused as a whole with ``ValidationException``. An update whose *result* breaks a limit is undone: UpdateItem
answers ``ValidationException``; inside TransactWriteItems the transaction is cancelled with reason
``ValidationError`` at that entry, as the TransactWriteItems API reference lists. Messages are AWS's.
"""

from __future__ import annotations

import math
from decimal import Context, Decimal, InvalidOperation
from typing import Any

HASH_KEY_MAX_BYTES = 2048
RANGE_KEY_MAX_BYTES = 1024
ITEM_MAX_BYTES = 400 * 1024
NUMBER_MAX_DIGITS = 38
NUMBER_MAX = Decimal("9.9999999999999999999999999999999999999E+125")
NUMBER_MIN = Decimal("1E-130")

HASH_KEY_TOO_LONG = ("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size "
                     f"limit of{HASH_KEY_MAX_BYTES} bytes")
RANGE_KEY_TOO_LONG = ("One or more parameter values were invalid: Aggregated size of all range keys has exceeded "
                      f"the size limit of {RANGE_KEY_MAX_BYTES} bytes")
ITEM_TOO_LARGE = "Item size has exceeded the maximum allowed size"
UPDATE_TOO_LARGE = "Item size to update has exceeded the maximum allowed size"
TOO_MANY_DIGITS = "Attempting to store more than 38 significant digits in a Number"
OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"
UNDERFLOW = "Number underflow. Attempting to store a number with magnitude smaller than supported range"


class LimitError(ValueError):
    """A limit broken; ``str()`` is AWS's message."""


class ValidationError(Exception):
    """Raised inside a transaction: moto reports it as cancellation reason ``ValidationError``."""


_EXACT = Context(prec=1000, Emax=10**6, Emin=-(10**6))


def _digits(number: Decimal) -> int:
    """Significant digits, leading and trailing zeros trimmed as DynamoDB trims them."""
    return len(_EXACT.normalize(number).as_tuple().digits)


def _bytes(value: Any) -> int:
    # a lone surrogate (JSON allows "\ud800") counts as the 3 bytes its UTF-8 form takes, as the worker counts it
    return len(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else len(value)


def number_size(text: str) -> int:
    try:
        return math.ceil(_digits(Decimal(text)) / 2) + 1
    except (InvalidOperation, TypeError):
        return len(str(text))


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one AttributeValue (``{"S": ...}``, ``{"N": ...}``, ...), as DynamoDB measures them."""
    (kind, inner), = value.items()
    if kind == "S" or kind == "B":
        return _bytes(inner)
    if kind == "N":
        return number_size(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "BS"):
        return sum(_bytes(v) for v in inner)
    if kind == "NS":
        return sum(number_size(v) for v in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + _bytes(k) + value_size(v) for k, v in inner.items())
    return 0


def item_size(attrs: dict[str, Any]) -> int:
    return sum(_bytes(name) + value_size(value) for name, value in attrs.items())


def check_number(text: str) -> None:
    try:
        number = Decimal(text)
    except (InvalidOperation, TypeError):
        return  # not a number: moto's own validation answers
    if not number.is_finite() or number == 0:
        return
    if _digits(number) > NUMBER_MAX_DIGITS:
        raise LimitError(TOO_MANY_DIGITS)
    magnitude = number.copy_abs()  # abs() would round to the context's 28 digits
    if magnitude > NUMBER_MAX:
        raise LimitError(OVERFLOW)
    if magnitude < NUMBER_MIN:
        raise LimitError(UNDERFLOW)


def check_numbers(value: Any) -> None:
    """Every number inside an AttributeValue (or a dict of them), nested ones included."""
    if not isinstance(value, dict):
        return
    for kind, inner in value.items():
        if kind == "N" and isinstance(inner, str):
            check_number(inner)
        elif kind == "NS" and isinstance(inner, list):
            for n in inner:
                check_number(n)
        elif kind == "L" and isinstance(inner, list):
            for v in inner:
                check_numbers(v)
        elif isinstance(inner, dict):
            check_numbers(inner)


def check_key(table: Any, attrs: dict[str, Any]) -> None:
    """The key values among ``attrs`` (a Key or a whole item) against the table's key schema."""
    for name, limit, message in ((table.hash_key_attr, HASH_KEY_MAX_BYTES, HASH_KEY_TOO_LONG),
                                 (table.range_key_attr, RANGE_KEY_MAX_BYTES, RANGE_KEY_TOO_LONG)):
        value = attrs.get(name) if name else None
        if isinstance(value, dict) and value and value_size(value) > limit:
            raise LimitError(message)


def check_put(table: Any, item: dict[str, Any]) -> None:
    check_key(table, item)
    check_numbers(item)
    if item_size(item) > ITEM_MAX_BYTES:
        raise LimitError(ITEM_TOO_LARGE)


def check_update(table: Any, key: dict[str, Any], values: dict[str, Any] | None) -> None:
    check_key(table, key)
    check_numbers(key)
    check_numbers(values or {})


def check_result(attrs: dict[str, Any]) -> None:
    """An item as an update left it."""
    check_numbers(attrs)
    if item_size(attrs) > ITEM_MAX_BYTES:
        raise LimitError(UPDATE_TOO_LARGE)


def check_transaction(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """Each entry's parameters, before anything is applied."""
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName", ""))
        if table is None:
            continue
        if op_type == "Put":
            check_put(table, op.get("Item", {}))
        else:
            check_update(table, op.get("Key", {}), op.get("ExpressionAttributeValues"))
