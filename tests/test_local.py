"""`make local`'s emulator on a small order set: assertions on the summary it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.local import main

ORDERS = [
    {"orderId": "a1", "items": [{"sku": "A", "quantity": 2}]},
    {"orderId": "a2", "items": [{"sku": "A", "quantity": 2}]},
    {"orderId": "b1", "items": [{"sku": "B", "quantity": 1}]},
    {"orderId": "a1", "items": [{"sku": "A", "quantity": 1}]},
    {"orderId": "z1", "items": [{"sku": "Z", "quantity": 1}]},
    42,
]


def test_local_run_summary(tmp_path: Path) -> None:
    orders, inventory, summary = tmp_path / "o.json", tmp_path / "i.json", tmp_path / "out" / "s.json"
    orders.write_text(json.dumps(ORDERS))
    inventory.write_text(json.dumps({"A": 4, "B": 0}))
    assert main(["--stack", "dev", "--orders", str(orders), "--inventory", str(inventory),
                 "--summary", str(summary)]) == 0
    result = json.loads(summary.read_text())
    rows = [(o["orderId"], o["executionStatus"], o["result"], o["reason"], o["detail"]) for o in result["orders"]]
    assert rows == [
        ("a1", "SUCCEEDED", "RESERVED", None, None),
        ("a2", "SUCCEEDED", "RESERVED", None, None),
        ("b1", "SUCCEEDED", "REJECTED", "OutOfStock", "sku 'B': 0 left, 1 requested"),
        ("a1", "NOT_STARTED", "FAILED", "ExecutionAlreadyExists", None),
        ("z1", "SUCCEEDED", "REJECTED", "UnknownSku", "sku 'Z' is not in the inventory"),
        (None, "SUCCEEDED", "REJECTED", "InvalidOrder", "the order must be a JSON object, got int"),
    ]
    assert result["inputs"] == {"stack": "dev", "orders": str(orders), "inventory": str(inventory),
                                "summary": str(summary)}
    assert "contention" in result
    assert result["orders"][5]["execution"] == "order-00005"
    assert result["inventory"] == {"A": 0, "B": 0}
    assert result["deadLetters"] == 0
    assert result["pictures"] and all(Path(p).exists() for p in result["pictures"])
    assert result["leastPrivilege"] and all(c["expected"] == c["allowed"] for c in result["leastPrivilege"])
    assert {c["allowed"] for c in result["leastPrivilege"]} == {True, False}


@pytest.mark.parametrize(("orders", "inventory", "message"), [
    ("[", "{}", "not JSON"),
    ('{"orderId": "x"}', "{}", "must be a JSON array of orders"),
    ("[]", '{"A": -1}', 'bad stock for sku "A": -1 is not a JSON integer >= 0'),
    ("[]", '["A"]', "must be a JSON object mapping each sku to its stock"),
])
def test_bad_input_stops_before_anything_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str], orders: str,
                                                inventory: str, message: str) -> None:
    (tmp_path / "o.json").write_text(orders)
    (tmp_path / "i.json").write_text(inventory)
    summary = tmp_path / "s.json"
    assert main(["--orders", str(tmp_path / "o.json"), "--inventory", str(tmp_path / "i.json"),
                 "--summary", str(summary)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not summary.exists()


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--orders", str(tmp_path / "nope.json")]) == 2
    assert capsys.readouterr().err == f"error: ORDERS {tmp_path / 'nope.json'}: no such file; give ORDERS=<path to a " \
                                      f"JSON file>\n"
