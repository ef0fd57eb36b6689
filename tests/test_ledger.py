"""The generic ledger's table surface (orderflow_runtime.ledger.layout): Layout, seed, read, counter_key_problem,
against moto's DynamoDB; the inventory's table stays byte for byte what it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from inventory.orders import Item, Order
from inventory.stock import LAYOUT as INVENTORY
from inventory.stock import Stock
from moto import mock_aws
from orderflow_runtime.ledger import Layout, Snapshot, counter_key_problem, read, seed
from payment.credit import LAYOUT as PAYMENT
from payment.credit import Credit

TABLE = "ledger"


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        yield client


def items(ddb: Any) -> dict[str, dict[str, Any]]:
    return {i["pk"]["S"]: i for i in ddb.scan(TableName=TABLE, ConsistentRead=True)["Items"]}


def test_the_two_layouts() -> None:
    assert (INVENTORY.counter_prefix, INVENTORY.record_prefix, INVENTORY.counter_attribute, INVENTORY.held_status,
            INVENTORY.released_status, INVENTORY.short_error, INVENTORY.unknown_error, INVENTORY.invalid_error) == (
        "SKU#", "ORDER#", "stock", "RESERVED", "RELEASED", "OutOfStock", "UnknownSku", "InvalidOrder")
    assert (PAYMENT.counter_prefix, PAYMENT.record_prefix, PAYMENT.counter_attribute, PAYMENT.held_status,
            PAYMENT.released_status, PAYMENT.short_error, PAYMENT.unknown_error, PAYMENT.invalid_error) == (
        "CUSTOMER#", "PAYMENT#", "credit", "AUTHORIZED", "VOIDED", "PaymentDeclined", "UnknownCustomer",
        "InvalidPayment")


def test_seed_puts_each_counter_with_an_empty_held_map_and_leaves_records_alone(ddb: Any) -> None:
    record = {"pk": {"S": "ORDER#o"}, "status": {"S": "REJECTED"}, "execution": {"S": "arn:x"}}
    ddb.put_item(TableName=TABLE, Item=record)
    seed(ddb, TABLE, INVENTORY, {"A": 5, "B": 0})
    seed(ddb, TABLE, INVENTORY, {"A": 5, "B": 0})  # idempotent
    assert items(ddb) == {"SKU#A": {"pk": {"S": "SKU#A"}, "stock": {"N": "5"}, "held": {"M": {}}},
                          "SKU#B": {"pk": {"S": "SKU#B"}, "stock": {"N": "0"}, "held": {"M": {}}},
                          "ORDER#o": record}


def test_seed_raises_what_dynamodb_refuses(ddb: Any) -> None:
    with pytest.raises(ClientError) as raised:
        seed(ddb, TABLE, PAYMENT, {"c" * 2040: 1})
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_read_returns_counters_and_records_of_its_layout_only(ddb: Any) -> None:
    seed(ddb, TABLE, INVENTORY, {"A": 2})
    seed(ddb, TABLE, PAYMENT, {"c-1": 500})
    stock, credit = Stock(ddb, TABLE), Credit(ddb, TABLE)
    reserved = stock.reserve(Order("o-1", (Item("A", 2),)), "arn:exec-1")
    authorized = credit.authorize("o-1", "c-1", 200, "arn:exec-1")
    assert read(ddb, TABLE, INVENTORY) == Snapshot(counters={"A": 0}, records={"o-1": {
        "status": "RESERVED", "execution": "arn:exec-1", "items": '[{"sku":"A","quantity":2}]',
        "hold": reserved.hold}})
    assert read(ddb, TABLE, PAYMENT) == Snapshot(counters={"c-1": 300}, records={"o-1": {
        "status": "AUTHORIZED", "execution": "arn:exec-1", "items": '[{"customerId":"c-1","amountCents":200}]',
        "hold": authorized.hold}})


def test_the_inventory_items_are_those_the_stock_always_wrote(ddb: Any) -> None:
    seed(ddb, TABLE, INVENTORY, {"A": 3})
    stock = Stock(ddb, TABLE)
    outcome = stock.reserve(Order("o-1", (Item("A", 2),)), "arn:exec-1")
    assert items(ddb) == {
        "SKU#A": {"pk": {"S": "SKU#A"}, "stock": {"N": "1"}, "held": {"M": {outcome.hold: {"N": "2"}}}},
        "ORDER#o-1": {"pk": {"S": "ORDER#o-1"}, "status": {"S": "RESERVED"}, "execution": {"S": "arn:exec-1"},
                      "items": {"S": '[{"sku":"A","quantity":2}]'}, "hold": {"S": outcome.hold}}}
    assert stock.release("o-1", outcome.items, "arn:exec-1", hold=outcome.hold)
    assert not stock.release("o-1", outcome.items, "arn:exec-1", hold=outcome.hold)
    assert items(ddb)["SKU#A"]["stock"] == {"N": "3"}
    assert items(ddb)["ORDER#o-1"]["status"] == {"S": "RELEASED"}


@pytest.mark.parametrize(("counter", "problem"), [
    ("", "a customer must not be empty"),
    ("c\ud800", "a customer must be Unicode text that UTF-8 can encode (it holds a lone surrogate)"),
    ("é" * 1020, "its key CUSTOMER#<customer> is 2049 bytes in UTF-8, over DynamoDB's partition key limit of 2048 "
                 "bytes"),
    ("c" * 2039, None),
])
def test_counter_key_problem(counter: str, problem: str | None) -> None:
    assert counter_key_problem(PAYMENT, counter) == problem


def test_a_layout_whose_keys_or_statuses_collide_is_refused() -> None:
    base = {"counter_prefix": "C#", "record_prefix": "R#", "counter_attribute": "n", "held_status": "HELD",
            "released_status": "GONE", "short_error": "Short", "unknown_error": "Unknown", "invalid_error": "Invalid"}
    Layout(**base)
    for change in ({"record_prefix": "C#"}, {"record_prefix": ""}, {"released_status": "HELD"},
                   {"held_status": "REJECTED"}, {"counter_attribute": "held"}):
        with pytest.raises(ValueError):
            Layout(**{**base, **change})
