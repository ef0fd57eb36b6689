"""Operator writes meet DynamoDB's transient errors (field case D1): `orderflow stock` and the smoke run's seeding
and clean-up retry them with back-off, write each sku on its own, and name what was written and what was not."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.core.botocore_stubber import MockRawResponse

from tools import smoke as smoke_cmd
from tools import stock as stock_cmd
from tools.deployed import outputs as outputs_module
from tools.deployed import table as table_module
from tools.emulator import dynamodb_contention, moto_fixes
from tools.emulator.moto_fixes import NOT_SENT_HEADER

TABLE = "orderflow-dev-inventory"
ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:orderflow-dev-inventory-state-machine"


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        moto_fixes.apply()
        dynamodb_contention.reset()
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        yield client


def stock_of(ddb: Any, sku: str) -> int | None:
    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": f"SKU#{sku}"}}, ConsistentRead=True).get("Item")
    return int(item["stock"]["N"]) if item else None


class Failing:
    """Answers an operation's calls with an error code (before the service sees them) for the listed keys."""

    def __init__(self, operation: str, code: str, times: dict[str, int]) -> None:
        self.operation, self.code, self.times = operation, code, Counter(times)
        self.seen: Counter[str] = Counter()

    def attach(self, client: Any) -> Any:
        client.meta.events.register_first(f"before-send.dynamodb.{self.operation}", self._send)
        return client

    def _send(self, request: Any, **_: Any) -> AWSResponse | None:
        body = json.loads(request.body)
        key = (body.get("Key") or body["Item"])["pk"]["S"]
        self.seen[key] += 1
        if self.times[key] <= 0:
            return None
        self.times[key] -= 1
        request.headers[NOT_SENT_HEADER] = "1"
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}", "message": "injected"})
        return AWSResponse(request.url, 400 if self.code not in ("InternalServerError", "ServiceUnavailable") else
                           500, {"x-amzn-RequestId": "t"}, MockRawResponse(body.encode()))


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back-offs of a millisecond: the injected errors come back at once."""
    monkeypatch.setattr(table_module, "BASE_SECONDS", 0.001)


def run_stock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inventory: dict[str, int],
              failing: Failing | None = None) -> int:
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    (tmp_path / "outputs.json").write_text(json.dumps({"tableName": TABLE, "stateMachineArn": ARN}))
    make = outputs_module.Outputs.client
    monkeypatch.setattr(outputs_module.Outputs, "client",
                        lambda self, service: failing.attach(make(self, service)) if failing else make(self, service))
    return stock_cmd.main(["--stack", "dev", "--inventory", str(tmp_path / "inventory.json"),
                           "--outputs", str(tmp_path / "outputs.json")])


def test_stock_waits_out_a_reservation_transaction_on_its_item(ddb: Any, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The field case: a plain write to an item inside a running TransactWriteItems gets
    TransactionConflictException (botocore does not retry it); the command retries and sets every sku."""
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "SKU#A"}, "stock": {"N": "5"}, "held": {"M": {}}})
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "SKU#B"}, "stock": {"N": "1"}})
    inside, original = threading.Event(), dynamodb_contention.hold

    def held(seconds: float) -> None:
        if threading.current_thread().name == "reservation":
            inside.set()
            time.sleep(0.3)
        else:
            original(seconds)

    monkeypatch.setattr(dynamodb_contention, "hold", held)
    reservation = threading.Thread(name="reservation", target=lambda: ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "SKU#A"}}, "UpdateExpression": "SET stock = stock - :q",
                    "ExpressionAttributeValues": {":q": {"N": "1"}}}}]))
    reservation.start()
    assert inside.wait(10)
    assert run_stock(tmp_path, monkeypatch, {"A": 50, "B": 20}) == 0
    reservation.join()
    assert (stock_of(ddb, "A"), stock_of(ddb, "B")) == (50, 20)
    assert dynamodb_contention.snapshot()["transactionConflicts"] >= 1
    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "SKU#B"}})["Item"]
    assert item["held"] == {"M": {}}  # the worker's map of unanswered reservations, added where missing


TRANSIENT = ["TransactionConflictException", "ProvisionedThroughputExceededException", "ThrottlingException",
             "RequestLimitExceeded", "InternalServerError"]


@pytest.mark.parametrize("code", TRANSIENT)
def test_each_documented_transient_error_is_retried(fast: None, ddb: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    code: str, capsys: pytest.CaptureFixture[str]) -> None:
    failing = Failing("UpdateItem", code, {"SKU#A": 2})
    assert run_stock(tmp_path, monkeypatch, {"A": 7, "B": 3}, failing) == 0
    assert (stock_of(ddb, "A"), stock_of(ddb, "B")) == (7, 3)
    assert failing.seen["SKU#A"] >= 3
    assert capsys.readouterr().out.splitlines()[0] == f"table {TABLE}: set 2 sku(s), 0 already at their stock"


def test_a_sku_that_cannot_be_written_is_named_and_the_others_are_set(fast: None, ddb: Any, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    failing = Failing("UpdateItem", "TransactionConflictException", {"SKU#B": 99})
    assert run_stock(tmp_path, monkeypatch, {"A": 7, "B": 3, "C": 1}, failing) == stock_cmd.OPERATION_FAILED == 4
    assert (stock_of(ddb, "A"), stock_of(ddb, "B"), stock_of(ddb, "C")) == (7, None, 1)
    assert failing.seen["SKU#B"] == table_module.ATTEMPTS
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"table {TABLE}: set 2 sku(s), 0 already at their stock; 1 NOT set",
        "  A: new -> 7",
        "  B: new -> 3  NOT SET: TransactionConflictException on each of 8 attempts (injected)",
        "  C: new -> 1"]
    (line,) = captured.err.splitlines()
    assert line.startswith('error: stack dev: 1 of 3 sku(s) NOT set ("B"): TransactionConflictException') and \
        "run the same command again" in line


def test_a_read_that_keeps_failing_writes_nothing(fast: None, ddb: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "SKU#A"}, "stock": {"N": "1"}})
    failing = Failing("GetItem", "TransactionConflictException", {"SKU#B": 99})
    assert run_stock(tmp_path, monkeypatch, {"A": 7, "B": 3}, failing) == 4
    assert (stock_of(ddb, "A"), stock_of(ddb, "B")) == (1, None)
    (line,) = capsys.readouterr().err.splitlines()
    assert "nothing was written" in line


# -- the smoke run's seeding and clean-up ------------------------------------------------------------------------------
def smoke_stack(ddb: Any, failing: Failing) -> smoke_cmd.Stack:
    stack = smoke_cmd.Stack.__new__(smoke_cmd.Stack)
    stack.table, stack.state_machine, stack.dlq_url = TABLE, ARN, "q"
    stack.ddb, stack.sfn = failing.attach(ddb), None
    stack.seeded, stack.left_behind = [], {}
    return stack


def test_seeding_retries_and_names_what_it_wrote_when_it_gives_up(fast: None, ddb: Any) -> None:
    plan = smoke_cmd.Plan.new("seed")
    a, b = list(plan.stock)
    stack = smoke_stack(ddb, Failing("PutItem", "ThrottlingException", {f"SKU#{a}": 1}))
    stack.seed(plan)
    assert stack.seeded == [a, b] and stock_of(ddb, a) == 5

    plan = smoke_cmd.Plan.new("give-up")
    a, b = list(plan.stock)
    stack = smoke_stack(ddb, Failing("PutItem", "TransactionConflictException", {f"SKU#{b}": 99}))
    with pytest.raises(smoke_cmd.OperationFailed, match=rf"seeding sku {b} failed: TransactionConflictException on "
                                                        rf"each of 8 attempts .*\(seeded before it: {a}\)"):
        stack.seed(plan)
    assert stack.seeded == [a]


def test_clean_up_removes_every_item_it_can_and_names_the_rest(fast: None, ddb: Any) -> None:
    plan = smoke_cmd.Plan.new("clean")
    a, b = list(plan.stock)
    for sku in plan.stock:
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": f"SKU#{sku}"}, "stock": {"N": "1"}})
    failing = Failing("DeleteItem", "InternalServerError", {f"SKU#{a}": 1, f"SKU#{b}": 99})
    stack = smoke_stack(ddb, failing)
    failing.times[f"SKU#{b}"] = 10**6
    stack.clean(plan, [])
    assert stock_of(ddb, a) is None and stock_of(ddb, b) == 1
    assert list(stack.left_behind) == [f"SKU#{b}"]
    assert smoke_cmd.left_behind_line(stack).startswith(f"clean-up left 1 item(s) in table {TABLE}: SKU#{b} "
                                                        "(InternalServerError on each of 8 attempts")


def test_a_seed_already_there_counts_only_when_it_is_the_seed_itself(fast: None, ddb: Any) -> None:
    """A put retried after a response was lost finds its own write (the same stock): that sku is seeded; an item of
    someone else under the name is not overwritten, and stops the run."""
    plan = smoke_cmd.Plan.new("lost")
    stack = smoke_stack(ddb, Failing("PutItem", "ServiceUnavailable", {}))
    first = next(iter(plan.stock))
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": f"SKU#{first}"}, "stock": {"N": "5"}, "held": {"M": {}}})
    stack.seed(plan)
    assert stack.seeded == list(plan.stock)
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": f"SKU#{first}"}, "stock": {"N": "9"}})  # someone else's
    stack.seeded = []
    with pytest.raises(smoke_cmd.OperationFailed, match="ConditionalCheckFailedException"):
        stack.seed(plan)
    assert stock_of(ddb, first) == 9
