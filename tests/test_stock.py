"""`orderflow stock` against the dev stack deployed into a moto server (see test_smoke.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.test_smoke import ServedStack, served
from tools.cli import main as cli
from tools.emulator.deploy import REGION

__all__ = ["served"]  # the moto server fixture, shared with the smoke tests


def items(table: str) -> dict[str, dict[str, Any]]:
    ddb = boto3.client("dynamodb", region_name=REGION)
    pages = ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return {i["pk"]["S"]: i for page in pages for i in page["Items"] if "STOCKTEST" in i["pk"]["S"]}


def stock_of(table: str) -> dict[str, int]:
    return {pk[4:]: int(i["stock"]["N"]) for pk, i in items(table).items() if pk.startswith("SKU#")}


def run(served: ServedStack, inventory: dict[str, Any], tmp_path: Path, *extra: str) -> int:
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(inventory))
    return cli(["stock", "--stack", "dev", "--inventory", str(path), "--outputs", str(served.outputs), *extra])


def test_sets_stock_idempotently_and_leaves_the_rest_alone(served: ServedStack, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    table = served.deployment.table
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.put_item(TableName=table, Item={"pk": {"S": "SKU#STOCKTEST-OLD"}, "stock": {"N": "7"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "SKU#STOCKTEST-KEEP"}, "stock": {"N": "4"}})
    record = {"pk": {"S": "ORDER#STOCKTEST-1"}, "status": {"S": "RESERVED"}, "execution": {"S": "arn:x"},
              "items": {"S": '[{"sku": "STOCKTEST-OLD", "quantity": 1}]'}}
    ddb.put_item(TableName=table, Item=record)
    capsys.readouterr()

    assert run(served, {"STOCKTEST-OLD": 2, "STOCKTEST-NEW": 9, "STOCKTEST-KEEP": 4}, tmp_path, "--dry-run") == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [f"table {table}: would set 2 sku(s), 1 already at their stock (dry run: nothing written)",
                                "  STOCKTEST-OLD: 7 -> 2", "  STOCKTEST-NEW: new -> 9"]
    assert stock_of(table) == {"STOCKTEST-OLD": 7, "STOCKTEST-KEEP": 4}

    assert run(served, {"STOCKTEST-OLD": 2, "STOCKTEST-NEW": 9, "STOCKTEST-KEEP": 4}, tmp_path) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"table {table}: set 2 sku(s), 1 already at their stock"
    assert stock_of(table) == {"STOCKTEST-OLD": 2, "STOCKTEST-NEW": 9, "STOCKTEST-KEEP": 4}
    assert items(table)["ORDER#STOCKTEST-1"] == record

    assert run(served, {"STOCKTEST-OLD": 2, "STOCKTEST-NEW": 9}, tmp_path) == 0
    assert capsys.readouterr().out.splitlines() == [f"table {table}: set 0 sku(s), 2 already at their stock"]
    assert stock_of(table) == {"STOCKTEST-OLD": 2, "STOCKTEST-NEW": 9, "STOCKTEST-KEEP": 4}


@pytest.mark.parametrize(("inventory", "message"), [
    ([1, 2], "error: INVENTORY {path}: must be a JSON object"),
    ({"A": -1}, "error: INVENTORY {path}:"),
    ({"A": "3"}, "error: INVENTORY {path}:"),
])
def test_bad_inventory_exits_2_before_any_write(inventory: Any, message: str, served: ServedStack, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    before = stock_of(served.deployment.table)
    assert run(served, inventory, tmp_path) == 2
    err = capsys.readouterr().err
    assert err.startswith(message.format(path=tmp_path / "inventory.json")) and len(err.splitlines()) == 1, err
    assert stock_of(served.deployment.table) == before
