"""CallbackWorker: one queue-based Step Functions callback worker, secure by default.

It bundles the work queue and its dead-letter queue, the Standard state machine whose callback task
sends the order and its task token to the queue, the worker Lambda with its SQS trigger, log groups,
alarms, and two least-privilege roles. Physical names derive from the project, stack and component name,
so every ARN (and so every IAM document) is a plain string known in the first preview.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam, powertools
from components.alarms import AlarmTargets, Watched, alarm_topic, worker_alarms
from components.aws_context import AwsContext
from components.code_asset import source_archive
from components.definition import CallbackDefinition
from components.provider_region import checked_layer
from components.settings import DLQ_RETENTION_SECONDS, SettingsError, WorkerSettings

LAMBDA_RUNTIME = "python3.13"
MAX_BASE_NAME = 52
"""Longest name prefix that leaves room for the longest suffix ("-worker-role") in a 64-character IAM name."""


@dataclass
class CallbackWorkerArgs:
    """Arguments of :class:`CallbackWorker`."""

    settings: WorkerSettings
    """Timing and sizing; validated (and derived defaults filled) when the component is built."""
    code_path: str
    """Folder packaged as the worker's code (its root is the import root)."""
    handler: str
    """Handler string, ``module.function`` relative to ``code_path``."""
    ctx: AwsContext
    """Account, region and partition the ARNs are built for."""
    name_prefix: str | None = None
    """Prefix of every physical name; default ``<project>-<stack>``."""
    environment: dict[str, str] = field(default_factory=dict)
    """Extra environment variables of the worker."""
    worker_statements: list[dict[str, Any]] = field(default_factory=list)
    """Extra IAM statements for the worker (e.g. its table), each scoped to exact ARNs."""
    kms_key_arn: str | None = None
    """Customer-managed KMS key for both queues; default SSE-SQS. Each role then gets exactly its KMS actions."""
    alarm_topic: bool = False
    """Create an SNS topic and send every alarm to it."""
    alarm_topic_arn: str | None = None
    """Send every alarm to this existing SNS topic instead (exclusive with ``alarm_topic``)."""
    alarm_emails: tuple[str, ...] = ()
    """Email addresses subscribed to the created alarm topic."""
    alarm_https_endpoints: tuple[str, ...] = ()
    """HTTPS endpoints subscribed to the created alarm topic."""
    powertools_layer_arn: str | None = None
    """Powertools layer to use instead of the public one of the pinned version (for partitions without it)."""
    protect: bool = True
    """Protect the dead-letter queue (``protect``: a destroy or replacement needs an explicit unprotect)."""
    task_name: str = "Check Inventory"
    """Name of the callback state in the definition."""


class CallbackWorker(pulumi.ComponentResource):
    """A queue-based callback worker: queue + DLQ, state machine, Lambda worker, roles, logs, alarms."""

    queue_url: pulumi.Output[str]
    """URL of the work queue."""
    queue_arn: pulumi.Output[str]
    """ARN of the work queue."""
    dlq_url: pulumi.Output[str]
    """URL of the dead-letter queue."""
    dlq_arn: pulumi.Output[str]
    """ARN of the dead-letter queue."""
    state_machine_arn: pulumi.Output[str]
    """ARN of the Standard state machine."""
    function_name: pulumi.Output[str]
    """Name of the worker Lambda."""
    function_arn: pulumi.Output[str]
    """ARN of the worker Lambda."""
    worker_role_arn: pulumi.Output[str]
    """ARN of the worker's execution role."""
    state_machine_role_arn: pulumi.Output[str]
    """ARN of the state machine's role."""
    alarm_topic_arn: pulumi.Output[str | None]
    """ARN of the topic the alarms notify (created or given), or None."""

    def __init__(self, name: str, args: CallbackWorkerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:index:CallbackWorker", name, None, opts)
        b = _Build.start(self, name, args)
        # first, so a partition without the public layer fails before any child is registered
        layer = powertools.layer_arn(self, b.ctx.partition, b.s.architecture, LAMBDA_RUNTIME,
                                     args.powertools_layer_arn)
        # the layer came through the component's provider: a context of another region fails the preview here
        layer = checked_layer(name, b.ctx.region, layer)
        sm_role, worker_role = _roles(b)
        queue, dlq = _queues(b)
        sm_send = b.grant(sm_role, "send-to-queue", [iam.allow("SendToQueue", ["sqs:SendMessage"], [b.queue_arn])])
        key_grants = _key_grants(b, sm_role, worker_role)
        function, worker_grants = _worker(b, worker_role, layer)
        mapping = aws.lambda_.EventSourceMapping(
            f"{name}-trigger",
            event_source_arn=queue.arn,
            function_name=function.name,
            batch_size=b.s.batch_size,
            maximum_batching_window_in_seconds=b.s.batching_window_seconds,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config={"maximum_concurrency": b.s.max_concurrency},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*worker_grants, *key_grants]),
        )
        state_machine = _state_machine(b, sm_role, [sm_send, *key_grants, queue])

        targets = AlarmTargets(args.alarm_topic, args.alarm_topic_arn, args.alarm_emails, args.alarm_https_endpoints,
                               args.kms_key_arn)
        topic = alarm_topic(name, b.base, targets, self)
        notify: pulumi.Input[str] | None = topic.arn if topic else args.alarm_topic_arn
        worker_alarms(name, b.base, Watched(queue.name, dlq.name, function.name, state_machine.arn),
                      [notify] if notify else [], b.s.oldest_message_alarm_seconds or 60, self)

        self.queue_url = queue.url
        self.queue_arn = queue.arn
        self.dlq_url = dlq.url
        self.dlq_arn = dlq.arn
        self.state_machine_arn = state_machine.arn
        self.function_name = function.name
        self.function_arn = function.arn
        self.worker_role_arn = worker_role.arn
        self.state_machine_role_arn = sm_role.arn
        self.alarm_topic_arn = pulumi.Output.from_input(notify)
        self.event_source_mapping_id = mapping.id
        self.register_outputs(
            {
                "queue_url": self.queue_url,
                "queue_arn": self.queue_arn,
                "dlq_url": self.dlq_url,
                "dlq_arn": self.dlq_arn,
                "state_machine_arn": self.state_machine_arn,
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "worker_role_arn": self.worker_role_arn,
                "state_machine_role_arn": self.state_machine_role_arn,
                "alarm_topic_arn": self.alarm_topic_arn,
            }
        )


@dataclass
class _Build:
    """What every part of one CallbackWorker needs: the component, its names and settings, and its grants."""

    owner: CallbackWorker
    name: str
    base: str
    args: CallbackWorkerArgs
    s: WorkerSettings
    granted: set[str] = field(default_factory=set)

    @classmethod
    def start(cls, owner: CallbackWorker, name: str, args: CallbackWorkerArgs) -> _Build:
        """Resolve the settings and the name prefix; raises SettingsError before any child exists."""
        s = args.settings.resolved()
        base = f"{args.name_prefix or f'{pulumi.get_project()}-{pulumi.get_stack()}'}-{name}"
        if len(base) > MAX_BASE_NAME:
            raise SettingsError([f"name prefix {base!r} (<project>-<stack>-<component>) is {len(base)} characters; "
                                 f"at most {MAX_BASE_NAME} fit IAM's 64-character role names: use a shorter stack "
                                 "or component name"])
        key = args.kms_key_arn
        # AWS services use a KMS key of their own Region, a multi-Region key through its replica there
        # (https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html)
        if key and key.split(":")[1:4:2] != [args.ctx.partition, args.ctx.region]:
            raise SettingsError([f"kmsKeyArn={key!r} is not in the queues' partition and region ({args.ctx.partition}, "
                                 f"{args.ctx.region}): SQS uses a key of its own region; give that key, or the "
                                 "multi-Region key's replica there"])
        return cls(owner, name, base, args, s)

    @property
    def ctx(self) -> AwsContext:
        return self.args.ctx

    @property
    def child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.owner)

    @property
    def queue_name(self) -> str:
        return f"{self.base}-queue"

    @property
    def dlq_name(self) -> str:
        return f"{self.base}-dlq"

    @property
    def function_name(self) -> str:
        return f"{self.base}-worker"

    @property
    def queue_arn(self) -> str:
        return self.ctx.queue_arn(self.queue_name)

    @property
    def log_key(self) -> str | None:
        """A log group's key, the stack's (None: CloudWatch Logs' own). CloudWatch Logs encrypts with it only when
        the key policy allows the ``logs.<region>.amazonaws.com`` principal for the group's ARN as encryption
        context (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)."""
        return self.args.kms_key_arn

    def grant(self, role: aws.iam.Role, suffix: str, statements: list[dict[str, Any]]) -> aws.iam.RolePolicy:
        """An inline policy of ``role`` named ``suffix``; the resource name carries the suffix, so a suffix is used
        once per component whatever the role (else two RolePolicy resources would share one URN)."""
        if suffix in self.granted:
            raise ValueError(f"{self.name}: grant {suffix!r} registered twice (one URN for two RolePolicy resources)")
        self.granted.add(suffix)
        return aws.iam.RolePolicy(f"{self.name}-{suffix}", name=suffix, role=role.id,
                                  policy=iam.policy_document(statements), opts=self.child)


def _roles(b: _Build) -> tuple[aws.iam.Role, aws.iam.Role]:
    """The state machine's role (trusted by Step Functions for this machine, its versions and aliases only) and
    the worker's execution role; grants are attached next to the resource each concerns."""
    sm_arn = b.ctx.state_machine_arn(b.base)
    sm_role = aws.iam.Role(
        f"{b.name}-sm-role",
        name=f"{b.base}-sm-role",
        description=f"Step Functions role of {b.base}",
        assume_role_policy=iam.trust_policy(
            "states.amazonaws.com",
            {
                "StringEquals": {"aws:SourceAccount": b.ctx.account_id},
                # the machine, its versions (<arn>:<n>) and aliases (<arn>:<alias>); names hold no ':'
                "ArnLike": {"aws:SourceArn": [sm_arn, f"{sm_arn}:*"]},
            },
        ),
        opts=b.child,
    )
    worker_role = aws.iam.Role(
        f"{b.name}-worker-role",
        name=f"{b.base}-worker-role",
        description=f"Lambda execution role of {b.function_name}",
        assume_role_policy=iam.trust_policy("lambda.amazonaws.com"),
        opts=b.child,
    )
    return sm_role, worker_role


def _queues(b: _Build) -> tuple[aws.sqs.Queue, aws.sqs.Queue]:
    """The work queue and its dead-letter queue, encrypted, TLS only; the DLQ protected when asked."""
    s, dlq_arn = b.s, b.ctx.queue_arn(b.dlq_name)
    encryption: dict[str, Any] = (
        {"kms_master_key_id": b.args.kms_key_arn, "kms_data_key_reuse_period_seconds": 300}
        if b.args.kms_key_arn else {"sqs_managed_sse_enabled": True}
    )
    dlq = aws.sqs.Queue(
        f"{b.name}-dlq",
        name=b.dlq_name,
        message_retention_seconds=DLQ_RETENTION_SECONDS,
        redrive_allow_policy=json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [b.queue_arn]}),
        **encryption,
        opts=pulumi.ResourceOptions(parent=b.owner, protect=b.args.protect),
    )
    queue = aws.sqs.Queue(
        f"{b.name}-queue",
        name=b.queue_name,
        visibility_timeout_seconds=s.visibility_timeout_seconds,
        message_retention_seconds=s.message_retention_seconds,
        redrive_policy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": s.max_receive_count}),
        **encryption,
        opts=pulumi.ResourceOptions(parent=b.owner, depends_on=[dlq]),
    )
    for key, q, arn in (("queue", queue, b.queue_arn), ("dlq", dlq, dlq_arn)):
        aws.sqs.QueuePolicy(
            f"{b.name}-{key}-policy",
            queue_url=q.url,
            policy=iam.policy_document([iam.deny_insecure_transport("DenyInsecureTransport", "sqs:*", arn)]),
            opts=b.child,
        )
    return queue, dlq


def _key_grants(b: _Build, sm_role: aws.iam.Role, worker_role: aws.iam.Role) -> list[aws.iam.RolePolicy]:
    """With a customer-managed key: exactly each role's KMS actions on it (one inline policy per role)."""
    key = b.args.kms_key_arn
    if not key:
        return []
    return [
        b.grant(sm_role, "encrypt-messages",
                [iam.allow("EncryptMessages", ["kms:GenerateDataKey", "kms:Decrypt"], [key])]),
        b.grant(worker_role, "decrypt-messages", [iam.allow("DecryptMessages", ["kms:Decrypt"], [key])]),
    ]


def _worker(b: _Build, role: aws.iam.Role, layer: pulumi.Input[str]) -> tuple[aws.lambda_.Function,
                                                                               list[aws.iam.RolePolicy]]:
    """The worker Lambda, its log group, and the grants its trigger needs (consume, answer, work)."""
    s, args, ctx = b.s, b.args, b.ctx
    log_group_name = f"/aws/lambda/{b.function_name}"
    log_group = aws.cloudwatch.LogGroup(f"{b.name}-worker-logs", name=log_group_name,
                                        retention_in_days=s.log_retention_days, kms_key_id=b.log_key, opts=b.child)
    logs = b.grant(role, "write-logs", [iam.allow("WriteLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                                                  [f"{ctx.log_group_arn(log_group_name)}:*"])])
    tracing = b.grant(role, "write-traces",
                      [iam.allow_unscoped("WriteTraces", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"])])
    function = aws.lambda_.Function(
        f"{b.name}-worker",
        name=b.function_name,
        description=f"Answers the callback tasks of {b.base}",
        role=role.arn,
        runtime=LAMBDA_RUNTIME,
        architectures=[s.architecture],
        handler=args.handler,
        code=source_archive(args.code_path),
        layers=[layer],
        timeout=s.function_timeout_seconds,
        memory_size=s.function_memory_mb,
        reserved_concurrent_executions=s.reserved_concurrency if s.reserved_concurrency is not None else -1,
        tracing_config={"mode": "Active"},
        logging_config={"log_format": "Text", "log_group": log_group_name},
        environment={"variables": {
            "POWERTOOLS_SERVICE_NAME": b.name,
            "POWERTOOLS_LOG_LEVEL": s.log_level,
            "HEARTBEAT_SECONDS": str(s.heartbeat_seconds),
            "VISIBILITY_TIMEOUT_SECONDS": str(s.visibility_timeout_seconds),
            "ANSWER_CONCURRENCY": str(s.answer_concurrency),
            **args.environment,
        }},
        opts=pulumi.ResourceOptions(parent=b.owner, depends_on=[log_group, logs, tracing]),
    )
    consume = b.grant(role, "consume-queue", [iam.allow(
        "ConsumeQueue", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], [b.queue_arn])])
    # the worker answers the task tokens and, for a dead token, reads the execution's fate
    answer = b.grant(role, "answer-tasks", [
        iam.allow_unscoped("AnswerTaskTokens",
                           ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"]),
        iam.allow("ReadOwnExecutions", ["states:DescribeExecution"], ctx.executions_arns(b.base)),
    ])
    work = [b.grant(role, "work", args.worker_statements)] if args.worker_statements else []
    return function, [consume, answer, *work]


def _state_machine(b: _Build, role: aws.iam.Role, after: list[pulumi.Resource]) -> aws.sfn.StateMachine:
    """The Standard state machine, its log group and its log/trace delivery grant."""
    s, ctx = b.s, b.ctx
    log_group_name = f"/aws/vendedlogs/states/{b.base}"
    log_group = aws.cloudwatch.LogGroup(f"{b.name}-sm-logs", name=log_group_name,
                                        retention_in_days=s.log_retention_days, kms_key_id=b.log_key, opts=b.child)
    delivery = ["CreateLogDelivery", "GetLogDelivery", "UpdateLogDelivery", "DeleteLogDelivery",
                "ListLogDeliveries", "PutResourcePolicy", "DescribeResourcePolicies", "DescribeLogGroups"]
    observability = b.grant(role, "logs-and-traces", [
        iam.allow_unscoped("DeliverLogs", [f"logs:{a}" for a in delivery]),
        iam.allow_unscoped("WriteTraces", ["xray:PutTraceSegments", "xray:PutTelemetryRecords",
                                           "xray:GetSamplingRules", "xray:GetSamplingTargets"]),
    ])
    definition = CallbackDefinition(
        queue_url=ctx.queue_url(b.queue_name),
        task_timeout_seconds=s.task_timeout_seconds or 0,
        heartbeat_seconds=s.heartbeat_seconds or 0,
        partition=ctx.partition,
        task_name=b.args.task_name,
    ).build()
    return aws.sfn.StateMachine(
        f"{b.name}-state-machine",
        name=b.base,
        type="STANDARD",
        role_arn=role.arn,
        definition=json.dumps(definition, indent=2),
        logging_configuration={
            "log_destination": f"{ctx.log_group_arn(log_group_name)}:*",
            "include_execution_data": False,
            "level": s.state_machine_log_level,
        },
        tracing_configuration={"enabled": True},
        opts=pulumi.ResourceOptions(parent=b.owner, depends_on=[log_group, observability, *after]),
    )
