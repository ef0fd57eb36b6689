"""The callback worker's queue and workflow as objects that carry their grants, CDK-style.

:class:`WorkerQueue` and :class:`Workflow` are plain Python objects (not components), so the resources they hold
keep the URNs they had as direct children of :class:`orderflow.CallbackWorker`. Each ``grant_*`` method creates
one inline policy (``aws.iam.RolePolicy``, parented to the worker) on the role it is given, scoped to this
worker's exact ARNs, and returns it; the worker's own roles get their permissions through the same methods.

The work queue's resource policy is the queue's too (:meth:`WorkerQueue.register_policy`): TLS only, and the
EventBridge rules :meth:`WorkerQueue.grant_send_from_rule` lets in. SQS holds one policy per queue, so the rules are
granted before it is registered: a worker with its own state machine registers it at once; a worker built with
``state_machine: False`` leaves it to the machine that runs its tasks (:class:`orderflow.CallbackStateMachine`
registers it after its grants), or to its caller.

Naming: ``name`` is the inline policy's name on the role and, prefixed by the component's name, its resource name.
Left out, the policy is named ``<base>-<what>`` (unique per worker on any role) and its resource
``<component>-<role's resource name>-<what>`` (unique per worker and role). Granting twice under one resource
name raises ValueError.
"""

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from . import iam
from .aws_context import AwsContext
from .definition import send_statements


@dataclass
class GrantRegistry:
    """Creates one worker's inline policies, each resource name once."""

    owner: pulumi.Resource
    """The component every policy is parented to."""
    name: str
    """The component's resource name (prefix of every policy's resource name)."""
    base: str
    """The component's physical-name prefix (of default policy names)."""
    used: set[str] = field(default_factory=set)

    def add(self, role: aws.iam.Role, what: str, statements: list[iam.Statement],
            name: str | None = None) -> aws.iam.RolePolicy:
        """An inline policy of ``role`` holding ``statements``; see the module doc for ``name``."""
        if name is None:
            resource, policy_name = f"{self.name}-{role.pulumi_resource_name}-{what}", f"{self.base}-{what}"
        else:
            resource, policy_name = f"{self.name}-{name}", name
        if resource in self.used:
            raise ValueError(f"{self.name}: grant {resource!r} registered twice (one URN for two RolePolicy "
                             "resources); give the grant another name")
        self.used.add(resource)
        return aws.iam.RolePolicy(resource, name=policy_name, role=role.id,
                                  policy=iam.policy_document_input(statements),
                                  opts=pulumi.ResourceOptions(parent=self.owner))


class WorkerQueue:
    """The work queue and its dead-letter queue, and the grants on them.

    ``url``, ``arn`` and ``dead_letter_arn`` are plain strings (built from the names, known at preview);
    ``queue`` and ``dead_letter_queue`` are the ``aws.sqs.Queue`` resources once the worker registered them.
    """

    def __init__(self, grants: GrantRegistry, ctx: AwsContext, name: str, dead_letter_name: str,
                 kms_key_arn: pulumi.Input[str] | None) -> None:
        self._grants = grants
        self.name = name
        """Physical name of the work queue."""
        self.dead_letter_name = dead_letter_name
        """Physical name of the dead-letter queue."""
        self.url = ctx.queue_url(name)
        """URL of the work queue."""
        self.arn = ctx.queue_arn(name)
        """ARN of the work queue."""
        self.dead_letter_arn = ctx.queue_arn(dead_letter_name)
        """ARN of the dead-letter queue."""
        self.kms_key_arn = kms_key_arn
        """Customer-managed key of both queues, or None (SSE-SQS)."""
        self.queue: aws.sqs.Queue | None = None
        """The work queue resource."""
        self.dead_letter_queue: aws.sqs.Queue | None = None
        """The dead-letter queue resource."""
        self.policy: aws.sqs.QueuePolicy | None = None
        """The work queue's resource policy, once registered (:meth:`register_policy`)."""
        self._rule_arns: list[pulumi.Input[str]] = []

    def grant_send_from_rule(self, rule_arn: pulumi.Input[str]) -> None:
        """Let the EventBridge rule ``rule_arn`` send to the work queue: the queue policy's ``SendFromRules``
        statement allows ``events.amazonaws.com`` ``sqs:SendMessage`` on the queue when ``aws:SourceArn`` is one of
        the granted rules (an SQS target needs this resource policy: EventBridge uses no role for it,
        https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions).
        With a customer-managed key, the key policy must also let ``events.amazonaws.com`` use it (not granted
        here). Raises ValueError once the policy is registered (SQS holds one policy per queue: grant first)."""
        if self.policy is not None:
            raise ValueError(f"queue {self.name}: its resource policy is already registered; grant the rule before "
                             "(build the worker with state_machine: False, and let the machine register it)")
        self._rule_arns.append(rule_arn)

    def policy_statements(self) -> list[iam.Statement]:
        """The work queue's resource policy: ``DenyInsecureTransport``, then ``SendFromRules`` when a rule was
        granted."""
        statements = [iam.deny_insecure_transport("DenyInsecureTransport", "sqs:*", self.arn)]
        if self._rule_arns:
            statements.append({"Sid": "SendFromRules", "Effect": "Allow",
                               "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                               "Resource": self.arn, "Condition": {"ArnEquals": {"aws:SourceArn": self._rule_arns}}})
        return statements

    def register_policy(self) -> aws.sqs.QueuePolicy:
        """Register the work queue's resource policy (:meth:`policy_statements`), once: a second call returns the
        same resource. Needs the queue resource (the worker registers it first)."""
        if self.policy is None:
            if self.queue is None:
                raise ValueError(f"queue {self.name}: the queue is not registered yet")
            statements = self.policy_statements()
            document: pulumi.Input[str] = (
                iam.policy_document(statements) if iam.is_plain(statements)
                else pulumi.Output.from_input(statements).apply(iam.policy_document))
            self.policy = aws.sqs.QueuePolicy(f"{self._grants.name}-queue-policy", queue_url=self.queue.url,
                                              policy=document, opts=pulumi.ResourceOptions(parent=self._grants.owner))
        return self.policy

    def grant_send_messages(self, role: aws.iam.Role, name: str | None = None,
                            key_name: str | None = None) -> list[aws.iam.RolePolicy]:
        """Let ``role`` send to the work queue: ``sqs:SendMessage`` on it (policy ``name``); with a customer key,
        also ``kms:GenerateDataKey`` and ``kms:Decrypt`` on exactly that key (a second policy, ``key_name``: SQS
        encrypts each message with a data key the sender generates,
        https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
        Returns the one or two policies created."""
        send, *key = send_statements(self.arn, self.kms_key_arn)
        policies = [self._grants.add(role, "send-messages", [send], name)]
        if key:
            policies.append(self._grants.add(role, "send-messages-key", key, key_name))
        return policies

    def grant_consume_messages(self, role: aws.iam.Role, name: str | None = None,
                               key_name: str | None = None) -> list[aws.iam.RolePolicy]:
        """Let ``role`` consume the work queue (what a Lambda SQS trigger's function role needs:
        ``sqs:ReceiveMessage``, ``sqs:DeleteMessage``, ``sqs:GetQueueAttributes`` on it,
        https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html); with a customer key, also
        ``kms:Decrypt`` on exactly that key (a second policy, ``key_name``). Returns the one or two policies."""
        policies = [self._grants.add(role, "consume-messages", [iam.allow(
            "ConsumeQueue", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], [self.arn])],
            name)]
        if self.kms_key_arn:
            policies.append(self._grants.add(role, "consume-messages-key", [
                iam.allow("DecryptMessages", ["kms:Decrypt"], [self.kms_key_arn])], key_name))
        return policies


class Workflow:
    """A Standard state machine (a worker's own, or a :class:`orderflow.CallbackStateMachine`), and the grants on it
    and its executions.

    ``arn`` and ``name`` are plain strings (known at preview); ``state_machine``, ``role`` and ``log_group`` are
    the resources once the worker registered them; ``definition`` is the ASL it runs.
    """

    def __init__(self, grants: GrantRegistry, ctx: AwsContext, name: str) -> None:
        self._grants = grants
        self.name = name
        """Physical name of the state machine."""
        self.arn = ctx.state_machine_arn(name)
        """ARN of the state machine."""
        self.executions_arns = ctx.executions_arns(name)
        """Every execution of the machine, in both ARN forms IAM knows for execution actions."""
        self.state_machine: aws.sfn.StateMachine | None = None
        """The state machine resource."""
        self.role: aws.iam.Role | None = None
        """The state machine's role."""
        self.log_group: aws.cloudwatch.LogGroup | None = None
        """The state machine's log group."""
        self.definition: dict[str, Any] = {}
        """The ASL definition the machine runs."""

    def grant_start_execution(self, role: aws.iam.Role, name: str | None = None) -> aws.iam.RolePolicy:
        """Let ``role`` start executions: ``states:StartExecution`` on the state machine."""
        return self._grants.add(role, "start-execution", [
            iam.allow("StartExecution", ["states:StartExecution"], [self.arn])], name)

    def grant_read(self, role: aws.iam.Role, name: str | None = None) -> aws.iam.RolePolicy:
        """Let ``role`` read the machine and its executions: ``states:DescribeExecution`` and
        ``states:GetExecutionHistory`` on its executions, ``states:DescribeStateMachine`` and
        ``states:ListExecutions`` on the machine."""
        return self._grants.add(role, "read", [
            iam.allow("ReadExecutions", ["states:DescribeExecution", "states:GetExecutionHistory"],
                      self.executions_arns),
            iam.allow("ReadStateMachine", ["states:DescribeStateMachine", "states:ListExecutions"], [self.arn]),
        ], name)

    def grant_task_response(self, role: aws.iam.Role, name: str | None = None, *,
                            describe_executions: bool = False) -> aws.iam.RolePolicy:
        """Let ``role`` answer task tokens: ``states:SendTaskSuccess``, ``SendTaskFailure`` and
        ``SendTaskHeartbeat``. AWS defines no resource type for these three actions, so they are granted on
        ``"*"`` (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html):
        the token itself is the authority. ``describe_executions``: also ``states:DescribeExecution`` on this
        machine's executions (a worker reads a dead token's execution fate)."""
        statements = [iam.allow_unscoped(
            "AnswerTaskTokens", ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"])]
        if describe_executions:
            statements.append(iam.allow("ReadOwnExecutions", ["states:DescribeExecution"], self.executions_arns))
        return self._grants.add(role, "task-response", statements, name)

    def grant_describe_executions(self, role: aws.iam.Role, name: str | None = None) -> aws.iam.RolePolicy:
        """Let ``role`` read one execution's status and output: ``states:DescribeExecution`` on this machine's
        executions (what a worker whose tasks run here reads of a dead token's execution)."""
        return self._grants.add(role, "describe-executions", [
            iam.allow("DescribeExecutions", ["states:DescribeExecution"], self.executions_arns)], name)

    def grant_redrive(self, role: aws.iam.Role, name: str | None = None) -> aws.iam.RolePolicy:
        """Let ``role`` redrive failed executions: ``states:RedriveExecution`` on this machine's executions
        (https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html)."""
        return self._grants.add(role, "redrive", [
            iam.allow("RedriveExecution", ["states:RedriveExecution"], self.executions_arns)], name)
