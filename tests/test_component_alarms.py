"""Alarms that notify someone, once per new dead letter; protection of stateful resources by config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import resources
from tools.synth import synthesize

TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-alarms"
# Pulumi.prod.yaml's settings under a stack named "production" (the field case C2).
PRODUCTION = """config:
  aws:region: us-east-1
  orderflow:functionTimeoutSeconds: 10
  orderflow:logLevel: INFO
  orderflow:stateMachineLogLevel: ERROR
  orderflow:logRetentionDays: 90
  orderflow:maxConcurrency: 20
  orderflow:reservedConcurrency: 25
  orderflow:alarmTopic: true
"""


def alarms(export: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["inputs"]["name"]: r["inputs"] for r in resources(export, "aws:cloudwatch/metricAlarm:MetricAlarm")}


def test_the_dlq_alarm_fires_on_each_new_dead_letter(prod_export: dict[str, Any]) -> None:
    dlq = alarms(prod_export)["orderflow-prod-inventory-dlq-new-letters"]
    depth, added = dlq["metricQueries"]
    assert depth == {"id": "depth", "returnData": False, "metric": {
        "namespace": "AWS/SQS", "metricName": "ApproximateNumberOfMessagesVisible",
        "dimensions": {"QueueName": "orderflow-prod-inventory-dlq"}, "period": 60, "stat": "Maximum"}}
    assert (added["expression"], added["returnData"]) == ("DIFF(depth)", True)
    assert (dlq["comparisonOperator"], dlq["threshold"]) == ("GreaterThanThreshold", 0)
    assert (dlq["evaluationPeriods"], dlq["datapointsToAlarm"]) == (2, 1)  # DIFF needs the point before
    assert "metricName" not in dlq and "namespace" not in dlq


def test_worker_and_execution_alarms(prod_export: dict[str, Any]) -> None:
    got = {name.removeprefix("orderflow-prod-inventory-"): (a.get("namespace"), a.get("metricName"),
                                                            a.get("dimensions"))
           for name, a in alarms(prod_export).items()}
    fn = {"FunctionName": "orderflow-prod-inventory-worker"}
    sm = {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:orderflow-prod-inventory"}
    assert got == {
        "dlq-new-letters": (None, None, None),
        "oldest-message": ("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": "orderflow-prod-inventory-queue"}),
        "worker-errors": ("AWS/Lambda", "Errors", fn), "worker-throttles": ("AWS/Lambda", "Throttles", fn),
        "executions-failed": ("AWS/States", "ExecutionsFailed", sm),
        "executions-timed-out": ("AWS/States", "ExecutionsTimedOut", sm),
        "executions-aborted": ("AWS/States", "ExecutionsAborted", sm),
    }


def test_alarms_can_notify_an_existing_topic() -> None:
    export = synthesize("prod", config_overrides={"orderflow:alarmTopic": "false", "orderflow:alarmTopicArn": TOPIC})
    assert not resources(export, "aws:sns/topic:Topic")
    assert {tuple(a["alarmActions"]) for a in alarms(export).values()} == {(TOPIC,)}


def test_without_a_topic_alarms_notify_nobody(dev_export: dict[str, Any]) -> None:
    assert {tuple(a["alarmActions"]) for a in alarms(dev_export).values()} == {()}


def protection(export: dict[str, Any]) -> tuple[bool, bool, bool]:
    (table,) = resources(export, "aws:dynamodb/table:Table")
    dlq = next(q for q in resources(export, "aws:sqs/queue:Queue") if q["inputs"]["name"].endswith("-dlq"))
    return table["inputs"]["deletionProtectionEnabled"], table.get("protect", False), dlq.get("protect", False)


@pytest.mark.parametrize(("stack", "overrides", "expected"), [
    ("production", {}, (True, True, True)),  # any stack not marked development is protected, whatever its name
    ("prod", {}, (True, True, True)),
    ("dev", {}, (False, False, False)),  # Pulumi.dev.yaml: development: true
    ("production", {"orderflow:protectStatefulResources": "false"}, (False, False, False)),
    ("dev", {"orderflow:protectStatefulResources": "true"}, (True, True, True)),
])
def test_stateful_resources_are_protected_unless_development(tmp_path: Path, stack: str, overrides: dict[str, str],
                                                             expected: tuple[bool, bool, bool]) -> None:
    stack_file = None
    if stack == "production":
        stack_file = tmp_path / "Pulumi.production.yaml"
        stack_file.write_text(PRODUCTION)
    export = synthesize(stack, config_overrides=overrides, stack_file=stack_file)
    assert protection(export) == expected


def test_reordering_subscribers_keeps_every_subscription() -> None:
    def urns(emails: str) -> set[str]:
        export = synthesize("prod", config_overrides={"orderflow:alarmEmails": emails})
        return {r["urn"] for r in resources(export, "aws:sns/topicSubscription:TopicSubscription")}

    first = urns("a@example.com,b@example.com")
    assert len(first) == 2
    assert urns("b@example.com,a@example.com") == first
