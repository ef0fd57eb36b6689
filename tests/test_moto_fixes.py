"""The emulator's fixes to moto keep DynamoDB's transaction semantics: all or nothing, and atomic under threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.emulator import moto_fixes


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        moto_fixes.apply()
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        for pk, n in (("A", 5), ("B", 1)):
            client.put_item(TableName="t", Item={"pk": {"S": pk}, "n": {"N": str(n)}})
        yield client


def take(pk: str, q: int) -> dict[str, Any]:
    return {"Update": {"TableName": "t", "Key": {"pk": {"S": pk}}, "UpdateExpression": "SET n = n - :q",
                       "ConditionExpression": "n >= :q", "ExpressionAttributeValues": {":q": {"N": str(q)}}}}


def items(ddb: Any) -> dict[str, str]:
    return {i["pk"]["S"]: i.get("n", {}).get("N", "") for i in ddb.scan(TableName="t")["Items"]}


@pytest.mark.parametrize(
    ("writes", "cancelled", "after"),
    [
        ([take("A", 2), take("B", 1)], False, {"A": "3", "B": "0"}),
        ([take("A", 2), take("B", 2)], True, {"A": "5", "B": "1"}),  # the applied first write is rolled back
        ([{"Put": {"TableName": "t", "Item": {"pk": {"S": "C"}}}}, take("B", 9)], True, {"A": "5", "B": "1"}),
        ([{"Delete": {"TableName": "t", "Key": {"pk": {"S": "A"}}}}, take("B", 9)], True, {"A": "5", "B": "1"}),
    ],
)
def test_transaction_is_all_or_nothing(ddb: Any, writes: list[dict[str, Any]], cancelled: bool,
                                       after: dict[str, str]) -> None:
    if cancelled:
        with pytest.raises(ClientError) as error:
            ddb.transact_write_items(TransactItems=writes)
        assert error.value.response["Error"]["Code"] == "TransactionCanceledException"
    else:
        ddb.transact_write_items(TransactItems=writes)
    assert items(ddb) == after


def test_concurrent_transactions_lose_no_update(ddb: Any) -> None:
    """Eight threads take 50 units each from one item, retrying when a transaction conflicts: none is lost."""
    ddb.put_item(TableName="t", Item={"pk": {"S": "A"}, "n": {"N": "400"}})
    conflicts: list[int] = []

    def worker() -> None:
        for _ in range(50):
            while True:
                try:
                    ddb.transact_write_items(TransactItems=[take("A", 1)])
                    break
                except ClientError as error:
                    assert error.response["Error"]["Code"] == "TransactionCanceledException"
                    conflicts.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert items(ddb)["A"] == "0"
    assert conflicts, "eight threads on one item never conflicted"


# -- Step Functions: an answer however early (field case F1) --------------------------------------------------------
EARLY = [
    ("success", "SUCCEEDED", {"orderId": "early", "status": "RESERVED", "items": []}),
    ("failure", "SUCCEEDED", {"status": "REJECTED", "reason": "OutOfStock", "cause": "none left", "execution": "early"}),
    ("heartbeat", "SUCCEEDED", {"orderId": "early", "status": "RESERVED", "items": []}),
]


@pytest.mark.parametrize(("answer", "status", "output"), EARLY, ids=[row[0] for row in EARLY])
def test_an_answer_from_inside_the_sqs_send_is_delivered(emulated: Any, monkeypatch: pytest.MonkeyPatch,
                                                         answer: str, status: str, output: dict[str, Any]) -> None:
    """The worker answers while Step Functions' SendMessage has not even returned (the task has not set up its
    heartbeat wait yet). On AWS the answer counts; moto's callback task lost it and timed out after HeartbeatSeconds
    (36 s on dev), and an early heartbeat got InvalidToken."""
    import json as json_module

    from moto.sqs.models import SQSBackend

    send = SQSBackend.send_message
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    heartbeats: list[str] = []

    def send_and_answer(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        message = send(self, queue_name, message_body, *args, **kwargs)
        token = json_module.loads(message_body).get("taskToken")
        if token and answer == "success":
            sfn.send_task_success(taskToken=token, output=json_module.dumps(output))
        elif token and answer == "failure":
            sfn.send_task_failure(taskToken=token, error="OutOfStock", cause="none left")
        elif token:
            sfn.send_task_heartbeat(taskToken=token)  # raises InvalidToken if the beat is refused
            heartbeats.append(token)
        return message

    monkeypatch.setattr(SQSBackend, "send_message", send_and_answer)
    emulated.seed({"A": 1})
    arn = emulated.start({"orderId": "early", "items": [{"sku": "A", "quantity": 1}]}, "early")
    if answer == "heartbeat":
        (record,) = emulated.receive()
        assert heartbeats == [json_module.loads(record["body"])["taskToken"]]
        sfn.send_task_success(taskToken=heartbeats[0], output=json_module.dumps(output))
    description = emulated.wait(arn, timeout=10)
    assert description["status"] == status
    assert json_module.loads(description["output"]) == output
