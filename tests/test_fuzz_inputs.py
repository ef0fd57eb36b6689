"""Property-based fuzz of `make local`'s input files (field case Z2, Z3): whatever a file holds, ORDERS and
INVENTORY either load or are refused with one InputError line naming the variable and the file; what loads is what
DynamoDB and Step Functions can take (no repeated key, at most 64 levels, every number storable, every stock an
integer of at most 38 digits)."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.emulator import dynamodb_limits
from tools.emulator.inputs import MAX_DEPTH, InputError, load_inventory, load_orders

EXAMPLES = int(os.environ.get("FUZZ_INPUT_EXAMPLES", "300"))
NUMBERS = ["0", "-0", "1", "2.5", "1e2", "1E-130", "1e-131", "9" * 38, "9" * 39, "1" + "0" * 38, "1" + "0" * 125,
           "1" + "0" * 126, "9.9999999999999999999999999999999999999e125", "1e126", "1e400", "-1e400", "NaN",
           "Infinity", "-Infinity", "0.1", "-7"]
KEYS = ["A", "B", "é", "e\u0301", "\\ud800", "", "S" * 2045, "orderId", "items", "sku", "quantity"]


def _text(depth: int) -> st.SearchStrategy[str]:
    """JSON-like text built from the odd numbers and keys above (repeated keys allowed), nested to ``depth``."""
    leaf = st.one_of(st.sampled_from(NUMBERS), st.sampled_from(['"x"', "true", "null", '"\\udfff"']))
    if depth == 0:
        return leaf
    inner = _text(depth - 1)
    obj = st.lists(st.tuples(st.sampled_from(KEYS), inner), max_size=4).map(
        lambda pairs: "{" + ", ".join(f'"{k}": {v}' for k, v in pairs) + "}")
    arr = st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
    return st.one_of(leaf, obj, arr)


files = st.one_of(_text(4), st.builds(lambda n, kind: kind[0] * n + kind[1] * n, st.integers(1, 3000),
                                      st.sampled_from([("[", "]"), ("[{\"A\": ", "}]")])),
                  st.builds(lambda n: '{"A": ' + "[" * n + "]" * n + "}", st.integers(MAX_DEPTH - 3, MAX_DEPTH + 3)))


def _pairs_unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    assert len({k for k, _ in pairs}) == len(pairs), pairs
    return dict(pairs)


def _depth_and_numbers(text: str) -> None:
    """What a loaded file must satisfy, checked independently of the loader."""
    value = json.loads(text, parse_float=Decimal, parse_int=Decimal, object_pairs_hook=_pairs_unique)
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            assert depth <= MAX_DEPTH
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
        elif isinstance(node, Decimal):
            dynamodb_limits.check_number(str(node))  # raises LimitError: the property fails


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(text=files)
def test_input_files_load_or_are_refused_in_one_line(tmp_path_factory: Any, text: str) -> None:
    path = tmp_path_factory.mktemp("in") / "f.json"
    path.write_text(text, encoding="utf-8")
    for variable, load in (("ORDERS", load_orders), ("INVENTORY", load_inventory)):
        try:
            loaded = load(str(path))
        except InputError as error:
            message = str(error)
            assert message.startswith(f"{variable} {path}: ") and "\n" not in message, message
            continue
        _depth_and_numbers(text)
        if variable == "INVENTORY":
            assert isinstance(loaded, dict)
            assert all(type(v) is int and 0 <= v < 10**38 for v in loaded.values()), loaded
            assert all(0 < len(("SKU#" + k).encode("utf-8")) <= 2048 for k in loaded)
        else:
            assert isinstance(loaded, list)
