"""The pack over the analyzer gRPC protocol, started the way the Pulumi CLI starts it.

The CLI's shim (pulumi/pulumi ``sdk/python/dist/pulumi-analyzer-policy-python``) runs
``python -u -m pulumi.policy <engine address> <pack dir>`` in the pack's folder; in a preview the engine sends
values not known yet as its sentinel strings.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

ROOT = Path(__file__).resolve().parents[2]
MANDATORY = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
ADVISORY = analyzer_pb2.EnforcementLevel.Value("ADVISORY")
REMEDIATE = analyzer_pb2.EnforcementLevel.Value("REMEDIATE")
UNKNOWN = UNKNOWN_STRING_VALUE  # the engine's sentinel for a value not known in a preview
WIDE = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]})
"""A wide grant only iam-least-privilege refuses: an action with resource-level permissions on every queue (the
database decides), nothing that changes permissions."""
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def start_pack(python: str, pack: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], Any]:
    """Start a pack as the CLI's shim does; returns the process and a stub on the port it printed."""
    process = subprocess.Popen([python, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(pack)], cwd=pack,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.isdigit():
        process.kill()
        raise AssertionError(f"the pack did not start: {line!r} {process.communicate()[1].decode()[-2000:]}")
    return process, analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{line}"))


pytestmark = pytest.mark.usefixtures("default_config")
"""Each test starts from the pack's own levels (the analyzer is shared by the module: tests/policy/conftest.py)."""


def struct(value: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(value)
    return s


def analyze(stub: Any, typ: str, name: str, props: dict[str, Any]) -> list[Any]:
    request = analyzer_pb2.AnalyzeRequest(type=typ, properties=struct(props), urn=f"urn:pulumi:dev::p::{typ}::{name}",
                                          name=name)
    return list(stub.Analyze(request).diagnostics)


def test_info_lists_every_rule_with_its_level(analyzer: Any) -> None:
    from policy.rules import POLICIES

    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "orderflow"
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert set(levels) == {p.name for p in POLICIES}
    assert levels["iam-least-privilege"] == MANDATORY
    assert levels["queue-encryption"] == ADVISORY


def test_analyze_reports_a_wildcard_grant_and_passes_a_scoped_one(analyzer: Any) -> None:
    bad = {"role": "r", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]})}
    (diag,) = analyze(analyzer, "aws:iam/rolePolicy:RolePolicy", "wide", bad)
    assert diag.policyName == "iam-least-privilege" and diag.enforcementLevel == MANDATORY
    assert "wide:" in diag.message
    good = {"role": "r", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:123456789012:q"}]})}
    assert analyze(analyzer, "aws:iam/rolePolicy:RolePolicy", "narrow", good) == []


def test_analyze_stack_reports_a_queue_without_dlq(analyzer: Any) -> None:
    queue = analyzer_pb2.AnalyzerResource(type="aws:sqs/queue:Queue", properties=struct({"name": "lonely"}),
                                          urn="urn:pulumi:dev::p::aws:sqs/queue:Queue::lonely", name="lonely")
    diags = list(analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[queue])).diagnostics)
    assert [(d.policyName, d.urn) for d in diags] == [("queue-dead-letter", queue.urn)]


def test_configure_changes_the_enforcement_level(analyzer: Any) -> None:
    config = {"iam-least-privilege": analyzer_pb2.PolicyConfig(enforcementLevel=ADVISORY, properties=struct({}))}
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=config))
    bad = {"role": "r", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:us-east-1:123456789012:q"}]})}
    (diag,) = [d for d in analyze(analyzer, "aws:iam/rolePolicy:RolePolicy", "wide", bad)
               if d.policyName == "iam-least-privilege"]
    assert diag.enforcementLevel == ADVISORY


# A first preview: resources whose other properties are unknown; (type, properties, rule expected MANDATORY)
UNKNOWN_ELSEWHERE = [
    ("aws:iam/rolePolicy:RolePolicy", {"name": "work", "role": UNKNOWN, "policy": WIDE}, "iam-least-privilege"),
    ("aws:iam/role:Role", {"name": UNKNOWN, "arn": UNKNOWN, "assumeRolePolicy": UNKNOWN,
                           "inlinePolicies": [{"name": "work", "policy": WIDE}]}, "iam-least-privilege"),
    ("aws:iam/policy:Policy", {"name": UNKNOWN, "arn": UNKNOWN, "policy": WIDE}, "iam-least-privilege"),
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": UNKNOWN, "policyArn": ADMIN},
     "no-full-access-managed-policies"),
    ("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
     {"roleName": UNKNOWN, "policyArns": [ADMIN]}, "no-full-access-managed-policies"),
    ("aws:iam/userPolicyAttachment:UserPolicyAttachment", {"user": UNKNOWN, "policyArn": ADMIN},
     "no-full-access-managed-policies"),
    ("aws:iam/role:Role", {"name": UNKNOWN, "managedPolicyArns": [ADMIN]}, "no-full-access-managed-policies"),
    ("aws:sfn/stateMachine:StateMachine", {"roleArn": UNKNOWN, "type": "STANDARD", "definition": json.dumps(
        {"StartAt": "S", "States": {"S": {"Type": "Task", "End": True,
                                          "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"}}})},
     "callback-task-timeout"),
    ("aws:lambda/function:Function", {"role": UNKNOWN, "runtime": "nodejs14.x", "code": UNKNOWN},
     "lambda-runtime-creatable"),
]


@pytest.mark.parametrize(("typ", "props", "rule"), UNKNOWN_ELSEWHERE)
def test_mandatory_stays_mandatory_when_other_properties_are_unknown(analyzer: Any, typ: str,
                                                                     props: dict[str, Any], rule: str) -> None:
    diags = [d for d in analyze(analyzer, typ, "res", props) if d.policyName == rule]
    assert not any("can't run" in d.message for d in diags), [d.message for d in diags]
    assert (rule, MANDATORY) in {(d.policyName, d.enforcementLevel) for d in diags}


# The judged property itself unknown: the advisory "can't run", naming the property
UNKNOWN_JUDGED = [
    ("aws:iam/rolePolicy:RolePolicy", {"role": "r", "policy": UNKNOWN}, "iam-least-privilege", "policy"),
    ("aws:iam/role:Role", {"inlinePolicies": [{"name": "w", "policy": UNKNOWN}]}, "iam-least-privilege",
     "inlinePolicies"),
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "r", "policyArn": UNKNOWN},
     "no-full-access-managed-policies", "policyArn"),
]


@pytest.mark.parametrize(("typ", "props", "rule", "key"), UNKNOWN_JUDGED)
def test_an_unknown_judged_property_is_named(analyzer: Any, typ: str, props: dict[str, Any], rule: str,
                                             key: str) -> None:
    diags = [d for d in analyze(analyzer, typ, "res", props) if d.policyName == rule]
    assert [d.enforcementLevel for d in diags] == [ADVISORY]
    assert "can't run" in diags[0].message
    assert f"res: {key} is not known in this preview" in diags[0].message


def test_analyze_stack_judges_redrive_when_arns_are_unknown(analyzer: Any) -> None:
    def queue(name: str, **props: Any) -> Any:
        return analyzer_pb2.AnalyzerResource(type="aws:sqs/queue:Queue", name=name,
                                             urn=f"urn:pulumi:dev::p::aws:sqs/queue:Queue::{name}",
                                             properties=struct({"name": name, "arn": UNKNOWN, "url": UNKNOWN,
                                                                **props}))
    work = queue("work", redrivePolicy=json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq",
                                                   "maxReceiveCount": 1}))
    request = analyzer_pb2.AnalyzeStackRequest(resources=[work, queue("dlq")])
    diags = list(analyzer.AnalyzeStack(request).diagnostics)
    assert [(d.policyName, d.enforcementLevel, d.urn) for d in diags] == [("queue-dead-letter", MANDATORY, work.urn)]


def wire(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else UNKNOWN


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_own_stacks_in_a_first_preview_get_no_diagnostic(analyzer: Any, stack: str) -> None:
    from tools.synth import synthesize

    export = synthesize(stack, preview=True, computed=False)
    resources = [r for r in export["deployment"]["resources"] if r.get("custom") and "pulumi:" not in r["type"][:7]]
    stack_resources = []
    for r in resources:
        props = wire(r.get("inputs") or {})
        name = r["urn"].rsplit("::", 1)[-1]
        assert analyze(analyzer, r["type"], name, props) == [], name
        stack_resources.append(analyzer_pb2.AnalyzerResource(type=r["type"], properties=struct(props), urn=r["urn"],
                                                             name=name))
    assert any(UNKNOWN in json.dumps(wire(r.get("inputs"))) for r in resources)
    request = analyzer_pb2.AnalyzeStackRequest(resources=stack_resources)
    assert list(analyzer.AnalyzeStack(request).diagnostics) == []


def policy_config(level: int, **options: Any) -> Any:
    return analyzer_pb2.PolicyConfig(enforcementLevel=level, properties=struct(options))


# (config sent by the engine, the INVALID_ARGUMENT message must contain)
REFUSED = [
    ({"queue-dead-letter": policy_config(MANDATORY, minMaxReceiveCount=0)},
     "queue-dead-letter: minMaxReceiveCount: 0 is less than the minimum of 1"),
    ({"queue-dead-letter": policy_config(MANDATORY, minMaxReceiveCount="five")},
     "queue-dead-letter: minMaxReceiveCount: 'five' is not of type 'integer'"),
    ({"iam-least-privilege": policy_config(MANDATORY, allowlist=[{"resource": "x"}])},
     "iam-least-privilege: allowlist.0: 'reason' is a required property"),
    ({"iam-least-privilege": policy_config(MANDATORY, allowlist=[{"resource": "break-glass", "reason": "ops"}])},
     "iam-least-privilege: allowlist.0.resource: \"break-glass\" names no single resource"),
]


@pytest.mark.parametrize(("config", "says"), REFUSED)
def test_configure_refuses_what_the_cli_refuses(analyzer: Any, config: dict[str, Any], says: str) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=config))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert says in raised.value.details()


def test_remediate_blocks(analyzer: Any) -> None:
    config = {"iam-least-privilege": policy_config(REMEDIATE)}
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=config))
    diags = analyze(analyzer, "aws:iam/rolePolicy:RolePolicy", "wide", {"role": "r", "policy": WIDE})
    assert diags and {d.enforcementLevel for d in diags} == {MANDATORY}

