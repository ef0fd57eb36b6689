"""ORDERS and INVENTORY as `make local` reads them: one line per problem, naming the variable, the file and
the bad entries; stock DynamoDB cannot store is refused before anything starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.emulator.inputs import InputError, load_inventory, load_orders

LONG_SKU = "S" * 2045  # "SKU#" + 2045 bytes = 2049 bytes, one over DynamoDB's partition key limit
MULTIBYTE_SKU = "é" * 1023  # 2046 bytes in UTF-8 (+ 4 = 2050), although only 1023 characters
DIGITS_39 = 123456789012345678901234567890123456789


@pytest.mark.parametrize(("text", "message"), [
    ("[", "INVENTORY {f}: not JSON: Expecting value: line 1 column 2 (char 1)"),
    ('["A"]', 'INVENTORY {f}: must be a JSON object mapping each sku to its stock (e.g. {{"A": 5}}), got a JSON array'),
    ("5", 'INVENTORY {f}: must be a JSON object mapping each sku to its stock (e.g. {{"A": 5}}), got a JSON number'),
    ('{"A": -1}', 'INVENTORY {f}: bad stock for sku "A": -1 is not a JSON integer >= 0 (a stock counts units)'),
    ('{"A": true}', 'INVENTORY {f}: bad stock for sku "A": true is not a JSON integer >= 0 (a stock counts units)'),
    ('{"A": 2.5}', 'INVENTORY {f}: bad stock for sku "A": 2.5 is not a JSON integer >= 0 (a stock counts units)'),
    ('{"A": "5"}', 'INVENTORY {f}: bad stock for sku "A": "5" is not a JSON integer >= 0 (a stock counts units)'),
    ('{"A": null}', 'INVENTORY {f}: bad stock for sku "A": null is not a JSON integer >= 0 (a stock counts units)'),
    (f'{{"A": {DIGITS_39}}}', f'INVENTORY {{f}}: bad stock for sku "A": {DIGITS_39} is beyond a DynamoDB number '
                              f'(at most 38 significant digits, below 1E+126); use a smaller stock'),
    (f'{{"A": 1{"0" * 126}}}', 'INVENTORY {f}: bad stock for sku "A": 1' + "0" * 39),
    ('{"": 1}', 'INVENTORY {f}: bad sku "": a sku must not be empty; give each sku 1 to 2044 bytes (UTF-8)'),
    ('{"A\\ud800": 1}', "a sku must be Unicode text that UTF-8 can encode (it holds a lone surrogate)"),
    (json.dumps({LONG_SKU: 1}), 'INVENTORY {f}: bad sku "SSSS'),
    (json.dumps({MULTIBYTE_SKU: 1}), "its key SKU#<sku> is 2050 bytes in UTF-8, over DynamoDB's partition key "
                                     "limit of 2048 bytes"),
    ('{"A": -1, "B": 1, "C": -2, "D": -3, "E": -4}',
     'INVENTORY {f}: bad stock for sku "A", "C", "D" and 1 more (4 in all): -1 is not a JSON integer >= 0'),
])
def test_bad_inventory_is_one_line_naming_the_entries(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "inventory.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_inventory(str(path))
    got = str(error.value)
    assert got.startswith(message.format(f=path)) or message.format(f=path) in got, got
    assert "\n" not in got


@pytest.mark.parametrize("stock", [{"A": 0}, {"A": 10**37 * 9}, {"A": 10**125}, {"é" * 1022: 1}, {"S" * 2044: 3}])
def test_stock_dynamodb_can_store_is_accepted(tmp_path: Path, stock: dict[str, int]) -> None:
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(stock), encoding="utf-8")
    assert load_inventory(str(path)) == stock


@pytest.mark.parametrize(("text", "message"), [
    ("{", "ORDERS {f}: not JSON: Expecting property name enclosed in double quotes"),
    ('{"orderId": "x"}', "ORDERS {f}: must be a JSON array of orders (each element one execution's input), got a "
                         "JSON object"),
    ("null", "ORDERS {f}: must be a JSON array of orders (each element one execution's input), got a JSON null"),
])
def test_bad_orders_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "orders.json"
    path.write_text(text)
    with pytest.raises(InputError, match="^" + message.format(f=path).replace("(", r"\(").replace(")", r"\)")):
        load_orders(str(path))


def test_orders_of_any_element_shape_are_run(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    path.write_text('[42, "x", null, {"orderId": "a"}]')
    assert load_orders(str(path)) == [42, "x", None, {"orderId": "a"}]


def test_the_variable_name_is_the_callers(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^STOCK_FILE .*: no such file; give STOCK_FILE=<path to a JSON file>$"):
        load_inventory(str(tmp_path / "missing.json"), variable="STOCK_FILE")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match=r"^ORDERS .*: cannot read it: not UTF-8 text$"):
        load_orders(str(tmp_path / "bin.json"))
