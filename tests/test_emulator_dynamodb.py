"""The emulated DynamoDB: transaction conflicts in botocore's real shape, and the documented limits on every
write path (ValidationException with AWS's messages)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.emulator import dynamodb_contention, moto_fixes


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        moto_fixes.apply()
        dynamodb_contention.reset()
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        client.create_table(TableName="r", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                      {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        client.put_item(TableName="t", Item={"pk": {"S": "SKU#A"}, "stock": {"N": "5"}})
        yield client


def take(sku: str) -> dict[str, Any]:
    return {"Update": {"TableName": "t", "Key": {"pk": {"S": f"SKU#{sku}"}}, "UpdateExpression": "SET stock = stock - :q",
                       "ConditionExpression": "stock >= :q", "ExpressionAttributeValues": {":q": {"N": "1"}}}}


def record(order: str) -> dict[str, Any]:
    return {"Put": {"TableName": "t", "Item": {"pk": {"S": f"ORDER#{order}"}},
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def stock(ddb: Any) -> str:
    return str(ddb.get_item(TableName="t", Key={"pk": {"S": "SKU#A"}})["Item"]["stock"]["N"])


class Held:
    """A transaction on SKU#A (and ORDER#first) held in flight until the block ends."""

    def __init__(self, ddb: Any) -> None:
        self.ddb = ddb
        self.inside = threading.Event()
        self.release = threading.Event()

    def __enter__(self) -> Held:
        self._hold = dynamodb_contention.hold

        def held(seconds: float) -> None:
            if threading.current_thread() is self.thread:
                self.inside.set()
                self.release.wait(30)

        dynamodb_contention.hold = held
        self.thread = threading.Thread(target=lambda: self.ddb.transact_write_items(
            TransactItems=[take("A"), record("first")]))
        self.thread.start()
        assert self.inside.wait(30)
        return self

    def __exit__(self, *_: Any) -> None:
        self.release.set()
        self.thread.join(30)
        dynamodb_contention.hold = self._hold


def test_a_transaction_on_an_item_in_flight_is_cancelled_with_the_real_reasons(ddb: Any) -> None:
    with Held(ddb), pytest.raises(ClientError) as error:
        ddb.transact_write_items(TransactItems=[record("second"), take("A")])
    response = error.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["CancellationReasons"] == [
        {"Code": "None"}, {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
    assert stock(ddb) == "4"  # the first one took its unit; the cancelled one took nothing
    assert "Item" not in ddb.get_item(TableName="t", Key={"pk": {"S": "ORDER#second"}})
    assert dynamodb_contention.snapshot() == {"transactionConflicts": 1, "conflictRetries": 0}
    ddb.transact_write_items(TransactItems=[record("second"), take("A")])  # the same order record, retried
    assert stock(ddb) == "3"
    assert dynamodb_contention.snapshot() == {"transactionConflicts": 1, "conflictRetries": 1}


@pytest.mark.parametrize("write", ["put_item", "update_item", "delete_item"])
def test_a_plain_write_to_an_item_in_flight_gets_transaction_conflict(ddb: Any, write: str) -> None:
    key = {"pk": {"S": "SKU#A"}}
    calls = {
        "put_item": lambda: ddb.put_item(TableName="t", Item={**key, "stock": {"N": "9"}}),
        "update_item": lambda: ddb.update_item(TableName="t", Key=key, UpdateExpression="SET stock = :n",
                                               ExpressionAttributeValues={":n": {"N": "9"}}),
        "delete_item": lambda: ddb.delete_item(TableName="t", Key=key),
    }
    with Held(ddb):
        with pytest.raises(ClientError) as error:
            calls[write]()
        assert stock(ddb) == "4"  # a plain read is not refused: it sees the committed value
    assert error.value.response["Error"] == {"Code": "TransactionConflictException",
                                             "Message": "Transaction is ongoing for the item"}
    assert stock(ddb) == "4"
    assert dynamodb_contention.snapshot()["transactionConflicts"] == 1


def test_transactions_on_other_items_do_not_conflict(ddb: Any) -> None:
    ddb.put_item(TableName="t", Item={"pk": {"S": "SKU#B"}, "stock": {"N": "5"}})
    with Held(ddb):
        ddb.transact_write_items(TransactItems=[take("B"), record("other")])
    assert dynamodb_contention.snapshot()["transactionConflicts"] == 0


BIG = "x" * (400 * 1024)
DIGITS_39 = "1" * 39
# One row per write path and limit: the request, and AWS's ValidationException message.
LIMITS: list[tuple[str, str, dict[str, Any], str]] = [
    ("put: partition key 2049 bytes", "put_item",
     {"TableName": "t", "Item": {"pk": {"S": "é" * 1024 + "x"}}}, "Size of hashkey has exceeded the maximum size limit of2048 bytes"),
    ("put: sort key 1025 bytes", "put_item",
     {"TableName": "r", "Item": {"pk": {"S": "a"}, "sk": {"S": "s" * 1025}}},
     "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"),
    ("put: 39 significant digits", "put_item",
     {"TableName": "t", "Item": {"pk": {"S": "n"}, "q": {"N": DIGITS_39}}}, "more than 38 significant digits"),
    ("put: 39 digits inside a map", "put_item",
     {"TableName": "t", "Item": {"pk": {"S": "n"}, "m": {"M": {"q": {"L": [{"N": DIGITS_39}]}}}}},
     "more than 38 significant digits"),
    ("put: overflow", "put_item", {"TableName": "t", "Item": {"pk": {"S": "n"}, "q": {"N": "1E+126"}}}, "Number overflow"),
    ("put: underflow", "put_item", {"TableName": "t", "Item": {"pk": {"S": "n"}, "q": {"N": "1E-131"}}}, "Number underflow"),
    ("put: item over 400 KB", "put_item", {"TableName": "t", "Item": {"pk": {"S": "n"}, "b": {"S": BIG}}},
     "Item size has exceeded the maximum allowed size"),
    ("update: key 2049 bytes", "update_item",
     {"TableName": "t", "Key": {"pk": {"S": "k" * 2049}}, "UpdateExpression": "SET q = :q",
      "ExpressionAttributeValues": {":q": {"N": "1"}}}, "Size of hashkey has exceeded"),
    ("update: 39 digits", "update_item",
     {"TableName": "t", "Key": {"pk": {"S": "SKU#A"}}, "UpdateExpression": "SET stock = :q",
      "ExpressionAttributeValues": {":q": {"N": DIGITS_39}}}, "more than 38 significant digits"),
    ("update: result over 400 KB", "update_item",
     {"TableName": "t", "Key": {"pk": {"S": "SKU#A"}}, "UpdateExpression": "SET b = :b",
      "ExpressionAttributeValues": {":b": {"S": BIG}}}, "Item size to update has exceeded the maximum allowed size"),
    ("get: key 2049 bytes", "get_item", {"TableName": "t", "Key": {"pk": {"S": "k" * 2049}}}, "Size of hashkey"),
    ("transaction: update with 39 digits", "transact_write_items",
     {"TransactItems": [{"Update": {"TableName": "t", "Key": {"pk": {"S": "SKU#A"}}, "UpdateExpression": "SET stock = :q",
                                    "ExpressionAttributeValues": {":q": {"N": DIGITS_39}}}}]},
     "more than 38 significant digits"),
    ("transaction: put with a long key", "transact_write_items",
     {"TransactItems": [{"Put": {"TableName": "t", "Item": {"pk": {"S": "k" * 2049}}}}]}, "Size of hashkey"),
]


@pytest.mark.parametrize(("case", "operation", "request_", "message"), LIMITS, ids=[row[0] for row in LIMITS])
def test_documented_limits_are_enforced(ddb: Any, case: str, operation: str, request_: dict[str, Any],
                                        message: str) -> None:
    before = ddb.scan(TableName="t")["Items"]
    with pytest.raises(ClientError) as error:
        getattr(ddb, operation)(**request_)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert message in error.value.response["Error"]["Message"]
    assert ddb.scan(TableName="t")["Items"] == before  # nothing was written


def test_a_transaction_whose_update_outgrows_the_item_limit_is_cancelled_at_that_entry(ddb: Any) -> None:
    ddb.put_item(TableName="t", Item={"pk": {"S": "big"}, "b": {"S": "x" * 300_000}})
    grow = {"Update": {"TableName": "t", "Key": {"pk": {"S": "big"}}, "UpdateExpression": "SET c = :c",
                       "ExpressionAttributeValues": {":c": {"S": "y" * 200_000}}}}
    with pytest.raises(ClientError) as error:
        ddb.transact_write_items(TransactItems=[take("A"), grow])
    assert error.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error.value.response["CancellationReasons"]] == ["None", "ValidationError"]
    assert stock(ddb) == "5"
    assert "c" not in ddb.get_item(TableName="t", Key={"pk": {"S": "big"}})["Item"]


@pytest.mark.parametrize("value", ["9.9E+125", "1E-130", "1" * 38, "-" + "9" * 38, "0.000"])
def test_numbers_within_the_limits_are_stored(ddb: Any, value: str) -> None:
    ddb.put_item(TableName="t", Item={"pk": {"S": "n"}, "q": {"N": value}})
    assert "q" in ddb.get_item(TableName="t", Key={"pk": {"S": "n"}})["Item"]


@pytest.mark.parametrize(("sku", "stock", "words"), [
    ("x" * 2045, 1, "Size of hashkey"),  # "SKU#" + 2,045 bytes: 2,049
    ("é" * 1023, 1, "Size of hashkey"),  # 2,046 bytes in UTF-8, plus the prefix
    ("ok", 10**38 + 1, "more than 38 significant digits"),  # 10**38 alone is one significant digit
])
def test_an_inventory_dynamodb_refuses_is_bad_input_naming_inventory(ddb: Any, sku: str, stock: int,
                                                                      words: str) -> None:
    from tools.emulator.run import InputError, _seed

    with pytest.raises(InputError, match=r"^INVENTORY: sku .*" + words):
        _seed(ddb, "t", {"fine": 3, sku: stock})


def test_an_inventory_at_the_limits_is_seeded(ddb: Any) -> None:
    from tools.emulator.run import _seed

    _seed(ddb, "t", {"x" * 2044: 10**37})
    assert ddb.get_item(TableName="t", Key={"pk": {"S": "SKU#" + "x" * 2044}})["Item"]["stock"]["N"] == str(10**37)
