"""The emulated Lambda SQS poller: partial-batch responses judged as Lambda judges them (field case C03), a poller
that survives errors, and the batching window held."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tools.emulator import moto_fixes
from tools.emulator.deploy import FunctionSpec, MappingSpec
from tools.emulator.poller import Poller, failed_ids

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

def handler(event, context):
    mode = os.environ["STUB_MODE"]
    with open(os.environ["STUB_LOG"], "a") as log:
        log.write(json.dumps(sorted(r["body"] for r in event["Records"])) + "\\n")
    if mode == "empty":
        return {"batchItemFailures": [{"itemIdentifier": ""}]}
    if mode == "null":
        return {"batchItemFailures": [{"itemIdentifier": None}]}
    return {"batchItemFailures": []}
'''


@pytest.fixture
def queue() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        moto_fixes.apply()
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        yield sqs, url


def poller(tmp_path: Path, url: str, mode: str, *, batch_size: int = 10, window: int = 0) -> Poller:
    (tmp_path / "stub_handler.py").write_text(STUB)
    spec = FunctionSpec(name="stub", handler="stub_handler.handler", code_path=str(tmp_path),
                        environment={"STUB_MODE": mode, "STUB_LOG": str(tmp_path / "batches.log")},
                        timeout=3, memory_mb=128)
    mapping = MappingSpec(queue_arn="arn:aws:sqs:us-east-1:123456789012:q", function_name="stub",
                          batch_size=batch_size, window_seconds=window, max_concurrency=1,
                          report_batch_item_failures=True)
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
