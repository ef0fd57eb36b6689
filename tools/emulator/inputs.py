"""The input files of a run, ORDERS and each service's counters (INVENTORY, ACCOUNTS), read and checked before
anything starts.

Each problem is an :class:`InputError` whose text is one line naming the variable, the file and what is
wrong in JSON terms, listing the bad entries. An order element of any shape is accepted: the worker judges
it (that is what the run shows). Each counter (a sku's stock, a customer's credit limit) must be something
DynamoDB can store, as the service's ledger holds it (its ``Layout``: the key is the layout's counter prefix and
the id, the value a number; ``orderflow_runtime.ledger.counter_key_problem`` says why a key cannot be stored):

- a partition key value is 1 to 2,048 bytes, UTF-8 encoded;
- a number has at most 38 significant digits, and a magnitude from 1E-130 to below 1E+126 (or is zero);
- a counter is counted down and up by the worker, so it must be an integer every result of which DynamoDB stores
  exactly: at most 38 digits (below 1E+38; 1E+125 is a number DynamoDB stores, but 1E+125 - 1 is not).

Source: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html (now
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html: "Partition key length",
"Numbers").

Every file is refused whole (one line) when it is not strict JSON (``NaN`` and ``Infinity`` are not JSON), when a
key repeats within one object (JSON parsers keep only one of them, silently), when it is nested deeper than
``MAX_DEPTH`` levels, or when any number in it is one DynamoDB cannot store (the line names its place, e.g.
``[3].items[0].quantity``). Identities are exact: skus are compared byte for byte (``"é"`` and ``"e\u0301"`` are
two skus: nothing is Unicode-normalized, trimmed or case-folded) and order ids are case-sensitive.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from tools.emulator.dynamodb_limits import LimitError, check_number
from tools.emulator.errors import InputError

PARTITION_KEY_MAX_BYTES = 2048
NUMBER_MAX_DIGITS = 38
NUMBER_MAX_EXCLUSIVE = 10**126
STOCK_MAX_EXCLUSIVE = 10**NUMBER_MAX_DIGITS
SHOWN = 3
"""Bad entries named in a message; the rest are counted."""
MAX_DEPTH = 64
"""Levels of arrays and objects a file may nest (an ORDERS file is 4 deep: array, order, items, item); Python's
JSON decoder itself stops near 1,000 with a RecursionError."""


def load_orders(path: str, variable: str = "ORDERS") -> list[Any]:
    """The orders of ``path``: a JSON array, each element one execution's input (any JSON value).

    Raises InputError when the file cannot be read, is not JSON, or is not an array.
    """
    orders = _read(path, variable, numbers=True)
    if not isinstance(orders, list):
        raise InputError(f"{variable} {path}: must be a JSON array of orders (each element one execution's "
                          f"input), got a JSON {_kind(orders)}")
    return orders


def load_inventory(path: str, variable: str = "INVENTORY") -> dict[str, int]:
    """The stock of ``path``: a JSON object mapping each sku (string) to a stock (integer >= 0), in units.

    Raises InputError when the file cannot be read, is not JSON, is not an object, or holds a sku or a
    stock the inventory table cannot store (see the module docstring for DynamoDB's limits).
    """
    return load_counters(path, "INVENTORY", variable)


def load_counters(path: str, service_variable: str, variable: str | None = None) -> dict[str, int]:
    """The counters of ``path`` for the service whose seed file is ``service_variable`` (``INVENTORY``,
    ``ACCOUNTS``; ``tools.emulator.services``): a JSON object mapping each counter id (a sku, a customer id) to
    an integer >= 0 (units, cents). ``variable``: the name the messages give the file (default the service's).

    Raises InputError when the file cannot be read, is not JSON, is not an object, or holds a key or a value
    the service's table cannot store (the module docstring).
    """
    from tools.emulator.services import by_variable

    service = by_variable(service_variable)
    variable = variable or service.variable
    noun, attribute = service.noun, service.layout.counter_attribute
    counters = _read(path, variable, numbers=False, floats=WrittenFloat)  # values judged by stock_problem
    if not isinstance(counters, dict):
        raise InputError(f"{variable} {path}: must be a JSON object mapping each {noun} to its {attribute} "
                         f"(e.g. {{\"A\": 5}}), got a JSON {_kind(counters)}")
    bad_keys = [key for key in counters if service.key_problem(key)]
    if bad_keys:
        raise InputError(f"{variable} {path}: bad {noun} {_entries(bad_keys)}: {service.key_problem(bad_keys[0])}; "
                         f"give each {noun} 1 to {service.layout.counter_id_bytes} bytes (UTF-8)")
    bad_values = [key for key, value in counters.items() if stock_problem(value, service.value_hint, attribute)]
    if bad_values:
        first = counters[bad_values[0]]
        raise InputError(f"{variable} {path}: bad {attribute} for {noun} {_entries(bad_values)}: {_json(first)} "
                         f"{stock_problem(first, service.value_hint, attribute)}")
    return counters


def sku_problem(sku: str) -> str | None:
    """Why DynamoDB cannot store ``sku`` as an inventory key, or None (the inventory ledger's own check)."""
    from tools.emulator.services import SERVICES

    return SERVICES["inventory"].key_problem(sku)


def stock_problem(stock: Any, hint: str = "a stock counts units", what: str = "stock") -> str | None:
    """Why ``stock`` (any counter value) is not one DynamoDB can store (a JSON integer >= 0 within its number
    limits), or None; ``hint`` says what the value counts, ``what`` names it (``stock``, ``credit``)."""
    if isinstance(stock, bool) or not isinstance(stock, int) or stock < 0:
        return f"is not a JSON integer >= 0 ({hint})"
    if stock >= NUMBER_MAX_EXCLUSIVE or len(str(stock).rstrip("0")) > NUMBER_MAX_DIGITS:
        return (f"is beyond a DynamoDB number (at most {NUMBER_MAX_DIGITS} significant digits, below 1E+126); "
                f"use a smaller {what}")
    if stock >= STOCK_MAX_EXCLUSIVE:
        return (f"has more than {NUMBER_MAX_DIGITS} digits: DynamoDB stores a number of at most "
                f"{NUMBER_MAX_DIGITS} significant digits, so it could not count this {what} down or up exactly; "
                f"use a smaller {what}")
    return None


class WrittenFloat(float):
    """A JSON number with a fraction or an exponent, as written in the file (``1e5``, ``1e400``), for messages:
    ``1e400`` is not shown as ``Infinity`` nor ``1e5`` as ``100000.0``."""

    text: str

    def __new__(cls, text: str) -> WrittenFloat:
        number = super().__new__(cls, text)
        number.text = text
        return number


def _read(path: str, variable: str, numbers: bool, floats: Callable[[str], Any] = float) -> Any:
    """The JSON value of ``path``, refused (InputError) as the module doc says; ``numbers``: check every number
    against DynamoDB's limits (else only the depth is checked); ``floats``: how a number with a fraction or an
    exponent is returned (default float)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{variable} {path}: no such file; give {variable}=<path to a JSON file>") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise InputError(f"{variable} {path}: cannot read it: {reason}") from None
    where = f"{variable} {path}"
    try:
        exact = json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_not_json,
                           object_pairs_hook=_unique)
    except _RepeatedKey as error:
        raise InputError(f"{where}: key {_json(error.key)} appears more than once in one object; JSON keeps only "
                         "one of them: give each key once") from None
    except RecursionError:
        raise InputError(f"{where}: nested deeper than the JSON decoder reads (about 1,000 levels); at most "
                         f"{MAX_DEPTH} levels") from None
    except ValueError as error:
        raise InputError(f"{where}: not JSON: {error}") from None
    _check_values(exact, where, numbers)
    return json.loads(text, parse_float=floats)


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _RepeatedKey(key)
        out[key] = value
    return out


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (RFC 8259 has no NaN or Infinity)")


def _check_values(value: Any, where: str, numbers: bool) -> None:
    """Depth and numbers, walked without recursion (a file is refused at its first bad place, named)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        node, place, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise InputError(f"{where}: nested more than {MAX_DEPTH} levels deep (at {place or 'the top'}); "
                                 f"at most {MAX_DEPTH} levels")
            children = node.items() if isinstance(node, dict) else enumerate(node)
            stack.extend((child, f"{place}[{json.dumps(k, ensure_ascii=False) if isinstance(k, str) else k}]",
                          depth + 1) for k, child in reversed(list(children)))
        elif numbers and isinstance(node, Decimal):
            try:
                check_number(str(node))
            except LimitError as error:
                shown = str(node) if len(str(node)) <= 40 else f"{str(node)[:40]}... ({len(str(node))} characters)"
                raise InputError(f"{where}: the number at {place or 'the top'} ({shown}) is beyond "
                                 f"what DynamoDB stores: {error} (at most {NUMBER_MAX_DIGITS} significant digits, "
                                 "magnitude 1E-130 to below 1E+126)") from None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else type(value).__name__


def _json(value: Any, limit: int = 40) -> str:
    text = value.text if isinstance(value, WrittenFloat) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _entries(keys: list[str]) -> str:
    """``"A", "B" and 3 more (5 in all)``; the first is the one the rest of the message describes."""
    shown = ", ".join(_json(k) for k in keys[:SHOWN])
    return f"{shown} and {len(keys) - SHOWN} more ({len(keys)} in all)" if len(keys) > SHOWN else shown
