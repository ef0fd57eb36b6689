"""The pack over the analyzer gRPC protocol, started the way the Pulumi CLI starts it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
MANDATORY = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
ADVISORY = analyzer_pb2.EnforcementLevel.Value("ADVISORY")


@pytest.fixture(scope="module")
def analyzer() -> Iterator[Any]:
    process = subprocess.Popen([sys.executable, "-u", "__main__.py"], cwd=ROOT / "policy", stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None
    port = int(process.stdout.readline().decode().strip())
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        channel.close()
        process.kill()
        process.wait()


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
    (diag,) = analyze(analyzer, "aws:iam/rolePolicy:RolePolicy", "wide", bad)
    assert diag.enforcementLevel == ADVISORY


