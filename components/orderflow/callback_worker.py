"""CallbackWorker: one queue-based Step Functions callback worker, secure by default.

It bundles the work queue and its dead-letter queue (:class:`orderflow.grants.WorkerQueue`), the Standard state
machine whose callback task sends the work item and its task token to the queue
(:class:`orderflow.grants.Workflow`), the worker Lambda with its SQS trigger, log groups, alarms, and two
least-privilege roles, each granted through the queue's and the workflow's public grant methods. Physical names
derive from the project, stack and component name, so every ARN (and so every IAM document built from plain
values) is a plain string known in the first preview.

No ``from __future__ import annotations`` here: Pulumi's component analyzer reads ``__init__``'s ``args``
annotation and the class's output annotations as types.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from orderflow_runtime import contract

from . import iam, powertools
from .alarms import AlarmTargets, Watched, alarm_topic, worker_alarms
from .args import CallbackWorkerArgs
from .aws_context import AwsContext
from .code_asset import source_archive
from .definition import CallbackDefinition, CallbackTask, FailurePath, callback_task, compensation_state
from .grants import GrantRegistry, WorkerQueue, Workflow
from .provider_region import checked_layer
from .settings import DLQ_RETENTION_SECONDS, SettingsError, WorkerSettings

LAMBDA_RUNTIME = "python3.13"
MAX_BASE_NAME = 52
"""Longest name prefix that leaves room for the longest suffix ("-worker-role") in a 64-character IAM name."""
REQUIRED_ARGS = ("code_path", "handler")


class CallbackWorker(pulumi.ComponentResource):
    """A queue-based callback worker: queue + DLQ, state machine, Lambda worker, roles, logs, alarms.

    Children, as attributes: ``queue`` (:class:`orderflow.grants.WorkerQueue`: ``queue``, ``dead_letter_queue``,
    ``policy``, ``grant_send_messages``, ``grant_consume_messages``, ``grant_send_from_rule``), ``workflow``
    (:class:`orderflow.grants.Workflow`: ``state_machine``, ``role``, ``log_group``, ``definition``,
    ``grant_start_execution``, ``grant_read``, ``grant_task_response``, ``grant_describe_executions``,
    ``grant_redrive``; None without a state machine), ``function`` and ``function_log_group``, ``worker_role``,
    ``state_machine_role`` (None without a state machine), ``event_source_mapping``, ``settings`` (resolved),
    ``aws_context``.

    Built with ``state_machine: False``: no state machine, state machine role or execution alarms; the worker's
    tasks run in a caller's machine (:class:`orderflow.CallbackStateMachine`), which grants the worker's role
    ``states:DescribeExecution`` on its executions and registers the work queue's policy.
    """

    queue_url: pulumi.Output[str]
    """URL of the work queue."""
    queue_arn: pulumi.Output[str]
    """ARN of the work queue."""
    dlq_url: pulumi.Output[str]
    """URL of the dead-letter queue."""
    dlq_arn: pulumi.Output[str]
    """ARN of the dead-letter queue."""
    state_machine_arn: pulumi.Output[str | None]
    """ARN of the worker's own Standard state machine (None when built with ``state_machine: False``)."""
    function_name: pulumi.Output[str]
    """Name of the worker Lambda."""
    function_arn: pulumi.Output[str]
    """ARN of the worker Lambda."""
    worker_role_arn: pulumi.Output[str]
    """ARN of the worker's execution role."""
    state_machine_role_arn: pulumi.Output[str | None]
    """ARN of the state machine's role (None when built with ``state_machine: False``)."""
    alarm_topic_arn: pulumi.Output[str | None]
    """ARN of the topic the alarms notify (created or given), or None."""

    def __init__(self, name: str, args: CallbackWorkerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:index:CallbackWorker", name, None, opts)
        b = _Build.start(self, name, args)
        self.settings: WorkerSettings = b.s
        self.aws_context: AwsContext = b.ctx
        self.queue: WorkerQueue = b.queue
        own_machine = args.get("state_machine", True)
        self.workflow: Workflow | None = b.workflow if own_machine else None
        # first, so a partition without the public layer fails before any child is registered
        layer = powertools.layer_arn(self, b.ctx.partition, b.s.architecture, LAMBDA_RUNTIME,
                                     args.get("powertools_layer_arn"))
        # the layer came through the component's provider: a context of another region fails the preview here
        layer = checked_layer(name, b.ctx.region, layer)
        self.state_machine_role, self.worker_role = _roles(b, own_machine)
        b.workflow.role = self.state_machine_role
        queue, dlq = _queues(b, own_machine)
        sends = b.queue.grant_send_messages(self.state_machine_role, "send-to-queue", "encrypt-messages") \
            if self.state_machine_role else []
        consumes = b.queue.grant_consume_messages(self.worker_role, "consume-queue", "decrypt-messages")
        self.function, self.function_log_group, worker_grants = _worker(b, self.worker_role, layer, own_machine)
        self.event_source_mapping = aws.lambda_.EventSourceMapping(
            f"{name}-trigger",
            event_source_arn=queue.arn,
            function_name=self.function.name,
            batch_size=b.s.batch_size,
            maximum_batching_window_in_seconds=b.s.batching_window_seconds,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config={"maximum_concurrency": b.s.max_concurrency},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*consumes[:1], *worker_grants, *sends[1:],
                                                                 *consumes[1:]]),
        )
        state_machine = _state_machine(b, self.state_machine_role, [*sends, *consumes[1:], queue]) \
            if self.state_machine_role else None
        notify = _alarms(b, queue, dlq, self.function, state_machine)
        self._outputs(queue, dlq, state_machine, notify)

    def _outputs(self, queue: aws.sqs.Queue, dlq: aws.sqs.Queue, state_machine: aws.sfn.StateMachine | None,
                 notify: pulumi.Input[str] | None) -> None:
        self.queue_url = queue.url
        self.queue_arn = queue.arn
        self.dlq_url = dlq.url
        self.dlq_arn = dlq.arn
        self.state_machine_arn = state_machine.arn if state_machine else pulumi.Output.from_input(None)
        self.function_name = self.function.name
        self.function_arn = self.function.arn
        self.worker_role_arn = self.worker_role.arn
        self.state_machine_role_arn = self.state_machine_role.arn if self.state_machine_role \
            else pulumi.Output.from_input(None)
        self.alarm_topic_arn = pulumi.Output.from_input(notify)
        self.event_source_mapping_id = self.event_source_mapping.id
        self.register_outputs({
            "queue_url": self.queue_url, "queue_arn": self.queue_arn, "dlq_url": self.dlq_url,
            "dlq_arn": self.dlq_arn, "state_machine_arn": self.state_machine_arn,
            "function_name": self.function_name, "function_arn": self.function_arn,
            "worker_role_arn": self.worker_role_arn, "state_machine_role_arn": self.state_machine_role_arn,
            "alarm_topic_arn": self.alarm_topic_arn,
        })

    def callback_task(self, *, catch: Sequence[Mapping[str, Any]] = (), result_path: str | None = None,
                      result_selector: Mapping[str, Any] | None = None, next_state: str | None = None,
                      trace_header_path: str | None = None) -> CallbackTask:
        """A callback Task state sending to this worker's queue, for a caller's own state machine, with the
        statements its role needs (:func:`orderflow.definition.callback_task`; timeout and heartbeat from this
        worker's settings). Give the caller's role the same permissions with ``queue.grant_send_messages``."""
        return callback_task(self.queue.url, self.queue.arn, self.settings, partition=self.aws_context.partition,
                             kms_key_arn=self.queue.kms_key_arn, catch=catch, result_path=result_path,
                             result_selector=result_selector, next_state=next_state,
                             trace_header_path=trace_header_path)

    def compensation_task(self, action: str, *, next_state: str, catch_next: str | None = None,
                          error_path: str = "$.compensationError") -> dict[str, Any]:
        """A plain ``sqs:sendMessage`` Task state putting ``{action, order: <execution input>, execution}`` on this
        worker's queue (no token: nobody waits for the answer), its result discarded (``ResultPath`` null, so the
        state's input goes on unchanged), transient errors retried; then ``next_state``. ``catch_next``: where a
        failed send goes (its error at ``error_path``); default ``next_state``. The sending role needs the same
        statements as the callback task's (``queue.grant_send_messages``). Raises DefinitionError for an empty
        action or the task's own (``check``)."""
        return compensation_state(self.queue.url, action, partition=self.aws_context.partition,
                                  next_state=next_state, catch_next=catch_next or next_state, error_path=error_path)


def failure_path(given: Mapping[str, Any] | None) -> FailurePath:
    """A :class:`FailurePath` from a :class:`orderflow.args.FailurePathArgs` dict; raises SettingsError naming an
    unknown key."""
    given = dict(given or {})
    known = set(FailurePath.__dataclass_fields__)
    unknown = sorted(set(given) - known)
    if unknown:
        raise SettingsError([f"failure: unknown key {k!r} (known: {', '.join(sorted(known))})" for k in unknown])
    if "rejection_errors" in given:
        given["rejection_errors"] = tuple(given["rejection_errors"])
    return FailurePath(**given)


@dataclass
class _Build:
    """What every part of one CallbackWorker needs: the component, its names, settings, context and grants."""

    owner: CallbackWorker
    name: str
    base: str
    args: CallbackWorkerArgs
    s: WorkerSettings
    ctx: AwsContext
    failure: FailurePath
    grants: GrantRegistry
    queue: WorkerQueue
    workflow: Workflow

    @classmethod
    def start(cls, owner: CallbackWorker, name: str, args: CallbackWorkerArgs) -> "_Build":
        """Check the args, resolve the settings, the context and the name prefix; raises SettingsError (or
        DefinitionError) before any child exists."""
        missing = [k for k in REQUIRED_ARGS if not args.get(k)]
        if missing:
            raise SettingsError([f"{name}: {k} is required" for k in missing])
        s = WorkerSettings.from_args(args.get("settings") or {})
        prefix = args.get("name_prefix") or f"{pulumi.get_project()}-{pulumi.get_stack()}"
        base = f"{prefix}-{name}"
        if len(base) > MAX_BASE_NAME:
            raise SettingsError([f"name prefix {base!r} (<project>-<stack>-<component>) is {len(base)} characters; "
                                 f"at most {MAX_BASE_NAME} fit IAM's 64-character role names: use a shorter stack "
                                 "or component name"])
        failure = failure_path(args.get("failure"))
        ctx = AwsContext.from_args(args.get("aws_context"), pulumi.InvokeOptions(parent=owner))
        key = args.get("kms_key_arn")
        _check_key_region(key, ctx)
        grants = GrantRegistry(owner, name, base)
        queue = WorkerQueue(grants, ctx, f"{base}-queue", f"{base}-dlq", key or None)
        return cls(owner, name, base, args, s, ctx, failure, grants, queue, Workflow(grants, ctx, base))

    @property
    def child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.owner)

    @property
    def function_name(self) -> str:
        return f"{self.base}-worker"

    @property
    def log_key(self) -> pulumi.Input[str] | None:
        """A log group's key, the stack's (None: CloudWatch Logs' own). CloudWatch Logs encrypts with it only when
        the key policy allows the ``logs.<region>.amazonaws.com`` principal for the group's ARN as encryption
        context (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)."""
        return self.queue.kms_key_arn


def _check_key_region(key: pulumi.Input[str] | None, ctx: AwsContext) -> None:
    """AWS services use a KMS key of their own Region, a multi-Region key through its replica there
    (https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html). A plain key ARN is
    checked here, at preview; a key given as an Output is AWS's to check at deploy."""
    if isinstance(key, str) and key and key.split(":")[1:4:2] != [ctx.partition, ctx.region]:
        raise SettingsError([f"kmsKeyArn={key!r} is not in the queues' partition and region ({ctx.partition}, "
                             f"{ctx.region}): SQS uses a key of its own region; give that key, or the "
                             "multi-Region key's replica there"])


def _roles(b: _Build, own_machine: bool) -> tuple[aws.iam.Role | None, aws.iam.Role]:
    """The state machine's role (trusted by Step Functions for this machine, its versions and aliases only; None
    without a machine) and the worker's execution role; grants are attached next to the resource each concerns."""
    sm_arn = b.workflow.arn
    sm_role = None if not own_machine else aws.iam.Role(
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


def _queues(b: _Build, own_machine: bool) -> tuple[aws.sqs.Queue, aws.sqs.Queue]:
    """The work queue and its dead-letter queue, encrypted, TLS only; the DLQ protected when asked. Without its own
    machine, the work queue's policy waits for the machine that runs its tasks (``WorkerQueue.register_policy``)."""
    s, q = b.s, b.queue
    encryption: dict[str, Any] = (
        {"kms_master_key_id": q.kms_key_arn, "kms_data_key_reuse_period_seconds": 300}
        if q.kms_key_arn else {"sqs_managed_sse_enabled": True}
    )
    dlq = aws.sqs.Queue(
        f"{b.name}-dlq",
        name=q.dead_letter_name,
        message_retention_seconds=DLQ_RETENTION_SECONDS,
        redrive_allow_policy=json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [q.arn]}),
        **encryption,
        opts=pulumi.ResourceOptions(parent=b.owner, protect=b.args.get("protect", True)),
    )
    queue = aws.sqs.Queue(
        f"{b.name}-queue",
        name=q.name,
        visibility_timeout_seconds=s.visibility_timeout_seconds,
        message_retention_seconds=s.message_retention_seconds,
        redrive_policy=json.dumps({"deadLetterTargetArn": q.dead_letter_arn, "maxReceiveCount": s.max_receive_count}),
        **encryption,
        opts=pulumi.ResourceOptions(parent=b.owner, depends_on=[dlq]),
    )
    q.queue, q.dead_letter_queue = queue, dlq
    if own_machine:
        q.register_policy()
    aws.sqs.QueuePolicy(
        f"{b.name}-dlq-policy",
        queue_url=dlq.url,
        policy=iam.policy_document([iam.deny_insecure_transport("DenyInsecureTransport", "sqs:*",
                                                                q.dead_letter_arn)]),
        opts=b.child,
    )
    return queue, dlq


def _environment(b: _Build) -> dict[str, pulumi.Input[str]]:
    """The worker's environment: the runtime's contract (:mod:`orderflow_runtime.contract`), then the caller's."""
    s = b.s
    return {
        contract.SERVICE_NAME: b.name,
        contract.LOG_LEVEL: s.log_level,
        contract.HEARTBEAT_SECONDS: str(s.heartbeat_seconds),
        contract.VISIBILITY_TIMEOUT_SECONDS: str(s.visibility_timeout_seconds),
        contract.ANSWER_CONCURRENCY: str(s.answer_concurrency),
        **(b.args.get("environment") or {}),
    }


def _worker(b: _Build, role: aws.iam.Role, layer: pulumi.Input[str], own_machine: bool) -> tuple[
        aws.lambda_.Function, aws.cloudwatch.LogGroup, list[aws.iam.RolePolicy]]:
    """The worker Lambda, its log group, and the grants its trigger needs besides consuming (answer, work)."""
    s, args = b.s, b.args
    log_group_name = f"/aws/lambda/{b.function_name}"
    log_group = aws.cloudwatch.LogGroup(f"{b.name}-worker-logs", name=log_group_name,
                                        retention_in_days=s.log_retention_days, kms_key_id=b.log_key, opts=b.child)
    logs = b.grants.add(role, "write-logs", [iam.allow("WriteLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                                                       [f"{b.ctx.log_group_arn(log_group_name)}:*"])], "write-logs")
    tracing = b.grants.add(role, "write-traces", [iam.allow_unscoped(
        "WriteTraces", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"])], "write-traces")
    function = aws.lambda_.Function(
        f"{b.name}-worker",
        name=b.function_name,
        description=f"Answers the callback tasks of {b.base}",
        role=role.arn,
        runtime=LAMBDA_RUNTIME,
        architectures=[s.architecture],
        handler=args["handler"],
        code=source_archive(args["code_path"]),
        layers=[layer],
        timeout=s.function_timeout_seconds,
        memory_size=s.function_memory_mb,
        reserved_concurrent_executions=s.reserved_concurrency if s.reserved_concurrency is not None else -1,
        tracing_config={"mode": "Active"},
        logging_config={"log_format": "Text", "log_group": log_group_name},
        environment={"variables": _environment(b)},
        opts=pulumi.ResourceOptions(parent=b.owner, depends_on=[log_group, logs, tracing]),
    )
    # the worker answers the task tokens and, for a dead token, reads the execution's fate (in the machine that
    # runs its tasks: its own, or the caller's, whose grant_describe_executions gives it)
    answer = b.workflow.grant_task_response(role, "answer-tasks", describe_executions=own_machine)
    statements = [iam.allow(st["sid"], st["actions"], st["resources"]) for st in args.get("worker_statements") or []]
    work = [b.grants.add(role, "work", statements, "work")] if statements else []
    return function, log_group, [answer, *work]


def _state_machine(b: _Build, role: aws.iam.Role, after: list[pulumi.Resource]) -> aws.sfn.StateMachine:
    """The Standard state machine, its log group and its log/trace delivery grant."""
    s, ctx = b.s, b.ctx
    log_group_name = f"/aws/vendedlogs/states/{b.base}"
    log_group = aws.cloudwatch.LogGroup(f"{b.name}-sm-logs", name=log_group_name,
                                        retention_in_days=s.log_retention_days, kms_key_id=b.log_key, opts=b.child)
    delivery = ["CreateLogDelivery", "GetLogDelivery", "UpdateLogDelivery", "DeleteLogDelivery",
                "ListLogDeliveries", "PutResourcePolicy", "DescribeResourcePolicies", "DescribeLogGroups"]
    observability = b.grants.add(role, "logs-and-traces", [
        iam.allow_unscoped("DeliverLogs", [f"logs:{a}" for a in delivery]),
        iam.allow_unscoped("WriteTraces", ["xray:PutTraceSegments", "xray:PutTelemetryRecords",
                                           "xray:GetSamplingRules", "xray:GetSamplingTargets"]),
    ], "logs-and-traces")
    definition = CallbackDefinition(queue_url=b.queue.url, queue_arn=b.queue.arn, settings=s,
                                    partition=ctx.partition, failure=b.failure,
                                    kms_key_arn=b.queue.kms_key_arn).build()
    machine = aws.sfn.StateMachine(
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
    b.workflow.state_machine, b.workflow.log_group, b.workflow.definition = machine, log_group, definition
    return machine


def _alarms(b: _Build, queue: aws.sqs.Queue, dlq: aws.sqs.Queue, function: aws.lambda_.Function,
            machine: aws.sfn.StateMachine | None) -> pulumi.Input[str] | None:
    """The alarm topic (created when asked) and every alarm; returns the topic the alarms notify, or None."""
    args = b.args
    targets = AlarmTargets(args.get("alarm_topic", False), args.get("alarm_topic_arn"),
                           tuple(args.get("alarm_emails") or ()), tuple(args.get("alarm_https_endpoints") or ()),
                           b.queue.kms_key_arn)
    topic = alarm_topic(b.name, b.base, targets, b.owner)
    notify: pulumi.Input[str] | None = topic.arn if topic else args.get("alarm_topic_arn")
    worker_alarms(b.name, b.base, Watched(queue.name, dlq.name, function.name, machine.arn if machine else None),
                  [notify] if notify else [], b.s.oldest_message_alarm_seconds or 60, b.owner)
    return notify
