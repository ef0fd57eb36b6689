"""The emulated Lambda SQS poller: partial-batch responses judged as Lambda judges them (field case C03), a poller
that survives errors, and the batching window held."""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tools.emulator import moto_fixes
from tools.emulator.deploy import FunctionSpec, MappingSpec, deploy
from tools.emulator.poller import Poller, failed_ids, load_handler
from tools.emulator.run import stop_running

BATCH = {"m1", "m2"}
# One row per handler response: the ids Lambda returns to the queue (None: the whole batch failed).
RESPONSES: list[tuple[Any, set[str] | None]] = [
    ({"batchItemFailures": [{"itemIdentifier": ""}]}, None),
    ({"batchItemFailures": [{"itemIdentifier": None}]}, None),
    ({"batchItemFailures": [{"itemId": "m1"}]}, None),
    ({"batchItemFailures": [{"itemIdentifier": "m9"}]}, None),
    ({"batchItemFailures": [{"itemIdentifier": 7}]}, None),
    ({"batchItemFailures": ["m1"]}, None),
    ({"batchItemFailures": "m1"}, None),
    ("ok", None),
    ({"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": ""}]}, None),
    ({"batchItemFailures": [{"itemIdentifier": "m2"}]}, {"m2"}),
    ({"batchItemFailures": []}, set()),
    ({"batchItemFailures": None}, set()),
    ({}, set()),
    (None, set()),
]


@pytest.mark.parametrize(("response", "failed"), RESPONSES)
def test_partial_batch_responses_are_judged_as_lambda_does(response: Any, failed: set[str] | None) -> None:
    assert failed_ids(response, BATCH) == failed


STUB = '''
import json, os

MODE, LOG = os.environ["STUB_MODE"], os.environ["STUB_LOG"]  # read at init, as Lambda's init phase would

def handler(event, context):
    mode = MODE
    with open(LOG, "a") as log:
        log.write(json.dumps(sorted(r["body"] for r in event["Records"])) + "\\n")
    if mode == "empty":
        return {"batchItemFailures": [{"itemIdentifier": ""}]}
    if mode == "null":
        return {"batchItemFailures": [{"itemIdentifier": None}]}
    if mode == "raise":
        raise RuntimeError("a function error")
    if mode == "partial":
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if r["body"] == "bad"]}
    return {"batchItemFailures": []}
'''


@pytest.fixture
def queue() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        moto_fixes.apply()
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        yield sqs, url


def poller(tmp_path: Path, url: str, mode: str, *, batch_size: int = 10, window: int = 0,
           report_batch_item_failures: bool = True) -> Poller:
    (tmp_path / "stub_handler.py").write_text(STUB)
    spec = FunctionSpec(name="stub", handler="stub_handler.handler", code_path=str(tmp_path),
                        environment={"STUB_MODE": mode, "STUB_LOG": str(tmp_path / "batches.log")},
                        timeout=3, memory_mb=128)
    mapping = MappingSpec(queue_arn="arn:aws:sqs:us-east-1:123456789012:q", function_name="stub",
                          batch_size=batch_size, window_seconds=window, max_concurrency=1,
                          report_batch_item_failures=report_batch_item_failures)
    return Poller(spec, mapping, url)


def wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while not condition() and time.time() < deadline:
        time.sleep(0.05)


def depth(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                   "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attrs["Attributes"].values())


@pytest.mark.parametrize("mode", ["empty", "null"])
def test_C03_a_malformed_partial_batch_response_fails_the_whole_batch(queue: tuple[Any, str], tmp_path: Path,
                                                                      mode: str) -> None:
    sqs, url = queue
    for i in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    p = poller(tmp_path, url, mode).start()
    wait_for(lambda: p.stats.invocations >= 1)
    p.stop()
    assert p.stats.invocations >= 1 and p.stats.malformedResponses == p.stats.invocations
    assert p.stats.deleted == 0 and p.stats.failures == p.stats.records
    assert depth(sqs, url) == 2  # both messages come back after their visibility timeout


# One row per mapping setting and function outcome (field case Q1): the bodies left on the queue after one
# invocation with a good and a bad record (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
BATCH_SEMANTICS = [
    (True, "partial", ["bad"]),          # the listed record comes back, the other is deleted
    (False, "partial", []),              # the response is not read: a normal return deletes both, the bad one is lost
    (True, "raise", ["bad", "good"]),    # a function error returns the whole batch
    (False, "raise", ["bad", "good"]),
    (True, "ok", []),
    (False, "ok", []),
]


@pytest.mark.parametrize(("report", "mode", "left"), BATCH_SEMANTICS)
def test_Q1_lambda_batch_semantics_with_and_without_report_batch_item_failures(
        queue: tuple[Any, str], tmp_path: Path, report: bool, mode: str, left: list[str]) -> None:
    sqs, url = queue
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "2"})
    sqs.send_message(QueueUrl=url, MessageBody="good")
    sqs.send_message(QueueUrl=url, MessageBody="bad")
    p = poller(tmp_path, url, mode, batch_size=2, window=5, report_batch_item_failures=report).start()
    wait_for(lambda: p.stats.invocations >= 1)
    p.stop()
    assert p.stats.invocations == 1 and p.stats.records == 2
    assert p.stats.deleted == 2 - len(left) and p.stats.failures == len(left)
    assert depth(sqs, url) == len(left)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5).get("Messages", []) \
        if left else []  # back after the 2 s visibility timeout
    assert sorted(m["Body"] for m in got) == left


def test_the_poller_survives_a_failed_receive(queue: tuple[Any, str], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    sqs, url = queue
    p = poller(tmp_path, url, "ok")
    real = boto3.client

    class Flaky:
        def __init__(self) -> None:
            self.client = real("sqs", region_name="us-east-1")
            self.calls = 0

        def receive_message(self, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("Set changed size during iteration")
            return self.client.receive_message(**kwargs)

        def delete_message(self, **kwargs: Any) -> Any:
            return self.client.delete_message(**kwargs)

    import tools.emulator.poller as poller_module
    monkeypatch.setattr(poller_module.boto3, "client", lambda *a, **k: Flaky())
    p.start()
    sqs.send_message(QueueUrl=url, MessageBody="after the error")
    wait_for(lambda: p.stats.deleted >= 1)
    p.stop()
    assert p.stats.receiveErrors == 1
    assert p.stats.deleted == 1 and depth(sqs, url) == 0


def test_the_poller_survives_a_failed_invocation(queue: tuple[Any, str], tmp_path: Path) -> None:
    sqs, url = queue
    hooks: list[int] = []

    def before_invoke(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        hooks.append(1)
        if len(hooks) == 1:
            raise RuntimeError("a hook that fails once")
        return records

    p = poller(tmp_path, url, "ok")
    p._before_invoke = before_invoke
    sqs.send_message(QueueUrl=url, MessageBody="first")
    p.start()
    wait_for(lambda: p.stats.invokeErrors >= 1)
    sqs.send_message(QueueUrl=url, MessageBody="second")
    wait_for(lambda: p.stats.deleted >= 1)
    p.stop()
    assert p.stats.invokeErrors == 1 and p.stats.deleted == 1
    assert depth(sqs, url) == 1  # the first message comes back after its visibility timeout


class Scripted:
    """An SQS client whose receives return the scripted message lists, then nothing."""

    def __init__(self, script: list[list[str]]) -> None:
        self.script = list(script)

    def receive_message(self, **_: Any) -> dict[str, Any]:
        bodies = self.script.pop(0) if self.script else []
        return {"Messages": [{"MessageId": b, "ReceiptHandle": b, "Body": b} for b in bodies]}


@pytest.mark.parametrize(("window", "batch_size", "script", "batch"), [
    (30, 3, [["a"], [], ["b"], [], [], ["c"], ["d"]], ["a", "b", "c"]),  # held open across empty receives
    (0, 3, [["a"], [], ["b"]], ["a"]),  # no window: what one receive returns
    (30, 2, [[], ["a"]], []),  # the window starts with the first record: an empty queue yields nothing
])
def test_the_batching_window_is_held_until_the_batch_is_full(tmp_path: Path, window: int, batch_size: int,
                                                             script: list[list[str]], batch: list[str]) -> None:
    p = poller(tmp_path, "url", "ok", batch_size=batch_size, window=window)
    got = p._receive_batch(Scripted(script))
    assert [m["Body"] for m in got] == batch


def test_batches_reach_the_handler_whole(queue: tuple[Any, str], tmp_path: Path) -> None:
    sqs, url = queue
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    p = poller(tmp_path, url, "ok", batch_size=3, window=30).start()
    wait_for(lambda: p.stats.deleted >= 3)
    p.stop()
    batches = [json.loads(line) for line in (tmp_path / "batches.log").read_text().splitlines()]
    assert batches == [["m0", "m1", "m2"]]


def test_Q1_a_stack_without_report_batch_item_failures_loses_the_failed_record(dev_export: dict[str, Any]) -> None:
    """The dev stack with ``functionResponseTypes`` removed from its mapping, as such a stack exports: one invocation
    with a real check and a poison message. The worker reports the poison message failed; Lambda ignores that and
    deletes both, so it never reaches the dead-letter queue."""
    export = copy.deepcopy(dev_export)
    for resource in export["deployment"]["resources"]:
        if resource["type"] == "aws:lambda/eventSourceMapping:EventSourceMapping":
            for part in ("inputs", "outputs"):
                resource.get(part, {}).pop("functionResponseTypes", None)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        d = deploy(export)
        try:
            assert d.mapping.report_batch_item_failures is False
            ddb, sqs, sfn = (boto3.client(s, region_name="us-east-1") for s in ("dynamodb", "sqs", "stepfunctions"))
            ddb.put_item(TableName=d.table, Item={"pk": {"S": "SKU#A"}, "stock": {"N": "5"}, "held": {"M": {}}})
            arn = sfn.start_execution(stateMachineArn=d.state_machine_arn, name="o-1", input=json.dumps(
                {"orderId": "o-1", "items": [{"sku": "A", "quantity": 1}]}))["executionArn"]
            sqs.send_message(QueueUrl=d.work_queue_url, MessageBody="this is not an order")
            messages: list[dict[str, Any]] = []
            deadline = time.time() + 20
            while len(messages) < 2 and time.time() < deadline:
                messages += sqs.receive_message(QueueUrl=d.work_queue_url, MaxNumberOfMessages=10,
                                                MessageSystemAttributeNames=["All"]).get("Messages", [])
            p = Poller(d.function, d.mapping, d.work_queue_url)
            _, handler = load_handler(d.function)
            p._invoke(sqs, handler, messages)
            assert (p.stats.deleted, p.stats.failures) == (2, 0)
            assert depth(sqs, d.work_queue_url) == 0 and depth(sqs, d.dlq_url) == 0
            wait_for(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING")
            assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
        finally:
            stop_running(d.state_machine_arn)



ENV_STUB = """
import os

SEEN = {name: os.environ.get(name) for name in ("ONLY_FIRST", "SHARED")}

def handler(event, context):
    return SEEN
"""


def test_a_functions_environment_reaches_its_import_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One function's variables never reach a function loaded after it in the same process (the order workflow's
    ``KEPT_STATUSES`` once leaked into the inventory program's worker), and the process's own are put back."""
    (tmp_path / "env_stub.py").write_text(ENV_STUB)
    monkeypatch.setenv("SHARED", "process")
    monkeypatch.delenv("ONLY_FIRST", raising=False)

    def spec(environment: dict[str, str]) -> FunctionSpec:
        return FunctionSpec(name="env", handler="env_stub.handler", code_path=str(tmp_path),
                            environment=environment, timeout=3, memory_mb=128)

    first, _ = load_handler(spec({"ONLY_FIRST": "yes", "SHARED": "first"}))
    second, _ = load_handler(spec({}))
    assert first.SEEN == {"ONLY_FIRST": "yes", "SHARED": "first"}
    assert second.SEEN == {"ONLY_FIRST": None, "SHARED": "process"}
    assert "ONLY_FIRST" not in os.environ and os.environ["SHARED"] == "process"
