"""The callback pattern's Amazon States Language: one embeddable callback task, and the component's definition.

:func:`callback_task` returns one ASL Task state (``sqs:sendMessage.waitForTaskToken``) a caller places in a
definition of its own, with the IAM statements the state machine's role needs for it. :class:`CallbackDefinition`
is the component's own workflow, built from that task and a :class:`FailurePath`. :func:`check_definition` refuses
a definition whose callback task could wait forever.

Outcomes of the component's workflow (the ExecutionsFailed alarm fires only for technical failures):

- answered: the callback task ends the execution; SUCCEEDED, output the worker's SendTaskSuccess output.
- business rejection (the worker answers SendTaskFailure with one of ``FailurePath.rejection_errors``): the
  rejection Pass state; SUCCEEDED, output ``{status: "REJECTED", reason, cause, execution}``. No rejection errors:
  no rejection state.
- technical failure (timeout, heartbeat timeout, SQS failure, any other error): the compensation state, when the
  failure path has one, then the Fail state; FAILED with ``FailurePath.failed_error`` and the underlying error
  name (``States.Timeout``, ``States.HeartbeatTimeout``, ...) as its cause (a Fail state may not raise a
  ``States.*`` error itself).

Why a compensation state: a worker may have done its work and then never answered (its message went to the
dead-letter queue after the last delivery crashed). The failure path then puts ``{action: <compensation action>,
order: <execution input>, execution}`` on the same queue; the worker undoes whatever this execution did, and makes
sure a late delivery of the task cannot act for it any more.

Why no Pass state after success: Standard workflows bill per state transition, so the happy path is one
transition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orderflow_runtime import contract

from . import iam
from .settings import WorkerSettings

TIMEOUT_ERRORS = ("States.Timeout", "States.HeartbeatTimeout")
"""AWS raises States.HeartbeatTimeout for a missed heartbeat; some emulators raise States.Timeout."""
TRANSIENT_ERRORS = ("SQS.SdkClientException", "SQS.AmazonSQSException")
"""SendMessage errors worth retrying (the message never reached the queue).

Step Functions' optimized SQS integration reports a failed call with one of two error names: the service's
error as ``SQS.AmazonSQSException`` (throttling, KMS and server errors included) and a client-side failure
as ``SQS.SdkClientException`` (service integration errors are ``<Service>.<exception>``:
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html and
https://docs.aws.amazon.com/step-functions/latest/dg/connect-sqs.html). Finer names such as
``SQS.RequestThrottledException`` are not emitted; moto's and LocalStack's Step Functions emulators raise
exactly these two."""
RETRY_ATTEMPTS = 3
"""Retries of a transient SendMessage error (1 s, then doubling)."""
NO_TIMEOUT = 99_999_999
"""A Task's ``TimeoutSeconds`` when none is given: Step Functions then waits up to a year for a callback
(https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html, "TimeoutSeconds"); a value this large or
more counts as none."""
WAIT_FOR_TOKEN = ".waitForTaskToken"
TRACE_HEADER_ATTRIBUTE: str = contract.TRACE_HEADER_ATTRIBUTE
"""The message attribute the worker runtime reads a trace header from (``contract.TRACE_HEADER_ATTRIBUTE``)."""


class DefinitionError(ValueError):
    """A definition that must not run; the message names the state and what to set."""


@dataclass(frozen=True)
class CallbackTask:
    """One callback Task state and what the state machine's role needs to run it."""

    state: dict[str, Any]
    """The ASL Task state (place it under a name in ``States``)."""
    statements: list[iam.Statement]
    """IAM statements for the state machine's role: ``sqs:SendMessage`` on the queue, and with a customer key
    ``kms:GenerateDataKey`` and ``kms:Decrypt`` on it (SQS encrypts the message with it:
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html)."""


def send_statements(queue_arn: str, kms_key_arn: Any = None) -> list[iam.Statement]:
    """What sending to the queue needs: ``SendToQueue`` and, with a key, ``EncryptMessages`` on exactly it."""
    statements = [iam.allow("SendToQueue", ["sqs:SendMessage"], [queue_arn])]
    if kms_key_arn:
        statements.append(iam.allow("EncryptMessages", ["kms:GenerateDataKey", "kms:Decrypt"], [kms_key_arn]))
    return statements


def _retry(attempts: int) -> list[dict[str, Any]]:
    return [{"ErrorEquals": list(TRANSIENT_ERRORS), "IntervalSeconds": 1, "MaxAttempts": attempts,
             "BackoffRate": 2.0}]


def callback_task(queue_url: str, queue_arn: str, settings: WorkerSettings, *, partition: str = "aws",
                  kms_key_arn: Any = None, catch: Sequence[Mapping[str, Any]] = (), result_path: str | None = None,
                  result_selector: Mapping[str, Any] | None = None, next_state: str | None = None,
                  retry_attempts: int = RETRY_ATTEMPTS, trace_header_path: str | None = None) -> CallbackTask:
    """One ``sqs:sendMessage.waitForTaskToken`` Task state for a caller's own definition, and its IAM statements.

    The message is ``{order: <the state's input>, taskToken, execution: <execution ARN>}`` (keys from
    :mod:`orderflow_runtime.contract`). ``TimeoutSeconds`` and ``HeartbeatSeconds`` are the worker's
    ``task_timeout_seconds`` and ``heartbeat_seconds`` (``settings`` is resolved here); transient SendMessage errors
    (:data:`TRANSIENT_ERRORS`) are retried ``retry_attempts`` times. ``catch``: the caller's Catch rules, in order;
    ``result_path`` / ``result_selector``: the state's result handling (JSONPath; default the whole input replaced
    by the worker's output); ``next_state``: the state after it, or None to end the execution.
    (https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token)

    Trace context: a machine with X-Ray tracing on (both components turn it on) propagates its trace to SQS itself
    (Amazon SQS is among the integrations with native X-Ray support,
    https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html): the message carries the
    ``AWSTraceHeader`` system attribute, which the worker runtime reads first, so nothing is set here by default.
    The definition cannot set that attribute (the optimized integration takes no ``MessageSystemAttributes``) and
    the context object holds no trace header. ``trace_header_path``: a JSONPath in the state's input holding a
    trace header the caller carries in its input (e.g. ``$.traceHeader``); it is sent as the String message
    attribute ``orderflow_runtime.contract.TRACE_HEADER_ATTRIBUTE``, which the runtime reads when the system
    attribute is absent. The path must exist in every input (else ``States.Runtime``).
    """
    s = settings.resolved()
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": f"arn:{partition}:states:::sqs:sendMessage{WAIT_FOR_TOKEN}",
        "Parameters": {
            "QueueUrl": queue_url,
            "MessageBody": {
                f"{contract.WORK_ITEM}.$": "$",
                f"{contract.TASK_TOKEN}.$": "$$.Task.Token",
                f"{contract.EXECUTION}.$": "$$.Execution.Id",
            },
        },
        "TimeoutSeconds": s.task_timeout_seconds,
        "HeartbeatSeconds": s.heartbeat_seconds,
        "Retry": _retry(retry_attempts),
    }
    if trace_header_path is not None:
        state["Parameters"]["MessageAttributes"] = {
            TRACE_HEADER_ATTRIBUTE: {"DataType": "String", "StringValue.$": trace_header_path}}
    if catch:
        state["Catch"] = [dict(rule) for rule in catch]
    if result_selector is not None:
        state["ResultSelector"] = dict(result_selector)
    if result_path is not None:
        state["ResultPath"] = result_path
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    return CallbackTask(state, send_statements(queue_arn, kms_key_arn))


def _is_callback(state: Mapping[str, Any]) -> bool:
    return state.get("Type") == "Task" and str(state.get("Resource", "")).endswith(WAIT_FOR_TOKEN)


def check_definition(definition: Mapping[str, Any]) -> None:
    """Refuse a definition (branches of Parallel and Map states included) whose callback task could wait forever.

    Raises DefinitionError naming the state when a ``.waitForTaskToken`` Task has no ``TimeoutSeconds`` (nor
    ``TimeoutSecondsPath``), a ``TimeoutSeconds`` >= :data:`NO_TIMEOUT` (Step Functions' "none"), or a
    ``HeartbeatSeconds`` not below its ``TimeoutSeconds`` (an AWS rule).
    """
    for name, state in definition.get("States", {}).items():
        for branch in [*state.get("Branches", []), *[state[k] for k in ("Iterator", "ItemProcessor") if k in state]]:
            check_definition(branch)
        if not _is_callback(state) or "TimeoutSecondsPath" in state:
            continue
        timeout = state.get("TimeoutSeconds")
        if not isinstance(timeout, int) or timeout >= NO_TIMEOUT:
            raise DefinitionError(
                f"state {name!r}: a callback task (.waitForTaskToken) needs TimeoutSeconds below {NO_TIMEOUT} "
                f"(got {timeout!r}): without it a lost message keeps the execution waiting for a year")
        heartbeat = state.get("HeartbeatSeconds")
        if heartbeat is not None and not heartbeat < timeout:
            raise DefinitionError(f"state {name!r}: HeartbeatSeconds={heartbeat} must be smaller than "
                                  f"TimeoutSeconds={timeout} (AWS rule)")


@dataclass(frozen=True)
class FailurePath:
    """Where the callback task's failures go: rejection errors, an optional compensation, the states' names."""

    rejection_errors: tuple[str, ...] = ()
    """Error names the worker uses for business rejections: routed to the rejection state, not retried."""
    compensation_action: str | None = None
    """The ``action`` of the compensation message; None: no compensation state."""
    task_state: str = "Callback"
    """Name of the callback state."""
    rejection_state: str = "Rejected"
    """Name of the rejection Pass state."""
    compensation_state: str = "Compensate"
    """Name of the compensation state (a plain ``sqs:sendMessage`` to the worker's queue)."""
    failed_state: str = "Failed"
    """Name of the final Fail state."""
    failed_error: str = "CallbackFailed"
    """Error of the final Fail state."""
    compensation_error_path: str = "$.compensationError"
    """Where a failed compensation's error is put (ResultPath of its Catch) before the Fail state."""

    def __post_init__(self) -> None:
        names = [self.task_state, self.rejection_state, self.compensation_state, self.failed_state]
        if len(set(names)) < len(names) or not all(names):
            raise DefinitionError(f"failure path: state names must be distinct and non-empty, got {names}")
        if self.failed_error.startswith("States.") or not self.failed_error:
            raise DefinitionError(f"failure path: failed_error={self.failed_error!r} must be non-empty and not a "
                                  "States.* name (a Fail state may not raise one)")

    @property
    def after_failure(self) -> str:
        """The state a technical failure goes to first."""
        return self.compensation_state if self.compensation_action else self.failed_state

    def catch(self) -> list[dict[str, Any]]:
        """The callback task's Catch rules: rejections, then timeouts, then everything else."""
        rules = [{"ErrorEquals": list(self.rejection_errors), "Next": self.rejection_state}] \
            if self.rejection_errors else []
        return [*rules, {"ErrorEquals": list(TIMEOUT_ERRORS), "Next": self.after_failure},
                {"ErrorEquals": ["States.ALL"], "Next": self.after_failure}]


@dataclass(frozen=True)
class CallbackDefinition:
    """The component's workflow: the callback task, then the :class:`FailurePath`'s states."""

    queue_url: str
    """Queue the callback task (and the compensation) sends to."""
    queue_arn: str
    """ARN of that queue (the statements' resource)."""
    settings: WorkerSettings
    """The worker's settings: the task's TimeoutSeconds and HeartbeatSeconds."""
    partition: str = "aws"
    """AWS partition of the service-integration ARN."""
    failure: FailurePath = field(default_factory=FailurePath)
    """Rejection errors, compensation and state names."""
    kms_key_arn: Any = None
    """The queue's customer-managed key (str or Output), or None."""
    retry_attempts: int = RETRY_ATTEMPTS
    """Retries of a transient SendMessage error."""
    comment: str = "Queue-based callback: a worker answers the task token from SQS."
    """Comment of the definition."""

    @property
    def execution_timeout_seconds(self) -> int:
        """Whole-execution bound: the task timeout plus room for the SendMessage retries."""
        return (self.settings.resolved().task_timeout_seconds or 0) + 60 * (self.retry_attempts + 1)

    def task(self) -> CallbackTask:
        """The callback task of this workflow, its Catch rules from the failure path."""
        return callback_task(self.queue_url, self.queue_arn, self.settings, partition=self.partition,
                             kms_key_arn=self.kms_key_arn, catch=self.failure.catch(),
                             retry_attempts=self.retry_attempts)

    def build(self) -> dict[str, Any]:
        """The definition as a dict; raises DefinitionError (:func:`check_definition`)."""
        f = self.failure
        states: dict[str, Any] = {f.task_state: self.task().state}
        if f.compensation_action:
            states[f.compensation_state] = self._compensation()
        if f.rejection_errors:
            states[f.rejection_state] = {
                "Type": "Pass",
                "Parameters": {"status": "REJECTED", "reason.$": "$.Error", "cause.$": "$.Cause",
                               "execution.$": "$$.Execution.Name"},
                "End": True,
            }
        states[f.failed_state] = {"Type": "Fail", "Error": f.failed_error, "CausePath": "$.Error"}
        definition = {"Comment": self.comment, "StartAt": f.task_state,
                      "TimeoutSeconds": self.execution_timeout_seconds, "States": states}
        check_definition(definition)
        return definition

    def _compensation(self) -> dict[str, Any]:
        f = self.failure
        return compensation_state(self.queue_url, str(f.compensation_action), partition=self.partition,
                                  next_state=f.failed_state, catch_next=f.failed_state,
                                  error_path=f.compensation_error_path, retry_attempts=self.retry_attempts)


def compensation_state(queue_url: str, action: str, *, next_state: str, catch_next: str, error_path: str,
                       partition: str = "aws", retry_attempts: int = RETRY_ATTEMPTS) -> dict[str, Any]:
    """A plain ``sqs:sendMessage`` Task state: ``{action, order: $$.Execution.Input, execution: $$.Execution.Id}``
    on the queue, ``ResultPath`` null (the input goes on), transient errors retried, any error caught to
    ``catch_next`` with the error at ``error_path``, then ``next_state``. Raises DefinitionError for an empty action
    or the callback task's own (``contract.TASK_ACTION``)."""
    if not action or action == contract.TASK_ACTION:
        raise DefinitionError(f"compensation action {action!r}: must be non-empty and not {contract.TASK_ACTION!r} "
                              "(the callback task's own action)")
    return {
        "Type": "Task",
        "Resource": f"arn:{partition}:states:::sqs:sendMessage",
        "Parameters": {
            "QueueUrl": queue_url,
            "MessageBody": {
                contract.ACTION: action,
                f"{contract.WORK_ITEM}.$": "$$.Execution.Input",
                f"{contract.EXECUTION}.$": "$$.Execution.Id",
            },
        },
        "ResultPath": None,
        "Retry": _retry(retry_attempts),
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": error_path, "Next": catch_next}],
        "Next": next_state,
    }
