"""Shared fixtures: the synthesized stacks, and the dev stack deployed into moto with the real handler."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

# Tests that run the project's uv themselves trust the platform's certificate store as the Makefile's uv does
# (a TLS-inspecting proxy's CA), also when pytest is run without make.
os.environ.setdefault("UV_SYSTEM_CERTS", "1")

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    POWERTOOLS_LOG_LEVEL="WARNING",
)

import boto3
from moto import mock_aws

from tools.emulator import dynamodb_contention, quotas
from tools.emulator.deploy import Deployment, deploy
from tools.emulator.poller import LambdaContext, _record, load_handler
from tools.emulator.run import stop_running
from tools.synth import synthesize

FAST = {"orderflow:functionTimeoutSeconds": "1"}
"""Short timeouts (visibility 6 s, heartbeat 12 s, task 36 s) so timeout paths run within a test."""


@pytest.fixture(scope="session")
def dev_export() -> dict[str, Any]:
    return synthesize("dev")


@pytest.fixture(scope="session")
def prod_export() -> dict[str, Any]:
    return synthesize("prod")


@pytest.fixture(scope="session")
def fast_export() -> dict[str, Any]:
    return synthesize("dev", config_overrides=FAST)


def resources(export: dict[str, Any], typ: str) -> list[dict[str, Any]]:
    return [r for r in export["deployment"]["resources"] if r["type"] == typ]


@dataclass
class Emulated:
    """The stack in moto, plus helpers to drive one execution through the real handler."""

    d: Deployment
    handler: Callable[[dict[str, Any], Any], Any]
    module: Any

    @property
    def sfn(self) -> Any:
        return boto3.client("stepfunctions")

    @property
    def sqs(self) -> Any:
        return boto3.client("sqs")

    @property
    def ddb(self) -> Any:
        return boto3.client("dynamodb")

    def seed(self, stock: dict[str, int]) -> None:
        """Each sku's item as the tools write it: its stock and an empty map of unanswered reservations."""
        for sku, quantity in stock.items():
            self.ddb.put_item(TableName=self.d.table, Item={"pk": {"S": f"SKU#{sku}"}, "stock": {"N": str(quantity)},
                                                            "held": {"M": {}}})

    def stock(self, sku: str) -> int | None:
        item = self.ddb.get_item(TableName=self.d.table, Key={"pk": {"S": f"SKU#{sku}"}}).get("Item")
        return int(item["stock"]["N"]) if item else None

    def reservation(self, order_id: str) -> dict[str, Any] | None:
        return self.ddb.get_item(TableName=self.d.table, Key={"pk": {"S": f"ORDER#{order_id}"}}).get("Item")

    def start(self, order: Any, name: str) -> str:
        return self.sfn.start_execution(stateMachineArn=self.d.state_machine_arn, name=name,
                                        input=json.dumps(order, ensure_ascii=False))["executionArn"]

    def receive(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait for ``count`` messages on the work queue, as Lambda-shaped records."""
        got: list[dict[str, Any]] = []
        deadline = time.time() + timeout
        while len(got) < count and time.time() < deadline:
            messages = self.sqs.receive_message(QueueUrl=self.d.work_queue_url, MaxNumberOfMessages=10,
                                                MessageSystemAttributeNames=["All"]).get("Messages", [])
            got += [_record(m, self.d.mapping.queue_arn) for m in messages]
            if not messages:
                time.sleep(0.05)
        assert len(got) == count, f"expected {count} messages, got {len(got)}"
        return got

    def receive_release(self, execution_arn: str, timeout: float = 10.0) -> dict[str, Any]:
        """The failure path's release message for ``execution_arn``; redelivered checks are left in flight."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for message in self.sqs.receive_message(QueueUrl=self.d.work_queue_url, MaxNumberOfMessages=10,
                                                    MessageSystemAttributeNames=["All"]).get("Messages", []):
                body = json.loads(message["Body"])
                if body.get("action") == "release" and body.get("execution") == execution_arn:
                    return _record(message, self.d.mapping.queue_arn)
            time.sleep(0.05)
        raise AssertionError(f"no release message for {execution_arn}")

    def invoke(self, records: list[dict[str, Any]]) -> set[str]:
        """Run the handler on a batch; returns the message ids it reported failed."""
        response = self.handler({"Records": records}, LambdaContext(self.d.function.name, 256, 3))
        return {f["itemIdentifier"] for f in response["batchItemFailures"]}

    def fail_until_dead_lettered(self, body: str) -> None:
        """Put ``body`` on the work queue and deliver it maxReceiveCount times, asserting the handler reports it
        failed each time; then assert it left the work queue and is the one message in the DLQ."""
        self.sqs.send_message(QueueUrl=self.d.work_queue_url, MessageBody=body)
        redrive = self.sqs.get_queue_attributes(QueueUrl=self.d.work_queue_url,
                                                AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
        for _ in range(json.loads(redrive)["maxReceiveCount"]):
            (record,) = self.receive()
            assert self.invoke([record]) == {record["messageId"]}
            self.sqs.change_message_visibility(QueueUrl=self.d.work_queue_url,
                                               ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)
        assert self.sqs.receive_message(QueueUrl=self.d.work_queue_url).get("Messages") is None
        (dead,) = self.sqs.receive_message(QueueUrl=self.d.dlq_url)["Messages"]
        assert dead["Body"] == body

    def wait(self, execution_arn: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            desc = self.sfn.describe_execution(executionArn=execution_arn)
            if desc["status"] != "RUNNING":
                return desc
            time.sleep(0.1)
        raise AssertionError(f"{execution_arn} still running after {timeout}s")

    def queue_depth(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _emulate(export: dict[str, Any]) -> Iterator[Emulated]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        d = deploy(export)
        dynamodb_contention.reset()
        quotas.reset()
        module, handler = load_handler(d.function)
        yield Emulated(d=d, handler=handler, module=module)
        stop_running(d.state_machine_arn)


@pytest.fixture
def emulated(dev_export: dict[str, Any]) -> Iterator[Emulated]:
    yield from _emulate(dev_export)


@pytest.fixture
def fast_emulated(fast_export: dict[str, Any]) -> Iterator[Emulated]:
    yield from _emulate(fast_export)
