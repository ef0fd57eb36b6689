"""The policy pack, table-driven: one row per case, compliant and violating side by side."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import ResourceValidationArgs, StackValidationArgs
from pulumi_policy.policy import PolicyResource

from policy.audit import _options, evaluate, main
from policy.rules import (
    AWS_MANAGED,
    CALLBACK_STANDARD,
    CALLBACK_TIMEOUT,
    IAM_SCOPING,
    NO_FULL_ACCESS,
    QUEUE_REDRIVE,
    RUNTIME_CREATABLE,
    RUNTIME_SUPPORTED,
    VISIBILITY_TIMEOUT,
    runtime_lifecycle,
)
from policy.rules.visibility_timeout import function_name

TUTORIAL_STACK = Path(__file__).parents[2] / "samples" / "tutorial-stack.json"
"""The console tutorial's setup, written down as a stack export."""
Q = "arn:aws:sqs:us-east-1:123456789012:orders"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "policy"
JUDGED_ON = datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def fixed_date(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Runtimes are judged on a fixed day against the pinned cfn-lint data, so the rows below stay true."""
    monkeypatch.setattr(runtime_lifecycle, "today", lambda: JUDGED_ON)
    yield


def check(policy: Any, typ: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(typ, props, f"urn:pulumi:s::p::{typ}::res", "res", _options(None), None,
                                  config or {"allowlist": []})
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


# (statement, violation expected: a substring of the message, or "" for compliant)
IAM_CASES = [
    (allow("sqs:SendMessage", Q), ""),
    (allow(["sqs:ReceiveMessage", "sqs:DeleteMessage"], [Q]), ""),
    (allow("sqs:SendMessage", "*"), "support resource-level permissions"),
    (allow("SQS:SENDMESSAGE", "*"), "support resource-level permissions"),
    (allow("sqs:*", Q), "every action of a service"),
    (allow("*", "*"), "every action of a service"),
    (allow("dynamodb:Put*", "*"), "support resource-level permissions"),
    (allow("dynamodb:Put*", "arn:aws:dynamodb:us-east-1:123456789012:table/inventory"), "change permissions"),
    (allow("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/inventory"), ""),
    (allow("sqs:SendMessage", "arn:aws:sqs:*:*:*"), "support resource-level permissions"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:*"), "support resource-level permissions"),
    (allow("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/*"), "resource-level"),
    (allow("states:SendTaskSuccess", "*"), ""),
    (allow(["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"], "*"), ""),
    (allow(["logs:CreateLogDelivery", "logs:GetLogDelivery"], "*"), ""),
    (allow("logs:*LogDelivery", "*"), ""),
    (allow("logs:*Delivery", "*"), "logs:createdelivery"),  # also covers resource-scoped delivery actions
    (allow("xray:PutTraceSegments", "*"), ""),
    (allow("iam:PassRole", "*"), "iam:PassRole"),
    (allow("iam:PassRole", "arn:aws:iam::123456789012:role/*"), "iam:PassRole"),
    (allow("iam:PassRole", "arn:aws:iam::123456789012:role/worker"), ""),
    ({"Effect": "Allow", "NotAction": "iam:*", "Resource": Q}, "NotAction"),
    ({"Effect": "Allow", "Action": "sqs:SendMessage", "NotResource": Q}, "NotResource"),
    ({"Effect": "Deny", "Action": "*", "Resource": "*"}, ""),
    ({"Effect": "Deny", "NotAction": "sqs:*", "Resource": "*"}, ""),
    # C21: "?" is a wildcard too, in any ARN segment; judged by what the pattern matches
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:?*"), "wildcard resource name '?*'"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:orders-?"), "wildcard resource name"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:orders-*"), "wildcard resource name"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:?????????????:orders"), "wildcard account"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-?:123456789012:orders"), "wildcard region"),
    (allow("sqs:SendMessage", "arn:aws:s?s:us-east-1:123456789012:orders"), "wildcard service"),
    (allow("sqs:SendMessage", "arn:*:sqs:us-east-1:123456789012:orders"), "wildcard partition"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:*"), "wildcard resource name '*'"),
    (allow("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/?*"), "wildcard resource name"),
    (allow("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:*/inventory"), "wildcard resource type"),
    (allow("dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/inventory/index/*"), ""),
    (allow("states:DescribeExecution", "arn:aws:states:us-east-1:123456789012:execution:orders:*"), ""),
    (allow("states:DescribeExecution", "arn:aws:states:us-east-1:123456789012:execution:?*:*"), "resource name"),
    (allow("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/w:*"), ""),
    (allow("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/*:*"), "resource name"),
    (allow("s3:GetObject", "arn:aws:s3:::orders-bucket/*"), ""),
    (allow("s3:GetObject", "arn:aws:s3:::orders-*/*"), "wildcard resource name"),
    (allow("iam:PassRole", "arn:aws:iam::123456789012:role/service-role/*"), "iam:PassRole"),
    (allow("iam:Pass?ole", "arn:aws:iam::123456789012:role/*"), "iam:PassRole"),
    (allow("iam:PassRole", "arn:aws:iam::123456789012:role/?orker"), "iam:PassRole"),
    (allow("sqs:Send?essage", "*"), "support resource-level permissions"),
    (allow("sqs:?*", Q), "every action of a service"),
    (allow("*:*", Q), "every action of a service"),
    (allow("s?s:SendMessage", Q), "every action of a service"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:orders\n"), ""),
]


@pytest.mark.parametrize(("statement", "expected"), IAM_CASES)
@pytest.mark.parametrize("as_string", [True, False], ids=["json-string", "object"])
@pytest.mark.parametrize("typ", ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy",
                                 "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy",
                                 "aws:iam/role:Role"])
def test_iam_scoping(typ: str, as_string: bool, statement: dict[str, Any], expected: str) -> None:
    document: Any = doc(statement)
    document = json.dumps(document) if as_string else document
    props = {"inlinePolicies": [{"name": "inline", "policy": document}]} if typ == "aws:iam/role:Role" \
        else {"policy": document}
    found = check(IAM_SCOPING, typ, props)
    if expected:
        assert any(expected in m for m in found), found
        assert all(m.startswith("res:") and "Fix:" in m for m in found)
    else:
        assert found == []


def test_iam_allowlist_needs_and_records_a_reason() -> None:
    props = {"policy": doc(allow("sqs:SendMessage", "*"))}
    assert check(IAM_SCOPING, "aws:iam/rolePolicy:RolePolicy", props,
                 {"allowlist": [{"resource": "res", "reason": "legacy fan-out, ticket 12"}]}) == []
    assert check(IAM_SCOPING, "aws:iam/rolePolicy:RolePolicy", props,
                 {"allowlist": [{"resource": "res", "reason": ""}]}) != []
    assert check(IAM_SCOPING, "aws:iam/rolePolicy:RolePolicy", props,
                 {"allowlist": [{"resource": "other", "reason": "x"}]}) != []


ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
LAMBDA_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
# C14: every pulumi-aws type that attaches a managed policy, with the property holding the ARN(s)
ATTACHING = [
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "policyArn", False),
    ("aws:iam/userPolicyAttachment:UserPolicyAttachment", "policyArn", False),
    ("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "policyArn", False),
    ("aws:iam/policyAttachment:PolicyAttachment", "policyArn", False),
    ("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "policyArns", True),
    ("aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive", "policyArns", True),
    ("aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive", "policyArns", True),
    ("aws:iam/role:Role", "managedPolicyArns", True),
    ("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment", "managedPolicyArn", False),
    ("aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive", "managedPolicyArns", True),
    ("aws:quicksight/iamPolicyAssignment:IamPolicyAssignment", "policyArn", False),
]
# (policy ARN, full-access rule violated, AWS-managed rule violated)
MANAGED_ARNS = [
    (ADMIN, True, False),
    ("arn:aws:iam::aws:policy/AmazonSQSFullAccess", True, False),
    ("arn:aws:iam::aws:policy/PowerUserAccess", True, False),
    ("arn:aws-us-gov:iam::aws:policy/AdministratorAccess", True, False),
    (LAMBDA_ROLE, False, True),
    ("arn:aws:iam::123456789012:policy/MyFullAccess", False, False),
]


@pytest.mark.parametrize(("typ", "key", "many"), ATTACHING)
@pytest.mark.parametrize(("arn", "full", "managed"), MANAGED_ARNS)
def test_managed_policy_attachments(typ: str, key: str, many: bool, arn: str, full: bool, managed: bool) -> None:
    props = {key: ["arn:aws:iam::123456789012:policy/mine", arn] if many else arn}
    assert bool(check(NO_FULL_ACCESS, typ, props)) is full
    assert bool(check(AWS_MANAGED, typ, props)) is managed


def test_no_managed_policy_passes() -> None:
    assert check(NO_FULL_ACCESS, "aws:iam/role:Role", {"managedPolicyArns": []}) == []
    assert check(NO_FULL_ACCESS, "aws:iam/role:Role", {"name": "r"}) == []


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


def resource(typ: str, name: str, props: dict[str, Any]) -> PolicyResource:
    return PolicyResource(typ, props, f"urn:pulumi:s::p::{typ}::{name}", name, _options(None), None, None, [], {})


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


# C19: (runtime, blocked: mandatory rule, deprecated: advisory rule), judged on JUDGED_ON with cfn-lint's data
RUNTIMES = [
    ("python3.13", False, False),
    ("nodejs22.x", False, False),
    ("nodejs18.x", False, True),
    ("nodejs20.x", False, True),
    ("python3.10", False, True),
    ("dotnet8", False, True),
    ("nodejs14.x", True, False),
    ("python3.7", True, False),
    ("go1.x", True, False),
    ("provided", True, False),
    ("dotnet9", False, True),  # deprecated, no creation block announced
    ("nodejs99.x", False, False),  # unknown to the data: not judged
]


@pytest.mark.parametrize(("runtime", "blocked", "deprecated"), RUNTIMES)
def test_runtime_lifecycle(runtime: str, blocked: bool, deprecated: bool) -> None:
    blocked_found = check(RUNTIME_CREATABLE, "aws:lambda/function:Function", {"runtime": runtime})
    deprecated_found = check(RUNTIME_SUPPORTED, "aws:lambda/function:Function", {"runtime": runtime})
    assert bool(blocked_found) is blocked
    assert bool(deprecated_found) is deprecated
    for message in blocked_found + deprecated_found:
        assert "cfn-lint 1.58.0" in message and "judged on 2026-11-30" in message


def test_runtime_rules_follow_the_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_lifecycle, "today", lambda: datetime.date(2027, 2, 1))
    assert check(RUNTIME_CREATABLE, "aws:lambda/function:Function", {"runtime": "python3.10"}) != []
    assert check(RUNTIME_SUPPORTED, "aws:lambda/function:Function", {"runtime": "python3.10"}) == []


def task(**extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": True, **extra}


def machine(state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "S", "States": {"S": state}}


# (definition, type, timeout rule violated, standard rule violated)
CALLBACK_CASES = [
    (machine(task(TimeoutSeconds=60)), "STANDARD", False, False),
    (machine(task(TimeoutSecondsPath="$.t")), "STANDARD", False, False),
    (machine(task()), "STANDARD", True, False),
    (machine({"Type": "Parallel", "End": True, "Branches": [machine(task())]}), "STANDARD", True, False),
    (machine({"Type": "Map", "End": True, "Iterator": machine(task())}), "STANDARD", True, False),
    (machine({"Type": "Map", "End": True, "ItemProcessor": machine(task(TimeoutSeconds=5))}), "STANDARD",
     False, False),
    (machine({"Type": "Map", "End": True, "ItemProcessor": machine(
        {"Type": "Parallel", "End": True, "Branches": [machine(task())]})}), "STANDARD", True, False),
    (machine(task(TimeoutSeconds=60)), "EXPRESS", False, True),
    (machine({"Type": "Pass", "End": True}), "EXPRESS", False, False),
]


@pytest.mark.parametrize(("definition", "kind", "no_timeout", "not_standard"), CALLBACK_CASES)
def test_callback_rules(definition: dict[str, Any], kind: str, no_timeout: bool, not_standard: bool) -> None:
    props = {"definition": json.dumps(definition), "type": kind}
    assert bool(check(CALLBACK_TIMEOUT, "aws:sfn/stateMachine:StateMachine", props)) is no_timeout
    assert bool(check(CALLBACK_STANDARD, "aws:sfn/stateMachine:StateMachine", props)) is not_standard


def queue(name: str, redrive: dict[str, Any] | None = None) -> PolicyResource:
    props: dict[str, Any] = {"name": name, "arn": f"arn:aws:sqs:us-east-1:1:{name}"}
    if redrive is not None:
        props["redrivePolicy"] = json.dumps(redrive)
    return PolicyResource("aws:sqs/queue:Queue", props, f"urn:pulumi:s::p::aws:sqs/queue:Queue::{name}", name,
                          _options(None), None, None, [], {})


# (queues, config, names reported)
REDRIVE_CASES = [
    ([queue("work", {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq", "maxReceiveCount": 5}), queue("dlq")],
     {}, []),
    ([queue("lonely")], {}, ["lonely"]),
    ([queue("work", {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq", "maxReceiveCount": 2}), queue("dlq")],
     {}, ["work"]),
    ([queue("work", {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq", "maxReceiveCount": 2}), queue("dlq")],
     {"minMaxReceiveCount": 2}, []),
    ([queue("lonely")], {"allowlist": [{"resource": "lonely", "reason": "fire-and-forget metrics"}]}, []),
]


@pytest.mark.parametrize(("queues", "config", "reported"), REDRIVE_CASES)
def test_queue_dead_letter(queues: list[PolicyResource], config: dict[str, Any], reported: list[str]) -> None:
    found: list[str] = []
    options = {"allowlist": [], "minMaxReceiveCount": 5, **config}
    QUEUE_REDRIVE.validate(StackValidationArgs(queues, options), lambda m, urn=None: found.append(urn or ""))
    assert [u.rsplit("::", 1)[-1] for u in found] == reported


def test_tutorial_setup_fails_the_audit_naming_each_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(TUTORIAL_STACK)]) == 1
    mandatory = {(v.rule, v.resource) for v in evaluate(json.loads((TUTORIAL_STACK).read_text()))
                 if v.level == "mandatory"}
    assert mandatory == {
        ("no-full-access-managed-policies", "LambdaSQSRole-AmazonSQSFullAccess"),
        ("no-full-access-managed-policies", "LambdaSQSRole-AWSStepFunctionsFullAccess"),
        ("callback-task-timeout", "CallbackExample"),
        ("queue-dead-letter", "MyQueue"),
        ("lambda-runtime-creatable", "CallbackFunction"),
    }
    assert "MANDATORY" in capsys.readouterr().out


def test_enforcement_level_is_configurable() -> None:
    export = json.loads((TUTORIAL_STACK).read_text())
    levels = {v.rule: v.level for v in evaluate(export, {"callback-task-timeout": "advisory",
                                                         "queue-dead-letter": {"enforcementLevel": "disabled"}})}
    assert levels["callback-task-timeout"] == "advisory"
    assert "queue-dead-letter" not in levels


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_violation_on_our_own_stacks(stack: str, request: pytest.FixtureRequest,
                                        tmp_path: Path) -> None:
    export = request.getfixturevalue(f"{stack}_export")
    assert evaluate(export) == []
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    assert main([str(path)]) == 0
