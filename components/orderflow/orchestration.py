"""CallbackStateMachine: one Standard state machine running the callback tasks of several workers.

The caller writes the definition (Amazon States Language, a dict) from its workers' ``callback_task`` and
``compensation_task`` states and states of its own; the component checks it (:func:`orderflow.check_definition`;
every SQS task sends to a listed worker's queue, every listed worker is sent to), and builds:

- the role, trusted by Step Functions for this machine only, holding exactly the workers' send statements
  (``sqs:SendMessage`` on each queue, through ``WorkerQueue.grant_send_messages``) and the log delivery and X-Ray
  statements every traced, logging machine needs (actions with no resource-level permission, on ``"*"``,
  https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy);
- the machine, its log group (``/aws/vendedlogs/states/<base>``) and X-Ray tracing, like a worker's own;
- ``states:DescribeExecution`` on its executions for each worker's role (a worker reads a dead token's execution);
- the three execution alarms (failed, timed out, aborted);
- stop compensation, when asked: a stopped (ABORTED) or timed-out (TIMED_OUT) execution runs no Catch, so an
  EventBridge rule on the machine's "Step Functions Execution Status Change" events sends
  ``{action, order: <execution input, a JSON string>, execution: <execution ARN>}`` to each compensating worker's
  queue (https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html); each such queue's policy lets the
  rule in (``WorkerQueue.grant_send_from_rule``);
- then the resource policy of every worker built with ``state_machine: False`` (``WorkerQueue.register_policy``).

No ``from __future__ import annotations`` here, as in the worker's module.
"""

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
import pulumi_aws as aws
from orderflow_runtime import contract

from . import iam
from .alarms import execution_alarms
from .args import CallbackStateMachineArgs, StopCompensationArgs
from .aws_context import AwsContext
from .callback_worker import MAX_BASE_NAME, CallbackWorker
from .definition import DefinitionError, check_definition
from .grants import GrantRegistry, Workflow
from .settings import LOG_RETENTION_DAYS, SettingsError

LOG_LEVELS = ("ALL", "ERROR", "FATAL")
STOPPED_STATUSES = ("ABORTED", "TIMED_OUT")
"""Execution statuses whose end runs no Catch of the definition: the rule's compensations stand in for it."""
STATUS_CHANGE = "Step Functions Execution Status Change"
LOG_DELIVERY = ["CreateLogDelivery", "GetLogDelivery", "UpdateLogDelivery", "DeleteLogDelivery",
                "ListLogDeliveries", "PutResourcePolicy", "DescribeResourcePolicies", "DescribeLogGroups"]
TRACING = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
SQS_TASK = ":states:::sqs:sendMessage"


class CallbackStateMachine(pulumi.ComponentResource):
    """A Standard state machine over several callback workers: role, logs, tracing, alarms, stop compensation.

    Attributes: ``workflow`` (:class:`orderflow.grants.Workflow`: ``state_machine``, ``role``, ``log_group``,
    ``definition``, ``grant_start_execution``, ``grant_read``, ``grant_describe_executions``, ``grant_redrive``),
    ``role``, ``state_machine``, ``log_group``, ``stop_rule`` (None without stop compensation), ``alarms``,
    ``aws_context``. Raises DefinitionError (bad definition or compensation) or SettingsError (bad value) before
    any child is registered.
    """

    state_machine_arn: pulumi.Output[str]
    """ARN of the state machine."""
    role_arn: pulumi.Output[str]
    """ARN of the state machine's role."""
    log_group_name: pulumi.Output[str]
    """Name of the execution log group."""
    stop_rule_arn: pulumi.Output[str | None]
    """ARN of the EventBridge rule sending the stop compensations (None without them)."""

    def __init__(self, name: str, args: CallbackStateMachineArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:index:CallbackStateMachine", name, None, opts)
        workers = list(args.get("workers") or [])
        definition = dict(args.get("definition") or {})
        stops = list(args.get("stop_compensations") or [])
        _check(name, definition, workers, stops, args)
        ctx = AwsContext.from_args(args.get("aws_context")) if args.get("aws_context") else workers[0].aws_context
        base = f"{args.get('name_prefix') or f'{pulumi.get_project()}-{pulumi.get_stack()}'}-{name}"
        if len(base) > MAX_BASE_NAME:
            raise SettingsError([f"name prefix {base!r} is {len(base)} characters; at most {MAX_BASE_NAME} fit "
                                 "IAM's 64-character role names"])
        self.aws_context = ctx
        grants = GrantRegistry(self, name, base)
        self.workflow = Workflow(grants, ctx, base)
        self.role = self._role(name, base, ctx)
        self.workflow.role = self.role
        sends = [policy for w in workers for policy in w.queue.grant_send_messages(self.role)]
        observe = grants.add(self.role, "logs-and-traces", [
            iam.allow_unscoped("DeliverLogs", [f"logs:{a}" for a in LOG_DELIVERY]),
            iam.allow_unscoped("WriteTraces", TRACING)], "logs-and-traces")
        for worker in workers:
            self.workflow.grant_describe_executions(worker.worker_role)
        self.state_machine, self.log_group = self._machine(name, base, ctx, definition, args, [observe, *sends])
        self.stop_rule = self._stop_rule(name, base, ctx, stops) if stops else None
        for worker in workers:
            if worker.workflow is None:
                worker.queue.register_policy()
        self._targets(name, stops)
        notify = args.get("alarm_topic_arn")
        self.alarms = execution_alarms(name, base, self.state_machine.arn, [notify] if notify else [], self)
        self._outputs()

    def _role(self, name: str, base: str, ctx: AwsContext) -> aws.iam.Role:
        """Trusted by Step Functions for this machine, its versions and aliases, in this account only."""
        arn = self.workflow.arn
        return aws.iam.Role(
            f"{name}-role", name=f"{base}-role", description=f"Step Functions role of {base}",
            assume_role_policy=iam.trust_policy("states.amazonaws.com", {
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
                "ArnLike": {"aws:SourceArn": [arn, f"{arn}:*"]}}),
            opts=pulumi.ResourceOptions(parent=self))

    def _machine(self, name: str, base: str, ctx: AwsContext, definition: dict[str, Any],
                 args: CallbackStateMachineArgs, after: list[pulumi.Resource]) -> tuple[
            aws.sfn.StateMachine, aws.cloudwatch.LogGroup]:
        log_group_name = f"/aws/vendedlogs/states/{base}"
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=log_group_name, retention_in_days=args.get("log_retention_days", 14),
            kms_key_id=args.get("log_kms_key_arn"), opts=pulumi.ResourceOptions(parent=self))
        machine = aws.sfn.StateMachine(
            f"{name}-state-machine", name=base, type="STANDARD", role_arn=self.role.arn,
            definition=json.dumps(definition, indent=2),
            logging_configuration={"log_destination": f"{ctx.log_group_arn(log_group_name)}:*",
                                   "include_execution_data": False, "level": args.get("log_level", "ERROR")},
            tracing_configuration={"enabled": True},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, *after]))
        self.workflow.state_machine, self.workflow.log_group = machine, log_group
        self.workflow.definition = definition
        return machine, log_group

    def _stop_rule(self, name: str, base: str, ctx: AwsContext,
                   stops: list[StopCompensationArgs]) -> aws.cloudwatch.EventRule:
        """The rule on this machine's ABORTED / TIMED_OUT executions; each compensating queue lets it in."""
        rule_name = f"{base}-stopped"
        rule_arn = ctx.arn("events", f"rule/{rule_name}")
        for stop in stops:
            stop["worker"].queue.grant_send_from_rule(rule_arn)
        return aws.cloudwatch.EventRule(
            f"{name}-stopped", name=rule_name,
            description=f"Executions of {base} that ended {' or '.join(STOPPED_STATUSES)}: compensate their work",
            event_pattern=json.dumps(stop_event_pattern(self.workflow.arn)),
            opts=pulumi.ResourceOptions(parent=self))

    def _targets(self, name: str, stops: list[StopCompensationArgs]) -> None:
        if self.stop_rule is None:
            return
        for stop in stops:
            worker: CallbackWorker = stop["worker"]
            aws.cloudwatch.EventTarget(
                f"{name}-stopped-{worker.pulumi_resource_name}", rule=self.stop_rule.name, target_id=worker.pulumi_resource_name,
                arn=worker.queue.arn, input_transformer=stop_input_transformer(stop["action"]),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[p for p in [worker.queue.policy] if p]))

    def _outputs(self) -> None:
        self.state_machine_arn = self.state_machine.arn
        self.role_arn = self.role.arn
        self.log_group_name = self.log_group.name
        self.stop_rule_arn = self.stop_rule.arn if self.stop_rule else pulumi.Output.from_input(None)
        self.register_outputs({"state_machine_arn": self.state_machine_arn, "role_arn": self.role_arn,
                               "log_group_name": self.log_group_name, "stop_rule_arn": self.stop_rule_arn})


def stop_event_pattern(state_machine_arn: str) -> dict[str, Any]:
    """The EventBridge pattern of this machine's executions ending ABORTED or TIMED_OUT (Step Functions sends
    "Step Functions Execution Status Change" events of Standard workflows to the default bus,
    https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html)."""
    return {"source": ["aws.states"], "detail-type": [STATUS_CHANGE],
            "detail": {"status": list(STOPPED_STATUSES), "stateMachineArn": [state_machine_arn]}}


def stop_input_transformer(action: str) -> aws.cloudwatch.EventTargetInputTransformerArgsDict:
    """The target's input: ``{action, order: <detail.input>, execution: <detail.executionArn>}``. Both values are
    strings, so their placeholders are quoted (EventBridge escapes the value into a JSON string:
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html); the work item
    arrives as the execution input's JSON text, which the worker runtime decodes."""
    template = (f'{{"{contract.ACTION}": {json.dumps(action)}, "{contract.WORK_ITEM}": "<input>", '
                f'"{contract.EXECUTION}": "<execution>"}}')
    return {"input_paths": {"input": "$.detail.input", "execution": "$.detail.executionArn"},
            "input_template": template}


def task_states(definition: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(name, state) of every Task state, branches of Parallel and Map states included."""
    for name, state in definition.get("States", {}).items():
        for branch in [*state.get("Branches", []), *[state[k] for k in ("Iterator", "ItemProcessor") if k in state]]:
            yield from task_states(branch)
        if state.get("Type") == "Task":
            yield name, state


def _check(name: str, definition: dict[str, Any], workers: list[CallbackWorker], stops: list[StopCompensationArgs],
           args: CallbackStateMachineArgs) -> None:
    """Refuse what must not be built: raises DefinitionError or SettingsError naming the state, worker or key."""
    if not workers or not definition:
        raise SettingsError([f"{name}: definition and workers are required"])
    check_definition(definition)
    urls = {w.queue.url: w for w in workers}
    used = set()
    for state_name, state in task_states(definition):
        resource, url = str(state.get("Resource", "")), (state.get("Parameters") or {}).get("QueueUrl")
        if SQS_TASK not in resource:
            raise DefinitionError(f"state {state_name!r}: {resource!r} is not an SQS send; the role gets only its "
                                  "workers' send statements")
        if url not in urls:
            raise DefinitionError(f"state {state_name!r}: sends to {url!r}, no listed worker's queue "
                                  f"(workers: {', '.join(sorted(urls))})")
        used.add(url)
    unused = sorted(w.pulumi_resource_name for u, w in urls.items() if u not in used)
    if unused:
        raise DefinitionError(f"{name}: workers {unused} are never sent to; leave them out (their grants would be "
                              "unused)")
    for stop in stops:
        if stop["worker"].queue.url not in urls:
            raise SettingsError([f"{name}: stop compensation of {stop['worker'].pulumi_resource_name!r}: not one of the workers"])
        if not stop.get("action") or stop["action"] == contract.TASK_ACTION:
            raise SettingsError([f"{name}: stop compensation action {stop.get('action')!r}: must be non-empty and "
                                 f"not {contract.TASK_ACTION!r}"])
    if args.get("log_retention_days", 14) not in LOG_RETENTION_DAYS:
        raise SettingsError([f"{name}: log_retention_days={args.get('log_retention_days')!r} is not a CloudWatch "
                             f"Logs value ({', '.join(map(str, LOG_RETENTION_DAYS))})"])
    if args.get("log_level", "ERROR") not in LOG_LEVELS:
        raise SettingsError([f"{name}: log_level={args.get('log_level')!r}; one of {', '.join(LOG_LEVELS)}"])
