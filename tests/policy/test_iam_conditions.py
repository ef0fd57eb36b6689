"""iam-least-privilege: a condition that pins a wildcard resource name to exact resources, one case per row.

Only resource types named by an id AWS assigns at creation qualify (event source mappings), through the
condition key AWS documents for them, with an exact operator and exact values."""

from __future__ import annotations

from typing import Any

import pytest

from policy.rules.iam_scoping import problems

FN = "arn:aws:lambda:us-east-1:123456789012:function:orders-worker"
ESM = "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:*"


def statement(resource: str, condition: dict[str, Any] | None) -> dict[str, Any]:
    st: dict[str, Any] = {"Sid": "S", "Effect": "Allow", "Action": ["lambda:UpdateEventSourceMapping"],
                          "Resource": [resource]}
    if condition is not None:
        st["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [st]}


CASES = [
    ("ArnEquals on the function", ESM, {"ArnEquals": {"lambda:FunctionArn": [FN]}}, True),
    ("StringEquals, key in other case", ESM, {"StringEquals": {"Lambda:functionArn": FN}}, True),
    ("no condition", ESM, None, False),
    ("ArnLike is not exact", ESM, {"ArnLike": {"lambda:FunctionArn": [FN]}}, False),
    ("IfExists passes when the key is absent", ESM, {"ArnEqualsIfExists": {"lambda:FunctionArn": [FN]}}, False),
    ("a wildcard in the value", ESM, {"ArnEquals": {"lambda:FunctionArn": ["arn:aws:lambda:*:*:function:*"]}}, False),
    ("a question mark in the value", ESM, {"ArnEquals": {"lambda:FunctionArn": [FN[:-1] + "?"]}}, False),
    ("another key", ESM, {"StringEquals": {"aws:ResourceTag/team": "orders"}}, False),
    ("no values", ESM, {"ArnEquals": {"lambda:FunctionArn": []}}, False),
    ("a wildcard account too", "arn:aws:lambda:us-east-1:*:event-source-mapping:*",
     {"ArnEquals": {"lambda:FunctionArn": [FN]}}, False),
    ("another resource type", "arn:aws:lambda:us-east-1:123456789012:function:*",
     {"ArnEquals": {"lambda:FunctionArn": [FN]}}, False),
]


@pytest.mark.parametrize(("case", "resource", "condition", "passes"), CASES, ids=[c[0] for c in CASES])
def test_a_condition_narrows_only_what_aws_documents(case: str, resource: str, condition: dict[str, Any] | None,
                                                     passes: bool) -> None:
    found = problems(statement(resource, condition))
    assert (found == []) is passes, found
