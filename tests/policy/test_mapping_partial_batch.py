"""sqs-mapping-partial-batch judges SQS mappings only: a stream's mapping is never read further, so an unknown
response type there (a first preview) gives no "can't run" either. One case per row."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import ResourceValidationArgs

from policy.audit import _options
from policy.rules.mapping_batch_failures import POLICY

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
TYPE = "aws:lambda/eventSourceMapping:EventSourceMapping"
KINESIS = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
SQS = "arn:aws:sqs:us-east-1:123456789012:orders"

CASES = [
    ("kinesis, response types unknown", {"eventSourceArn": KINESIS, "functionResponseTypes": UNKNOWN}, None),
    ("kinesis, no response types", {"eventSourceArn": KINESIS}, None),
    ("sqs with ReportBatchItemFailures", {"eventSourceArn": SQS, "functionResponseTypes": ["ReportBatchItemFailures"]},
     None),
    ("sqs without", {"eventSourceArn": SQS}, "SQS mapping without ReportBatchItemFailures"),
    ("sqs with other types", {"eventSourceArn": SQS, "functionResponseTypes": ["Other"]},
     "SQS mapping without ReportBatchItemFailures"),
    ("sqs, response types unknown", {"eventSourceArn": SQS, "functionResponseTypes": UNKNOWN}, "is not known"),
]


@pytest.mark.parametrize(("case", "props", "expected"), CASES, ids=[c[0] for c in CASES])
def test_only_sqs_mappings_are_read(case: str, props: dict[str, Any], expected: str | None) -> None:
    args = ResourceValidationArgs(TYPE, props, f"urn:pulumi:s::p::{TYPE}::m", "m", _options(None), None, {})
    found: list[str] = []
    try:
        POLICY.validate(args, lambda message, urn=None: found.append(message))
    except Exception as error:  # the unknown judged property: pulumi-policy turns it into "can't run"
        found.append(str(error))
    assert (found == []) is (expected is None), found
    if expected:
        assert expected in found[0]


def test_the_advisory_states_what_lambda_does() -> None:
    """Q1: without ReportBatchItemFailures Lambda ignores the returned batchItemFailures: a normal return deletes the
    whole batch (failed records lost), a raise returns the whole batch to the queue
    (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html)."""
    args = ResourceValidationArgs(TYPE, {"eventSourceArn": SQS}, f"urn:pulumi:s::p::{TYPE}::m", "m", _options(None),
                                  None, {})
    found: list[str] = []
    POLICY.validate(args, lambda message, urn=None: found.append(message))
    (message,) = found
    assert "ignores the batchItemFailures" in message
    assert "returns normally the whole batch is deleted and the failed records are lost" in message
    assert "when it raises the whole batch is retried" in message
    assert "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html" in message
