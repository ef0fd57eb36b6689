"""The policy pack, table-driven: one row per case, compliant and violating side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import ResourceValidationArgs, StackValidationArgs
from pulumi_policy.policy import PolicyResource

from policy.audit import _options, evaluate, main
from policy.rules import (
    CALLBACK_STANDARD,
    CALLBACK_TIMEOUT,
    IAM_SCOPING,
    NO_FULL_ACCESS,
    QUEUE_REDRIVE,
)

TUTORIAL_STACK = Path(__file__).parent.parent / "samples" / "tutorial-stack.json"
"""The console tutorial's setup, written down as a stack export."""
Q = "arn:aws:sqs:us-east-1:123456789012:orders"


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
    (allow("dynamodb:Put*", "arn:aws:dynamodb:us-east-1:123456789012:table/inventory"), ""),
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


# (type, props, violation expected)
MANAGED_CASES = [
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"policyArn": "arn:aws:iam::aws:policy/AmazonSQSFullAccess"}, True),
    ("aws:iam/policyAttachment:PolicyAttachment", {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, True),
    ("aws:iam/role:Role", {"managedPolicyArns": ["arn:aws:iam::aws:policy/PowerUserAccess"]}, True),
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"}, False),
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"policyArn": "arn:aws:iam::123456789012:policy/MyFullAccess"}, False),
    ("aws:iam/role:Role", {"managedPolicyArns": []}, False),
]


@pytest.mark.parametrize(("typ", "props", "violates"), MANAGED_CASES)
def test_no_full_access(typ: str, props: dict[str, Any], violates: bool) -> None:
    assert bool(check(NO_FULL_ACCESS, typ, props)) is violates


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
