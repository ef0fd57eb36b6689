"""The emulator deploys what a real deploy has: each resource's settings from its outputs first (the
provider's defaults included), then its inputs, in the export's region; the queue refuses what SQS refuses."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.conftest import resources
from tools.emulator.deploy import REGION, deploy, export_region, settings
from tools.emulator.run import run_orders

SQS_DEFAULT_MAX_MESSAGE_SIZE = 262_144
"""pulumi-aws's maxMessageSize when unset (https://www.pulumi.com/registry/packages/aws/api-docs/sqs/queue/)."""


def with_queue_outputs(export: dict[str, Any], **outputs: Any) -> dict[str, Any]:
    """The export as `pulumi stack export` shows it after `up`: provider defaults in each queue's outputs."""
    export = copy.deepcopy(export)
    for queue in resources(export, "aws:sqs/queue:Queue"):
        queue["outputs"].update(outputs)
    return export


def near_256_kib_order(order_id: str, size: int = 262_102) -> dict[str, Any]:
    """An order whose JSON is ``size`` bytes: under Step Functions' 256 KiB input limit on its own, over
    the queue's limit once the task token and execution ARN are added to it."""
    order: dict[str, Any] = {"orderId": order_id, "items": [{"sku": "A", "quantity": 1}], "note": ""}
    order["note"] = "x" * (size - len(json.dumps(order)))
    return order


@pytest.mark.parametrize(("resource", "expected"), [
    ({"inputs": {"a": 1, "b": 2}, "outputs": {"b": 3, "c": 4}}, {"a": 1, "b": 3, "c": 4}),
    ({"inputs": {"a": 1}}, {"a": 1}),
    ({"inputs": {"a": 1}, "outputs": None}, {"a": 1}),
    ({"outputs": {"a": 1}}, {"a": 1}),
    ({"type": "aws:sqs/queue:Queue", "inputs": {"name": "q"}}, {"name": "q", "maxMessageSize": 262_144}),
    ({"type": "aws:sqs/queue:Queue", "inputs": {"maxMessageSize": 1024}}, {"maxMessageSize": 1024}),
])
def test_settings_are_outputs_then_inputs(resource: dict[str, Any], expected: dict[str, Any]) -> None:
    assert settings(resource) == expected


def test_region_is_the_providers(fast_export: dict[str, Any]) -> None:
    assert export_region(fast_export) == "us-east-1"
    eu = copy.deepcopy(fast_export)
    provider = next(r for r in eu["deployment"]["resources"] if r["type"] == "pulumi:providers:aws")
    provider["outputs"]["region"] = "eu-west-1"
    assert export_region(eu) == "eu-west-1"
    assert export_region({"deployment": {"resources": []}}) == REGION


def test_queue_attributes_come_from_outputs_first(fast_export: dict[str, Any]) -> None:
    export = with_queue_outputs(fast_export, maxMessageSize=SQS_DEFAULT_MAX_MESSAGE_SIZE, delaySeconds=0,
                                receiveWaitTimeSeconds=0, visibilityTimeoutSeconds=7, redriveAllowPolicy="")
    with mock_aws():
        d = deploy(export)
        sqs = boto3.client("sqs", region_name=d.region)
        attrs = sqs.get_queue_attributes(QueueUrl=d.work_queue_url, AttributeNames=["All"])["Attributes"]
    assert attrs["MaximumMessageSize"] == str(SQS_DEFAULT_MAX_MESSAGE_SIZE)
    assert attrs["VisibilityTimeout"] == "7"  # the output, not the input (6)
    assert "RedriveAllowPolicy" not in attrs  # an empty string is an unset attribute


@pytest.mark.parametrize(("outputs", "expected"), [
    ({}, "262144"),  # an export without the provider's default still gets it
    ({"maxMessageSize": 2048}, "2048"),
    ({"maxMessageSize": 1_048_576}, "1048576"),
])
def test_queue_size_is_the_providers_unless_set(fast_export: dict[str, Any], outputs: dict[str, Any],
                                                 expected: str) -> None:
    export = copy.deepcopy(fast_export)
    for queue in resources(export, "aws:sqs/queue:Queue"):
        queue["outputs"].pop("maxMessageSize", None)
        queue["inputs"].pop("maxMessageSize", None)
        queue["outputs"].update(outputs)
    with mock_aws():
        d = deploy(export)
        sqs = boto3.client("sqs", region_name=d.region)
        attrs = sqs.get_queue_attributes(QueueUrl=d.work_queue_url, AttributeNames=["MaximumMessageSize"])
    assert attrs["Attributes"]["MaximumMessageSize"] == expected


@pytest.mark.parametrize(("body", "refused"), [
    ("x" * 262_144, False),
    ("x" * 262_145, True),
    ("é" * 131_072, False),  # 262,144 bytes
    ("é" * 131_073, True),  # 131,073 characters (moto alone lets it through) but 262,146 bytes
    ("€" * 90_000, True),  # 270,000 bytes in UTF-8
])
def test_queue_measures_a_message_in_bytes(fast_export: dict[str, Any], body: str, refused: bool) -> None:
    export = with_queue_outputs(fast_export, maxMessageSize=SQS_DEFAULT_MAX_MESSAGE_SIZE)
    with mock_aws():
        d = deploy(export)
        sqs = boto3.client("sqs", region_name=d.region)
        try:
            sqs.send_message(QueueUrl=d.work_queue_url, MessageBody=body)
            error = None
        except ClientError as raised:
            error = raised.response["Error"]
    if refused:
        assert error is not None
        assert "InvalidParameterValue" in error["Code"]
        assert error["Message"] == ("One or more parameters are invalid. Reason: Message must be shorter than "
                                    "262144 bytes.")
    else:
        assert error is None


def test_an_order_near_256_kib_is_never_reserved(fast_export: dict[str, Any]) -> None:
    """Field cases C18, F2: the task's message (order + token) is over the 262,144 bytes of a state and a queue."""
    export = with_queue_outputs(fast_export, maxMessageSize=SQS_DEFAULT_MAX_MESSAGE_SIZE)
    orders = [near_256_kib_order("o-big"), {"orderId": "o-small", "items": [{"sku": "A", "quantity": 1}]}]
    assert len(json.dumps(orders[0]).encode()) == 262_102
    result = run_orders(export, orders, {"A": 5}, worker_log=io.StringIO(), check_least_privilege=False)
    assert [(r.order_id, r.status, r.result) for r in result.runs] == [
        ("o-big", "FAILED", "FAILED"), ("o-small", "SUCCEEDED", "RESERVED")]
    # the message built by Parameters (order + token + execution) is over Step Functions' 256 KiB state limit:
    # States.DataLimitExceeded, terminal, which States.ALL does not catch (AWS's "Error handling" page), so the
    # execution fails at the task, before any SQS call and without the failure path
    assert result.runs[0].reason == "States.DataLimitExceeded"
    entered = [e["stateEnteredEventDetails"]["name"] for e in result.histories["FAILED"]
               if "stateEnteredEventDetails" in e]
    assert entered == ["Check Inventory"]
    assert result.inventory == {"A": 4}
    assert all(i.holds for i in result.invariants), [i.as_json() for i in result.invariants]


def test_an_input_over_256_kib_is_never_started(fast_export: dict[str, Any]) -> None:
    """StartExecution refuses an input over 262,144 bytes of UTF-8 (moto started it): counted in UTF-8 bytes,
    so 140,000 two-byte characters are over, though they are fewer characters than the limit."""
    wide = {"orderId": "o-wide", "items": [{"sku": "A", "quantity": 1}], "note": "\u00e9" * 140_000}
    ascii_over = {"orderId": "o-over", "items": [{"sku": "A", "quantity": 1}], "note": "x" * 262_100}
    small = {"orderId": "o-small", "items": [{"sku": "A", "quantity": 1}]}
    result = run_orders(fast_export, [wide, ascii_over, small], {"A": 5}, worker_log=io.StringIO(),
                        check_least_privilege=False)
    assert [(r.order_id, r.status, r.result, r.reason) for r in result.runs] == [
        ("o-wide", "NOT_STARTED", "FAILED", "ValidationException"),
        ("o-over", "NOT_STARTED", "FAILED", "ValidationException"),
        ("o-small", "SUCCEEDED", "RESERVED", None)]
    assert result.inventory == {"A": 4}
    assert all(i.holds for i in result.invariants), [i.as_json() for i in result.invariants]
