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
        s = args.settings.resolved()
        ctx = args.ctx
        base = f"{args.name_prefix or f'{pulumi.get_project()}-{pulumi.get_stack()}'}-{name}"
        if len(base) > MAX_BASE_NAME:
            raise SettingsError([f"name prefix {base!r} (<project>-<stack>-<component>) is {len(base)} characters; "
                                 f"at most {MAX_BASE_NAME} fit IAM's 64-character role names: use a shorter stack "
                                 "or component name"])
        child = pulumi.ResourceOptions(parent=self)
        # first, so a partition without the public layer fails before any child is registered
        layer = powertools.layer_arn(self, ctx.partition, s.architecture, LAMBDA_RUNTIME, args.powertools_layer_arn)

        names = {
            "queue": f"{base}-queue",
            "dlq": f"{base}-dlq",
            "state_machine": base,
            "function": f"{base}-worker",
            "sm_role": f"{base}-sm-role",
            "worker_role": f"{base}-worker-role",
        }
        queue_arn = ctx.queue_arn(names["queue"])
        dlq_arn = ctx.queue_arn(names["dlq"])
        sm_arn = ctx.state_machine_arn(names["state_machine"])
        sm_log_group_name = f"/aws/vendedlogs/states/{base}"
        fn_log_group_name = f"/aws/lambda/{names['function']}"

        # --- roles (grants are attached below, next to the resource each concerns) ---
        sm_role = aws.iam.Role(
            f"{name}-sm-role",
            name=names["sm_role"],
            description=f"Step Functions role of {base}",
            assume_role_policy=iam.trust_policy(
                "states.amazonaws.com",
                {
                    "StringEquals": {"aws:SourceAccount": ctx.account_id},
                    # the machine, its versions (<arn>:<n>) and aliases (<arn>:<alias>); names hold no ':'
                    "ArnLike": {"aws:SourceArn": [sm_arn, f"{sm_arn}:*"]},
                },
            ),
            opts=child,
        )
        worker_role = aws.iam.Role(
            f"{name}-worker-role",
            name=names["worker_role"],
            description=f"Lambda execution role of {names['function']}",
            assume_role_policy=iam.trust_policy("lambda.amazonaws.com"),
            opts=child,
        )

        granted: set[str] = set()

        def grant(role: aws.iam.Role, suffix: str, statements: list[dict[str, Any]]) -> aws.iam.RolePolicy:
            # the resource name carries the suffix: one suffix per component, whatever the role (else one URN twice)
            if suffix in granted:
                raise ValueError(f"{name}: grant {suffix!r} registered twice (one URN for two RolePolicy resources)")
            granted.add(suffix)
            return aws.iam.RolePolicy(
                f"{name}-{suffix}",
                name=suffix,
                role=role.id,
                policy=iam.policy_document(statements),
                opts=child,
            )

        # --- encryption ---
        if args.kms_key_arn:
            encryption: dict[str, Any] = {
                "kms_master_key_id": args.kms_key_arn,
                "kms_data_key_reuse_period_seconds": 300,
            }
        else:
            encryption = {"sqs_managed_sse_enabled": True}

        # --- queues ---
        dlq = aws.sqs.Queue(
            f"{name}-dlq",
            name=names["dlq"],
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            redrive_allow_policy=json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [queue_arn]}),
            **encryption,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        queue = aws.sqs.Queue(
            f"{name}-queue",
            name=names["queue"],
            visibility_timeout_seconds=s.visibility_timeout_seconds,
            message_retention_seconds=s.message_retention_seconds,
            redrive_policy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": s.max_receive_count}),
            **encryption,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[dlq]),
        )
        for key, q, arn in (("queue", queue, queue_arn), ("dlq", dlq, dlq_arn)):
            aws.sqs.QueuePolicy(
                f"{name}-{key}-policy",
                queue_url=q.url,
                policy=iam.policy_document([iam.deny_insecure_transport("DenyInsecureTransport", "sqs:*", arn)]),
                opts=child,
            )
        sm_send = grant(sm_role, "send-to-queue", [iam.allow("SendToQueue", ["sqs:SendMessage"], [queue_arn])])
        worker_consume = grant(
            worker_role,
            "consume-queue",
            [
                iam.allow(
                    "ConsumeQueue",
                    ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    [queue_arn],
                )
            ],
        )
        kms_grants = []
        if args.kms_key_arn:
            kms_grants = [
                grant(sm_role, "encrypt-messages", [iam.allow("EncryptMessages",
                                                              ["kms:GenerateDataKey", "kms:Decrypt"],
                                                              [args.kms_key_arn])]),
                grant(worker_role, "decrypt-messages", [iam.allow("DecryptMessages", ["kms:Decrypt"],
                                                                  [args.kms_key_arn])]),
            ]

        # --- worker Lambda ---
        fn_log_group = aws.cloudwatch.LogGroup(
            f"{name}-worker-logs",
            name=fn_log_group_name,
            retention_in_days=s.log_retention_days,
            opts=child,
        )
        worker_logs = grant(
            worker_role,
            "write-logs",
            [iam.allow("WriteLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                       [f"{ctx.log_group_arn(fn_log_group_name)}:*"])],
        )
        worker_tracing = grant(
            worker_role, "write-traces",
            [iam.allow_unscoped("WriteTraces", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"])],
        )
        extra = [grant(worker_role, "work", args.worker_statements)] if args.worker_statements else []
        function = aws.lambda_.Function(
            f"{name}-worker",
            name=names["function"],
            description=f"Answers the callback tasks of {base}",
            role=worker_role.arn,
            runtime=LAMBDA_RUNTIME,
            architectures=[s.architecture],
            handler=args.handler,
            code=source_archive(args.code_path),
            layers=[layer],
            timeout=s.function_timeout_seconds,
            memory_size=s.function_memory_mb,
            reserved_concurrent_executions=s.reserved_concurrency if s.reserved_concurrency is not None else -1,
            tracing_config={"mode": "Active"},
            logging_config={"log_format": "Text", "log_group": fn_log_group_name},
            environment={
                "variables": {
                    "POWERTOOLS_SERVICE_NAME": name,
                    "POWERTOOLS_LOG_LEVEL": s.log_level,
                    "HEARTBEAT_SECONDS": str(s.heartbeat_seconds),
                    "ANSWER_CONCURRENCY": str(s.answer_concurrency),
                    **args.environment,
                }
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[fn_log_group, worker_logs, worker_tracing]),
        )

        # --- the worker answers the task tokens and, for a dead token, reads the execution's fate ---
        worker_answer = grant(
            worker_role,
            "answer-tasks",
            [
                iam.allow_unscoped(
                    "AnswerTaskTokens",
                    ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
                ),
                iam.allow("ReadOwnExecutions", ["states:DescribeExecution"],
                          ctx.executions_arns(names["state_machine"])),
            ],
        )
        mapping = aws.lambda_.EventSourceMapping(
            f"{name}-trigger",
            event_source_arn=queue.arn,
            function_name=function.name,
            batch_size=s.batch_size,
            maximum_batching_window_in_seconds=s.batching_window_seconds,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config={"maximum_concurrency": s.max_concurrency},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[worker_consume, worker_answer, *kms_grants, *extra]),
        )

        # --- state machine ---
        sm_log_group = aws.cloudwatch.LogGroup(
            f"{name}-sm-logs",
            name=sm_log_group_name,
            retention_in_days=s.log_retention_days,
            opts=child,
        )
        sm_observability = grant(
            sm_role,
            "logs-and-traces",
            [
                iam.allow_unscoped(
                    "DeliverLogs",
                    [
                        "logs:CreateLogDelivery",
                        "logs:GetLogDelivery",
                        "logs:UpdateLogDelivery",
                        "logs:DeleteLogDelivery",
                        "logs:ListLogDeliveries",
                        "logs:PutResourcePolicy",
                        "logs:DescribeResourcePolicies",
                        "logs:DescribeLogGroups",
                    ],
                ),
                iam.allow_unscoped(
                    "WriteTraces",
                    ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                     "xray:GetSamplingTargets"],
                ),
            ],
        )
        definition = CallbackDefinition(
            queue_url=ctx.queue_url(names["queue"]),
            task_timeout_seconds=s.task_timeout_seconds or 0,
            heartbeat_seconds=s.heartbeat_seconds or 0,
            partition=ctx.partition,
            task_name=args.task_name,
        ).build()
        state_machine = aws.sfn.StateMachine(
            f"{name}-state-machine",
            name=names["state_machine"],
            type="STANDARD",
            role_arn=sm_role.arn,
            definition=json.dumps(definition, indent=2),
            logging_configuration={
                "log_destination": f"{ctx.log_group_arn(sm_log_group_name)}:*",
                "include_execution_data": False,
                "level": s.state_machine_log_level,
            },
            tracing_configuration={"enabled": True},
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[sm_log_group, sm_send, sm_observability, *kms_grants, queue]
            ),
        )

        # --- alarms ---
        targets = AlarmTargets(args.alarm_topic, args.alarm_topic_arn, args.alarm_emails, args.alarm_https_endpoints)
        topic = alarm_topic(name, base, targets, self)
        notify: pulumi.Input[str] | None = topic.arn if topic else args.alarm_topic_arn
        worker_alarms(name, base, Watched(queue.name, dlq.name, function.name, state_machine.arn),
                      [notify] if notify else [], s.oldest_message_alarm_seconds or 60, self)

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
