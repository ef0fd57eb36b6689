"""A stack with every option on synthesizes as the engine would accept it: unique URNs, parliament clean."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from parliament import analyze_policy_string

from tests.conftest import resources
from tools.synth import synthesize

ACCOUNT = "123456789012"
MRK = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab"
EVERYTHING = {
    "orderflow:kmsKeyArn": MRK,
    "orderflow:alarmTopic": "true",
    "orderflow:alarmEmails": '["ops@example.com", "oncall@example.org"]',
    "orderflow:alarmHttpsEndpoints": "https://hooks.example.com/alarms",
    "orderflow:reservedConcurrency": "25",
    "orderflow:maxConcurrency": "20",
    "orderflow:batchSize": "50",
    "orderflow:batchingWindowSeconds": "5",
    "orderflow:architecture": "x86_64",
    "orderflow:protectStatefulResources": "true",
}


@pytest.fixture(scope="module")
def everything() -> dict[str, Any]:
    return synthesize("prod", config_overrides=EVERYTHING)


def test_every_urn_is_registered_once(everything: dict[str, Any]) -> None:
    counts = Counter(r["urn"] for r in everything["deployment"]["resources"])
    assert [urn for urn, n in counts.items() if n > 1] == []
    assert len(counts) == 36  # stack, provider, 2 components, 27 resources, 2 key grants, 3 subscriptions


def test_every_role_policy_is_parliament_clean(everything: dict[str, Any]) -> None:
    policies = resources(everything, "aws:iam/rolePolicy:RolePolicy")
    assert {p["inputs"]["name"] for p in policies} >= {"encrypt-messages", "decrypt-messages"}
    for policy in policies:
        findings = analyze_policy_string(policy["inputs"]["policy"]).findings
        assert findings == [], (policy["inputs"]["name"], [f.issue for f in findings])


def test_the_multi_region_key_is_used_unchanged(everything: dict[str, Any]) -> None:
    kms = {(r["inputs"]["name"], tuple(st["Action"]), tuple(st["Resource"]))
           for r in resources(everything, "aws:iam/rolePolicy:RolePolicy")
           for st in json.loads(r["inputs"]["policy"])["Statement"] if st["Action"][0].startswith("kms:")}
    assert kms == {("encrypt-messages", ("kms:Decrypt", "kms:GenerateDataKey"), (MRK,)),
                   ("decrypt-messages", ("kms:Decrypt",), (MRK,))}
    assert {q["inputs"]["kmsMasterKeyId"] for q in resources(everything, "aws:sqs/queue:Queue")} == {MRK}


def test_alarms_reach_the_subscribed_endpoints(everything: dict[str, Any]) -> None:
    (topic,) = resources(everything, "aws:sns/topic:Topic")
    subscriptions = {(s["inputs"]["protocol"], s["inputs"]["endpoint"], s["inputs"]["topic"])
                     for s in resources(everything, "aws:sns/topicSubscription:TopicSubscription")}
    arn = topic["outputs"]["arn"]
    assert subscriptions == {("email", "ops@example.com", arn), ("email", "oncall@example.org", arn),
                             ("https", "https://hooks.example.com/alarms", arn)}
    alarms = resources(everything, "aws:cloudwatch/metricAlarm:MetricAlarm")
    assert len(alarms) == 7
    for alarm in alarms:
        assert alarm["inputs"]["alarmActions"] == [arn] == alarm["inputs"]["okActions"]


def test_reserved_concurrency_and_window_reach_the_resources(everything: dict[str, Any]) -> None:
    (fn,) = resources(everything, "aws:lambda/function:Function")
    assert fn["inputs"]["reservedConcurrentExecutions"] == 25
    assert fn["inputs"]["architectures"] == ["x86_64"]
    (mapping,) = resources(everything, "aws:lambda/eventSourceMapping:EventSourceMapping")
    assert (mapping["inputs"]["batchSize"], mapping["inputs"]["maximumBatchingWindowInSeconds"]) == (50, 5)
    queue = next(q for q in resources(everything, "aws:sqs/queue:Queue") if q["inputs"]["name"].endswith("-queue"))
    assert queue["inputs"]["visibilityTimeoutSeconds"] == 6 * 10 + 5


def test_the_policy_pack_passes_it(everything: dict[str, Any]) -> None:
    from policy.audit import evaluate

    assert [(v.rule, v.resource) for v in evaluate(everything)] == []
