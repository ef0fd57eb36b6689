"""Provider defaults a real deploy reports in a resource's outputs, for the offline synth's export.

After ``pulumi up``, ``pulumi stack export`` holds in each resource's ``outputs`` every argument the provider
filled in, not only those the program set. The ones below change behaviour (a queue's message size limit, a
function's memory, a log group's retention ...), so the emulator deploys them and the policy pack judges them.
Values are the defaults documented by pulumi-aws 7.51 (its argument docs, identical to the registry pages
https://www.pulumi.com/registry/packages/aws/api-docs/ <sqs/queue, lambda/function, lambda/eventsourcemapping,
sfn/statemachine, dynamodb/table, cloudwatch/loggroup, cloudwatch/metricalarm, iam/role, sns/topic>, bridged
from the Terraform AWS provider's resource docs):

- sqs.Queue: delaySeconds 0, maxMessageSize 262144 (256 KiB), messageRetentionSeconds 345600 (4 days),
  receiveWaitTimeSeconds 0, visibilityTimeoutSeconds 30, fifoQueue false, kmsDataKeyReusePeriodSeconds 300;
  SSE-SQS on unless a KMS key is set (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/
  SQSDeveloperGuide/sqs-server-side-encryption.html: new queues are encrypted with SSE-SQS by default).
- lambda.Function: memorySize 128, timeout 3, packageType Zip, reservedConcurrentExecutions -1 (unreserved),
  publish false, architectures [x86_64], ephemeralStorage.size 512, tracingConfig.mode PassThrough.
- lambda.EventSourceMapping (SQS source): batchSize 10, maximumBatchingWindowInSeconds 0, enabled true.
- sfn.StateMachine: type STANDARD, publish false, loggingConfiguration.level OFF, tracingConfiguration.enabled
  false.
- dynamodb.Table: billingMode PROVISIONED, deletionProtectionEnabled false, tableClass STANDARD, streamEnabled
  false, pointInTimeRecovery.enabled false.
- cloudwatch.LogGroup: retentionInDays 0 (never expire), logGroupClass STANDARD, deletionProtectionEnabled false,
  skipDestroy false.
- cloudwatch.MetricAlarm: actionsEnabled true, treatMissingData missing.
- iam.Role: path /, maxSessionDuration 3600, forceDetachPolicies false.
- sns.Topic: fifoTopic false, maximumMessageSize 262144.
"""

from __future__ import annotations

import copy
from typing import Any

PROVIDER_DEFAULTS: dict[str, dict[str, Any]] = {
    "aws:sqs/queue:Queue": {
        "delaySeconds": 0, "maxMessageSize": 262_144, "messageRetentionSeconds": 345_600,
        "receiveWaitTimeSeconds": 0, "visibilityTimeoutSeconds": 30, "fifoQueue": False,
        "kmsDataKeyReusePeriodSeconds": 300,
    },
    "aws:lambda/function:Function": {
        "memorySize": 128, "timeout": 3, "packageType": "Zip", "reservedConcurrentExecutions": -1,
        "publish": False, "architectures": ["x86_64"], "ephemeralStorage": {"size": 512},
        "tracingConfig": {"mode": "PassThrough"},
    },
    "aws:lambda/eventSourceMapping:EventSourceMapping": {
        "batchSize": 10, "maximumBatchingWindowInSeconds": 0, "enabled": True,
    },
    "aws:sfn/stateMachine:StateMachine": {
        "type": "STANDARD", "publish": False,
        "loggingConfiguration": {"level": "OFF", "includeExecutionData": False},
        "tracingConfiguration": {"enabled": False},
    },
    "aws:dynamodb/table:Table": {
        "billingMode": "PROVISIONED", "deletionProtectionEnabled": False, "tableClass": "STANDARD",
        "streamEnabled": False, "pointInTimeRecovery": {"enabled": False},
    },
    "aws:cloudwatch/logGroup:LogGroup": {
        "retentionInDays": 0, "logGroupClass": "STANDARD", "deletionProtectionEnabled": False, "skipDestroy": False,
    },
    "aws:cloudwatch/metricAlarm:MetricAlarm": {"actionsEnabled": True, "treatMissingData": "missing"},
    "aws:iam/role:Role": {"path": "/", "maxSessionDuration": 3600, "forceDetachPolicies": False},
    "aws:sns/topic:Topic": {"fifoTopic": False, "maximumMessageSize": 262_144},
}


def _merge(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """``given`` over ``defaults``; nested objects merge key by key, any other value replaces."""
    merged = copy.deepcopy(defaults)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def with_provider_defaults(typ: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The resource's settings as the provider reports them after create: its inputs over the defaults."""
    defaults = dict(PROVIDER_DEFAULTS.get(typ, {}))
    if typ == "aws:sqs/queue:Queue":
        defaults["sqsManagedSseEnabled"] = not inputs.get("kmsMasterKeyId")
    return _merge(defaults, inputs)
