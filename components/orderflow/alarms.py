"""The callback worker's alarms and where they notify.

Each alarm watches one way the service can stop answering:

- ``dlq-new-letters``: a new message reached the dead-letter queue. The queue's depth stays up for the DLQ's
  14-day retention, so an alarm on the depth fires once and stays in ALARM; this one uses metric math on the
  depth's increase, ``DIFF(depth)`` (each value minus the one before it: https://docs.aws.amazon.com/
  AmazonCloudWatch/latest/monitoring/using-metric-math.html#metric-math-syntax). It evaluates two one-minute
  periods (so DIFF has a previous point) and alarms on one rising point; two minutes without a new letter
  return it to OK, so the next dead letter notifies again (letters that arrive within two minutes of each
  other notify once). ``NumberOfMessagesSent`` would not do: a message moved to a DLQ after failed receives is not counted
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).
- ``oldest-message``: work waits in the queue (ApproximateAgeOfOldestMessage).
- ``worker-errors`` / ``worker-throttles``: the worker's invocations fail or are throttled (AWS/Lambda Errors,
  Throttles; https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
- ``executions-failed`` / ``executions-timed-out`` / ``executions-aborted``: executions that ended badly
  (AWS/States; https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html).

Notification: to a topic the stack creates (with optional email and HTTPS subscriptions; SNS asks each endpoint
to confirm), to an existing topic ARN, or nowhere (:func:`unheard` says so, for the preview to warn). A created
topic is encrypted with the stack's customer-managed key when one is given; CloudWatch can publish to it only when
the key policy allows the ``cloudwatch.amazonaws.com`` principal ``kms:Decrypt`` and ``kms:GenerateDataKey*``
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html, "Amazon SNS topics
with encryption"; https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html). Without a key the topic
stays unencrypted: the AWS managed key ``alias/aws/sns`` cannot be used, as its key policy cannot be given
CloudWatch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AlarmTargets:
    """Where alarms notify."""

    create_topic: bool = False
    """Create an SNS topic ``<base>-alarms``."""
    topic_arn: pulumi.Input[str] | None = None
    """An existing topic to notify instead."""
    emails: tuple[str, ...] = ()
    """Email addresses subscribed to the created topic."""
    https_endpoints: tuple[str, ...] = ()
    """HTTPS endpoints subscribed to the created topic."""
    kms_key_arn: pulumi.Input[str] | None = None
    """Customer-managed key of the created topic (SSE); None: unencrypted."""


def unheard(targets: AlarmTargets) -> str | None:
    """Why the alarms would notify no one, or None when they reach a topic someone reads (a subscription, or a
    given topic)."""
    if targets.topic_arn:
        return None
    if not targets.create_topic:
        return "no alarmTopic and no alarmTopicArn: the alarms change state and notify nothing"
    if not (targets.emails or targets.https_endpoints):
        return "alarmTopic creates a topic that nothing subscribes to"
    return None


@dataclass(frozen=True)
class Watched:
    """The names the alarms watch."""

    queue_name: pulumi.Input[str]
    dlq_name: pulumi.Input[str]
    function_name: pulumi.Input[str]
    state_machine_arn: pulumi.Input[str] | None
    """None: the worker has no state machine of its own (no execution alarms)."""


def alarm_topic(name: str, base: str, targets: AlarmTargets, parent: pulumi.Resource) -> aws.sns.Topic | None:
    """The created topic and its subscriptions, or None."""
    if not targets.create_topic:
        return None
    topic = aws.sns.Topic(f"{name}-alarms", name=f"{base}-alarms", kms_master_key_id=targets.kms_key_arn,
                          opts=pulumi.ResourceOptions(parent=parent))
    endpoints = [("email", e) for e in targets.emails] + [("https", u) for u in targets.https_endpoints]
    for protocol, endpoint in endpoints:
        # named by the endpoint, so reordering the list replaces nothing (a repeated endpoint is refused in config)
        aws.sns.TopicSubscription(
            f"{name}-alarms-{protocol}-{hashlib.sha256(endpoint.encode()).hexdigest()[:12]}",
            topic=topic.arn,
            protocol=protocol,
            endpoint=endpoint,
            opts=pulumi.ResourceOptions(parent=topic),
        )
    return topic


def worker_alarms(name: str, base: str, watched: Watched, actions: list[pulumi.Input[str]],
                  oldest_message_seconds: int, parent: pulumi.Resource) -> list[aws.cloudwatch.MetricAlarm]:
    """Every alarm of one callback worker, each notifying ``actions`` on ALARM and OK."""
    opts = pulumi.ResourceOptions(parent=parent)
    common = _common(actions)
    simple = _simple(name, base, actions, parent)

    dlq = aws.cloudwatch.MetricAlarm(
        f"{name}-dlq-new-letters",
        name=f"{base}-dlq-new-letters",
        alarm_description="A new message reached the dead-letter queue: a task could not be answered.",
        threshold=0,
        datapoints_to_alarm=1,
        metric_queries=[
            {"id": "depth", "return_data": False, "metric": {
                "namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesVisible",
                "dimensions": {"QueueName": watched.dlq_name}, "period": 60, "stat": "Maximum"}},
            {"id": "added", "return_data": True, "label": "New dead letters", "expression": "DIFF(depth)"},
        ],
        **{**common, "evaluation_periods": 2},
        opts=opts,
    )
    fn = {"FunctionName": watched.function_name}
    executions = [] if watched.state_machine_arn is None else \
        execution_alarms(name, base, watched.state_machine_arn, actions, parent)
    return [
        dlq,
        simple("oldest-message", "AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": watched.queue_name},
               oldest_message_seconds, "Maximum",
               "Work waits in the queue; tasks will time out on their heartbeat if it keeps growing."),
        simple("worker-errors", "AWS/Lambda", "Errors", fn, 0, "Sum",
               "Worker invocations failed (a crash or timeout; records come back until the DLQ)."),
        simple("worker-throttles", "AWS/Lambda", "Throttles", fn, 0, "Sum",
               "Worker invocations were throttled (reserved or account concurrency exhausted)."),
        *executions,
    ]


def _common(actions: list[pulumi.Input[str]]) -> dict[str, Any]:
    return {"evaluation_periods": 1, "comparison_operator": "GreaterThanThreshold",
            "treat_missing_data": "notBreaching", "alarm_actions": actions, "ok_actions": actions}


def _simple(name: str, base: str, actions: list[pulumi.Input[str]],
            parent: pulumi.Resource) -> Callable[..., aws.cloudwatch.MetricAlarm]:
    """A builder of one-metric alarms ``<name>-<suffix>`` / ``<base>-<suffix>`` notifying ``actions``."""
    common, opts = _common(actions), pulumi.ResourceOptions(parent=parent)

    def simple(suffix: str, namespace: str, metric: str, dimensions: dict[str, Any], threshold: float,
               statistic: str, description: str) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            f"{name}-{suffix}", name=f"{base}-{suffix}", alarm_description=description, namespace=namespace,
            metric_name=metric, dimensions=dimensions, statistic=statistic, period=60, threshold=threshold,
            **common, opts=opts)

    return simple


def execution_alarms(name: str, base: str, state_machine_arn: pulumi.Input[str], actions: list[pulumi.Input[str]],
                     parent: pulumi.Resource) -> list[aws.cloudwatch.MetricAlarm]:
    """The three alarms on a state machine's executions (failed, timed out, aborted), notifying ``actions``."""
    simple = _simple(name, base, actions, parent)
    sm = {"StateMachineArn": state_machine_arn}
    return [
        simple("executions-failed", "AWS/States", "ExecutionsFailed", sm, 0, "Sum",
               "Technical failures (timeouts, undeliverable tasks); business rejections succeed."),
        simple("executions-timed-out", "AWS/States", "ExecutionsTimedOut", sm, 0, "Sum",
               "Executions that outlived their own timeout."),
        simple("executions-aborted", "AWS/States", "ExecutionsAborted", sm, 0, "Sum",
               "Executions stopped by StopExecution (by hand or by a caller): their orders got no answer."),
    ]
