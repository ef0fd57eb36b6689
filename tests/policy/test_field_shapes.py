"""Shapes of each kind a pull request could use to get access past the pack, judged the same over gRPC (as the
Pulumi CLI runs the pack) and by the audit (`make audit`): one row per shape, with the mandatory rules it must meet.
The shapes are this project's own, other than the field reports' (which are tried by hand, never read here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime.proto import analyzer_pb2

from policy.audit import evaluate, main

from .cases import allow, doc
from .test_grpc import MANDATORY, struct

pytestmark = pytest.mark.usefixtures("default_config")

ROLE_ARN = "arn:aws:iam::123456789012:role/orderflow-dev-inventory-worker-role"
CALLBACK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps(doc(*statements))


def definition(states: dict[str, Any]) -> str:
    return json.dumps({"StartAt": next(iter(states)), "States": states})


# (type, name, inputs, mandatory rules expected on it)
SHAPES: list[tuple[str, str, dict[str, Any], set[str]]] = [
    ("aws:sns/topicPolicy:TopicPolicy", "alerts-policy", {"arn": "arn:aws:sns:us-east-1:123456789012:alerts",
     "policy": policy({"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "sns:Publish",
                       "Resource": "arn:aws:sns:us-east-1:123456789012:alerts"})}, {"resource-policy-exposure"}),
    ("aws:kms/key:Key", "queue-key", {"policy": policy({
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": "kms:Decrypt",
        "Resource": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"})},
     {"resource-policy-exposure"}),
    ("aws:iam/role:Role", "worker-role", {"name": "worker", "assumeRolePolicy": policy({
        "Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
        "Condition": {"StringLike": {"aws:PrincipalArn": "*"}}})}, {"role-trust-policy"}),
    ("aws-native:iam:RolePolicy", "native-policy", {"roleName": "worker", "policyName": "p",
     "policyDocument": doc(allow("*", "*"))}, {"iam-least-privilege", "iam-privilege-escalation"}),
    ("aws:iam/role:Role", "beanstalk", {"name": "b", "managedPolicyArns": [
        "arn:aws:iam::aws:policy/AdministratorAccess-AWSElasticBeanstalk"]}, {"no-full-access-managed-policies"}),
    ("aws:iam/policy:Policy", "params", {"policy": policy(allow("ssm:GetParameters",
                                                                "arn:aws:ssm:us-east-1:123456789012:parameter/prod/*"))},
     {"iam-least-privilege"}),
    ("aws:iam/rolePolicy:RolePolicy", "self-edit", {"role": "worker", "policy": policy(allow("iam:Put*", ROLE_ARN))},
     {"iam-least-privilege", "iam-privilege-escalation"}),
    ("aws:iam/rolePolicy:RolePolicy", "almost-all", {"role": "worker", "policy": policy(
        allow("sqs:*e*", "arn:aws:sqs:us-east-1:123456789012:orders"))},
     {"iam-least-privilege", "iam-privilege-escalation"}),
    ("aws:iam/rolePolicy:RolePolicy", "typo", {"role": "worker", "policy": policy(allow("stepfunction:StartExecution",
                                                                                       "*"))}, {"iam-least-privilege"}),
    ("aws:iam/rolePolicy:RolePolicy", "assume-admin", {"role": "worker", "policy": policy(allow(
        "sts:AssumeRole", "arn:aws:iam::123456789012:role/admin"))}, {"iam-privilege-escalation"}),
    ("aws:iam/rolePolicy:RolePolicy", "vpc", {"role": "worker", "policy": policy(
        allow("ec2:CreateNetworkInterface", "arn:aws:ec2:us-east-1:123456789012:network-interface/*"),
        allow(["ec2:DeleteNetworkInterface"], "arn:aws:ec2:us-east-1:123456789012:network-interface/*",
              Condition={"StringEquals": {"ec2:Subnet": ["arn:aws:ec2:us-east-1:123456789012:subnet/subnet-1a2b"]}}),
        allow("ec2:DescribeNetworkInterfaces", "*"))}, set()),
    ("aws:iam/rolePolicy:RolePolicy", "secret", {"role": "worker", "policy": policy(allow(
        "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders/api-??????"))},
     set()),
    ("aws:sfn/stateMachine:StateMachine", "machine", {"type": "STANDARD", "definition": definition(
        {"Wait": {"Type": "Task", "Resource": CALLBACK, "End": True, "TimeoutSeconds": 100_000_000}})},
     {"callback-task-timeout"}),
    ("aws:sfn/stateMachine:StateMachine", "fan-out", {"type": "STANDARD", "definition": definition({"Each": {
        "Type": "Map", "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "P", "States": {
                "P": {"Type": "Parallel", "End": True, "Branches": [{"StartAt": "W", "States": {"W": {
                    "Type": "Task", "Resource": CALLBACK, "End": True, "TimeoutSeconds": 60}}}]}}}}})},
     {"callback-requires-standard"}),
    ("aws:lambda/functionUrl:FunctionUrl", "url", {"functionName": "worker", "authorizationType": "NONE"},
     {"resource-policy-exposure"}),
]


@pytest.mark.parametrize(("typ", "name", "props", "rules"), SHAPES, ids=[s[1] for s in SHAPES])
def test_over_grpc_as_the_cli_runs_the_pack(analyzer: Any, typ: str, name: str, props: dict[str, Any],
                                            rules: set[str]) -> None:
    request = analyzer_pb2.AnalyzeRequest(type=typ, properties=struct(props), name=name,
                                          urn=f"urn:pulumi:dev::orderflow::{typ}::{name}")
    diags = list(analyzer.Analyze(request, timeout=60).diagnostics)
    assert {d.policyName for d in diags if d.enforcementLevel == MANDATORY} == rules


def export_of(shapes: list[tuple[str, str, dict[str, Any], set[str]]]) -> dict[str, Any]:
    return {"version": 3, "deployment": {"resources": [
        {"urn": f"urn:pulumi:dev::orderflow::{typ}::{name}", "custom": True, "type": typ, "inputs": props}
        for typ, name, props, _ in shapes]}}


def test_in_the_audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = export_of(SHAPES)
    expected = {(rule, name) for _, name, _, rules in SHAPES for rule in rules}
    assert {(v.rule, v.resource) for v in evaluate(export) if v.level == "mandatory"} == expected
    path = tmp_path / "shapes.json"
    path.write_text(json.dumps(export))
    assert main([str(path)]) == 1
    assert f"{len([1 for v in evaluate(export) if v.level == 'mandatory'])} mandatory" in capsys.readouterr().out


def test_a_pathological_pattern_then_a_normal_resource_over_grpc(analyzer: Any) -> None:
    """The pattern that stalled the analyzer (a backtracking regex) is answered, and the next resource is judged."""
    for action in ("codecommit:" + "*?" * 21 + "X", "s3:" + "*?" * 60 + "Z", "*?" * 300):
        props = {"role": "worker", "policy": policy(allow(action, "arn:aws:codecommit:us-east-1:123456789012:r"),
                                                    allow(action, "*"))}
        request = analyzer_pb2.AnalyzeRequest(type="aws:iam/rolePolicy:RolePolicy", properties=struct(props),
                                              urn="urn:pulumi:dev::orderflow::aws:iam/rolePolicy:RolePolicy::p",
                                              name="p")
        analyzer.Analyze(request, timeout=60)
    normal = {"role": "worker", "policy": policy(allow("sqs:SendMessage", "*"))}
    request = analyzer_pb2.AnalyzeRequest(type="aws:iam/rolePolicy:RolePolicy", properties=struct(normal), name="n",
                                          urn="urn:pulumi:dev::orderflow::aws:iam/rolePolicy:RolePolicy::n")
    diags = list(analyzer.Analyze(request, timeout=60).diagnostics)
    assert [(d.policyName, d.enforcementLevel) for d in diags] == [("iam-least-privilege", MANDATORY)]


def stack_resource(typ: str, name: str, props: dict[str, Any], parent: str = "") -> Any:
    qualified = f"{parent}${typ}" if parent else typ
    return analyzer_pb2.AnalyzerResource(type=typ, name=name, properties=struct(props),
                                         urn=f"urn:pulumi:dev::orderflow::{qualified}::{name}")


def test_stack_shapes_over_grpc(analyzer: Any) -> None:
    arn = "arn:aws:sqs:us-east-1:123456789012:"
    resources = [
        stack_resource("aws:sqs/queue:Queue", "work", {"name": "work"}),
        stack_resource("aws:sqs/queue:Queue", "dlq", {"name": "dlq", "redrivePolicy": json.dumps(
            {"deadLetterTargetArn": arn + "work", "maxReceiveCount": 5})}),
        stack_resource("aws:lambda/eventSourceMapping:EventSourceMapping", "trigger",
                       {"eventSourceArn": arn + "work", "functionName": "worker"}),
        stack_resource("command:local:Command", "grant", {"create": "aws sqs add-permission --label x"}),
        stack_resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "att",
                       {"role": "worker", "policyArn": "arn:aws:iam::123456789012:policy/shared-elsewhere"}),
    ]
    diags = list(analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=60).diagnostics)
    assert sorted((d.policyName, d.urn.rsplit("::", 1)[-1]) for d in diags) == [
        ("access-readable", "att"), ("access-readable", "grant"), ("queue-dead-letter", "work")]


def test_an_allowlist_entry_exempts_its_resource_only(analyzer: Any) -> None:
    """Two RolePolicies named alike (one in a component): the entry names the one by its URN's type and name."""
    config = {"iam-least-privilege": analyzer_pb2.PolicyConfig(enforcementLevel=MANDATORY, properties=struct(
        {"allowlist": [{"resource": "aws:iam/rolePolicy:RolePolicy::break-glass", "reason": "reviewed, OPS-1"}]}))}
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=config))
    props = struct({"role": "ops", "policy": policy(allow("sqs:SendMessage", "*"))})
    for parent, judged in (("", False), ("orderflow:index:CallbackWorker$", True)):
        typ = "aws:iam/rolePolicy:RolePolicy"
        request = analyzer_pb2.AnalyzeRequest(type=typ, properties=props, name="break-glass",
                                              urn=f"urn:pulumi:dev::orderflow::{parent}{typ}::break-glass")
        found = [d.policyName for d in analyzer.Analyze(request, timeout=60).diagnostics]
        assert ("iam-least-privilege" in found) is judged
