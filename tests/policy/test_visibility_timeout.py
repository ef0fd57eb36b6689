"""queue-visibility-timeout: a queue's visibility covers 6 x its function's timeout + the batching window, whatever
form the mapping names the function in; one row per case."""

from __future__ import annotations

import pytest
from pulumi_policy import StackValidationArgs

from policy.rules import VISIBILITY_TIMEOUT
from policy.rules.visibility_timeout import function_name

from .cases import resource

# C09: a mapping's functionName as AWS accepts it
FUNCTION_NAMES = [
    ("worker", "worker"),
    ("worker:live", "worker"),
    ("arn:aws:lambda:us-east-1:123456789012:function:worker", "worker"),
    ("arn:aws:lambda:us-east-1:123456789012:function:worker:live", "worker"),
    ("arn:aws:lambda:us-east-1:123456789012:function:worker:7", "worker"),
    ("arn:aws:lambda:us-east-1:123456789012:function:worker:$LATEST", "worker"),
    ("123456789012:function:worker", "worker"),
    ("123456789012:function:worker:live", "worker"),
    ("arn:aws-cn:lambda:cn-north-1:123456789012:function:worker", "worker"),
]


@pytest.mark.parametrize(("reference", "name"), FUNCTION_NAMES)
def test_function_name_resolves_every_form(reference: str, name: str) -> None:
    assert function_name(reference) == name


@pytest.mark.parametrize(("reference", "name"), FUNCTION_NAMES)
@pytest.mark.parametrize(("window", "visibility", "reported"), [(0, 30, True), (0, 360, False), (20, 360, True),
                                                                (20, 380, False)])
def test_visibility_rule_follows_every_function_name(reference: str, name: str, window: int, visibility: int,
                                                     reported: bool) -> None:
    stack = [
        resource("aws:sqs/queue:Queue", "work", {"name": "work", "visibilityTimeoutSeconds": visibility}),
        resource("aws:lambda/function:Function", "fn", {"name": name, "timeout": 60}),
        resource("aws:lambda/eventSourceMapping:EventSourceMapping", "trigger", {
            "eventSourceArn": "arn:aws:sqs:us-east-1:123456789012:work", "functionName": reference,
            "maximumBatchingWindowInSeconds": window}),
    ]
    found: list[str] = []
    VISIBILITY_TIMEOUT.validate(StackValidationArgs(stack, {}), lambda m, urn=None: found.append(m))
    assert bool(found) is reported, found


# malformed settings are not judged here (the provider refuses them); never an error
@pytest.mark.parametrize("bad", ["sixty", None, 1.5, True, [], {}])
def test_malformed_settings_are_skipped(bad: object) -> None:
    stack = [
        resource("aws:sqs/queue:Queue", "work", {"name": "work", "visibilityTimeoutSeconds": bad}),
        resource("aws:lambda/function:Function", "fn", {"name": "fn", "timeout": bad}),
        resource("aws:lambda/eventSourceMapping:EventSourceMapping", "trigger", {
            "eventSourceArn": "arn:aws:sqs:us-east-1:123456789012:work", "functionName": "fn",
            "maximumBatchingWindowInSeconds": bad}),
    ]
    found: list[str] = []
    VISIBILITY_TIMEOUT.validate(StackValidationArgs(stack, {}), lambda m, urn=None: found.append(m))
    assert all("cannot read" not in m for m in found)
