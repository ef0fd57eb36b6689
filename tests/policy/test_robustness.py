"""No input makes a rule raise, hang or slow the analyzer: every rule is fed malformed values of every property it
reads; wildcards are matched in linear passes (checked against a reference matcher); the guard turns what a rule
cannot read into a finding; a pathological pattern over gRPC is followed by a normal resource, judged as usual."""

from __future__ import annotations

import fnmatch
import json
import random
import re
from typing import Any

import pytest
from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs

from policy.audit import _options
from policy.rules import IAM_SCOPING, POLICIES
from policy.rules._common import NotJudgeable
from policy.rules._glob import glob_match
from policy.rules._guard import OverBudget, guarded

from .cases import doc, resource, urn

PATHOLOGICAL = "*?" * 40 + "X"
MALFORMED: list[Any] = [
    None, 0, -1, 1.5, True, "", "x", "{", "[]", "9" * 40, [], [None], {}, {"a": [{"b": [{"c": {}}]}]},
    {"Statement": 5}, {"Statement": [5, "x", None]},
    {"Statement": [{"Effect": 3, "Action": {"a": 1}, "Resource": [[]], "Principal": 7, "Condition": "x"}]},
    {"Statement": {"Effect": "Allow", "Action": ["s3:" + PATHOLOGICAL, PATHOLOGICAL], "Resource": ["*", 5],
                   "Principal": {"AWS": [1, None], "Federated": [{}]},
                   "Condition": {"StringLike": {"aws:PrincipalArn": [None, 5]}, "x": 5}}},
    json.dumps({"Statement": [{"Effect": "Allow", "Action": 5, "Resource": {"a": 1}, "NotPrincipal": "*"}]}),
    {"States": 5}, {"StartAt": "a", "States": {"a": {"Type": "Map", "ItemProcessor": {
        "ProcessorConfig": 5, "States": {"b": {"Type": "Task", "Resource": "x.waitForTaskToken",
                                                "TimeoutSeconds": "99", "HeartbeatSeconds": [1]}}}, "Branches": 5}}},
    "Resources:\n  R: !Ref\n", "Resources: [1, 2]", "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties: 5\n",
    {"deadLetterTargetArn": 5, "maxReceiveCount": "ten"},
    json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:q", "maxReceiveCount": "1e3"}),
    {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": "{not json"},
    "[" * 100_000 + "]" * 100_000, '{"Statement": ' + "[" * 50_000 + "]" * 50_000 + "}",
    # a YAML bomb: nine aliases of nine aliases ... stand for 9**9 values in a few hundred characters
    "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    + "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties: {Policies: *i}\n",
]
READS: dict[str, list[str]] = {
    "aws:iam/rolePolicy:RolePolicy": ["policy"],
    "aws:iam/role:Role": ["inlinePolicies", "assumeRolePolicy", "managedPolicyArns", "arn"],
    "aws-native:iam:Role": ["policies", "assumeRolePolicyDocument", "managedPolicyArns"],
    "aws:sqs/queue:Queue": ["policy", "redrivePolicy", "name", "arn", "visibilityTimeoutSeconds",
                            "sqsManagedSseEnabled", "kmsMasterKeyId"],
    "aws-native:sqs:Queue": ["queueName", "redrivePolicy"],
    "aws:sqs/queuePolicy:QueuePolicy": ["policy", "queueUrl"],
    "aws:sqs/redrivePolicy:RedrivePolicy": ["queueUrl", "redrivePolicy"],
    "aws:lambda/permission:Permission": ["principal", "sourceArn", "sourceAccount", "principalOrgId", "function"],
    "aws:lambda/functionUrl:FunctionUrl": ["authorizationType"],
    "aws:lambda/function:Function": ["runtime", "timeout", "name", "arn"],
    "aws:lambda/eventSourceMapping:EventSourceMapping": ["eventSourceArn", "functionResponseTypes", "functionName",
                                                         "maximumBatchingWindowInSeconds"],
    "aws:sfn/stateMachine:StateMachine": ["definition", "type", "loggingConfiguration", "tracingConfiguration"],
    "aws-native:stepfunctions:StateMachine": ["definition", "definitionString", "stateMachineType"],
    "aws:cloudformation/stack:Stack": ["templateBody", "templateUrl"],
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ["policyArn"],
    "command:local:Command": ["create"],
}
"""Every resource type the rules judge, and every property they read of it."""


def run(policy: Any, typ: str, props: dict[str, Any]) -> list[str]:
    found: list[str] = []
    report = lambda message, urn=None: found.append(message)  # noqa: E731
    try:
        if isinstance(policy, ResourceValidationPolicy):
            policy.validate(ResourceValidationArgs(typ, props, urn(typ, "r"), "r", _options(None), None,
                                                   {"allowlist": []}), report)
        else:
            stack = [resource(typ, "r", props),
                     resource("aws:lambda/eventSourceMapping:EventSourceMapping", "m",
                              {"eventSourceArn": "arn:aws:sqs:us-east-1:123456789012:r", "functionName": "r"}),
                     resource("aws:lambda/function:Function", "fn", {"name": "r"})]
            policy.validate(StackValidationArgs(stack, {"allowlist": [], "minMaxReceiveCount": 5}), report)
    except NotJudgeable:  # unknown or encrypted: pulumi-policy's "can't run", the audit's report; never a crash
        pass
    return found


@pytest.mark.parametrize("policy", POLICIES, ids=[p.name for p in POLICIES])
def test_malformed_values_of_every_property_never_break_a_rule(policy: Any) -> None:
    for typ, keys in READS.items():
        for key in keys:
            for value in MALFORMED:
                for message in run(policy, typ, {key: value}):
                    assert "cannot read what it judges" not in message, (typ, key, value, message)
                    assert "took more than" not in message, (typ, key, value, message)


def reference(pattern: str, value: str) -> bool:
    """IAM's wildcards through fnmatch (which would also read [..], absent from the cases below)."""
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def test_glob_matches_as_iam_does() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        value = "".join(rng.choice("ab:") for _ in range(rng.randint(0, 8)))
        pattern = "".join(rng.choice("ab:*?") for _ in range(rng.randint(0, 6)))
        assert glob_match(pattern, value) is reference(pattern, value), (pattern, value)
    assert glob_match("SQS:Send*", "sqs:sendmessage") and not glob_match("sqs:Send*", "sqs:x", ignore_case=False)


@pytest.mark.parametrize("value", ["codecommit:" + "a" * 64, "a" * 2000 + "X", "X"])
def test_pathological_patterns_are_answered(value: str) -> None:
    """A backtracking regex takes exponential time here; the matcher answers at once."""
    assert glob_match(PATHOLOGICAL, value) is (value.endswith("X") and len(value) > 40)
    assert re.compile(r"\*\?").search(PATHOLOGICAL)


def test_the_guard_turns_errors_and_overruns_into_findings() -> None:
    def broken(args: Any, report: Any) -> None:
        raise TypeError("unhashable type: 'dict'")

    def slow(args: Any, report: Any) -> None:
        raise OverBudget("judging it took more than 2 s")

    for validate, says in ((broken, "cannot read what it judges (TypeError"), (slow, "took more than 2 s")):
        found: list[str] = []

        def report(message: str, urn: str | None = None, found: list[str] = found) -> None:
            found.append(message)

        guarded(validate)(ResourceValidationArgs("t", {}, "u", "r", _options(None), None, {}), report)
        assert len(found) == 1 and says in found[0]


def test_a_pathological_pattern_is_judged_on_what_it_matches() -> None:
    props = {"policy": doc({"Effect": "Allow", "Action": "iam:" + "*?" * 8 + "y",
                            "Resource": "arn:aws:iam::123456789012:role/r"})}
    found = run(IAM_SCOPING, "aws:iam/rolePolicy:RolePolicy", props)
    assert len(found) == 1 and "change permissions (iam:" in found[0]


def test_a_resource_past_its_time_bound_is_refused_and_the_next_is_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search loops check the per-resource deadline: with no time left the resource is refused, not hung on."""
    from policy.rules import _guard

    props = {"policy": doc({"Effect": "Allow", "Action": "sqs:Send*", "Resource": "*"})}
    monkeypatch.setattr(_guard, "PER_RESOURCE_SECONDS", -1.0)
    (found,) = run(IAM_SCOPING, "aws:iam/rolePolicy:RolePolicy", props)
    assert "took more than -1 s, so it is refused" in found
    monkeypatch.setattr(_guard, "PER_RESOURCE_SECONDS", 2.0)
    (found,) = run(IAM_SCOPING, "aws:iam/rolePolicy:RolePolicy", props)
    assert "support resource-level permissions" in found
