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
    # a number with an exponent is named as written, never as Infinity or 100000.0
    ('{"A": 1e400}', 'INVENTORY {f}: bad stock for sku "A": 1e400 is not a JSON integer >= 0 (a stock counts units)'),
    ('{"A": 1e5}', 'INVENTORY {f}: bad stock for sku "A": 1e5 is not a JSON integer >= 0 (a stock counts units)'),
    ('{"A": 1E+2}', 'INVENTORY {f}: bad stock for sku "A": 1E+2 is not a JSON integer >= 0 (a stock counts units)'),
    ('{"A": -0.0}', 'INVENTORY {f}: bad stock for sku "A": -0.0 is not a JSON integer >= 0 (a stock counts units)'),
    ('{"A": "5"}', 'INVENTORY {f}: bad stock for sku "A": "5" is not a JSON integer >= 0 (a stock counts units)'),
    ('{"A": null}', 'INVENTORY {f}: bad stock for sku "A": null is not a JSON integer >= 0 (a stock counts units)'),
    (f'{{"A": {DIGITS_39}}}', f'INVENTORY {{f}}: bad stock for sku "A": {DIGITS_39} is beyond a DynamoDB number '
                              f'(at most 38 significant digits, below 1E+126); use a smaller stock'),
    (f'{{"A": 1{"0" * 126}}}', 'INVENTORY {f}: bad stock for sku "A": 1' + "0" * 39 + "... (127 characters) is "
                               "beyond a DynamoDB number"),
    # field case Z3: DynamoDB stores 1E+125, but not 1E+125 - 1: every order would fail to count it down
    (f'{{"A": 1{"0" * 125}}}', 'INVENTORY {f}: bad stock for sku "A": 1' + "0" * 39 + "... (126 characters) has "
                               "more than 38 digits"),
    (f'{{"A": 1{"0" * 38}}}', 'INVENTORY {f}: bad stock for sku "A": 1' + "0" * 38 + " has more than 38 digits"),
    ('{"A": 1, "B": 2, "A": 3}', 'INVENTORY {f}: key "A" appears more than once in one object; JSON keeps only one '
                                 "of them: give each key once"),
    ('{"A": NaN}', "INVENTORY {f}: not JSON: NaN is not a JSON value"),
    ('{"A": Infinity}', "INVENTORY {f}: not JSON: Infinity is not a JSON value"),
    ('{"A": ' + "[" * 2000 + "]" * 2000 + "}", "INVENTORY {f}: nested deeper than the JSON decoder reads (about "
                                               "1,000 levels); at most 64 levels"),
    ('{"A": ' + "[" * 64 + "]" * 64 + "}", 'INVENTORY {f}: nested more than 64 levels deep (at ["A"]' + "[0]" * 63),
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


@pytest.mark.parametrize("stock", [{"A": 0}, {"A": 10**37 * 9}, {"A": 10**38 - 1}, {"é" * 1022: 1}, {"S" * 2044: 3},
                                   {"é": 1, "e\u0301": 2, "E\u0301": 3}])  # skus compared byte for byte
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


@pytest.mark.parametrize(("text", "message"), [
    ('[{"orderId": "a", "orderId": "b"}]', 'ORDERS {f}: key "orderId" appears more than once in one object'),
    ('[{"orderId": "a", "items": [{"sku": "A", "quantity": 1, "quantity": 2}]}]',
     'ORDERS {f}: key "quantity" appears more than once in one object'),
    ("[" * 5000 + "]" * 5000, "ORDERS {f}: nested deeper than the JSON decoder reads"),
    ("[" * 65 + "]" * 65, "ORDERS {f}: nested more than 64 levels deep (at " + "[0]" * 64 + ")"),
    ('[{"orderId": "a", "items": [{"sku": "A", "quantity": 1e400}]}]',
     'ORDERS {f}: the number at [0]["items"][0]["quantity"] (1E+400) is beyond what DynamoDB stores: Number overflow'),
    ('[{"orderId": "a", "items": [{"sku": "A", "quantity": 1e-131}]}]', "Number underflow"),
    (f'[{{"orderId": "a", "items": [{{"sku": "A", "quantity": {DIGITS_39}}}]}}]', "more than 38 significant digits"),
    ('[{"orderId": "a", "items": [{"sku": "A", "quantity": -Infinity}]}]', "ORDERS {f}: not JSON: -Infinity"),
])
def test_orders_beyond_dynamodb_or_json_are_refused_whole(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "orders.json"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        load_orders(str(path))
    assert str(error.value).startswith(message.format(f=path)) or message in str(error.value), str(error.value)
    assert "\n" not in str(error.value)


def test_an_order_at_the_depth_limit_and_numbers_dynamodb_stores_are_run(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    deep = "[" * 63 + "]" * 63
    path.write_text(f'[{deep}, {{"orderId": "a", "items": [{{"sku": "A", "quantity": 2.5}}], "n": 1e-130}}, '
                    f'{{"orderId": "b", "q": {"9" * 38}, "z": 0.0, "big": 9.9999999999999999999999999999999999999e125}}]')
    orders = load_orders(str(path))
    assert len(orders) == 3 and orders[1]["items"][0]["quantity"] == 2.5 and orders[2]["q"] == int("9" * 38)


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
