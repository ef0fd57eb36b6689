"""The callback runtime: what a worker wires its own functions into to answer a callback task's messages.

Per record of the SQS batch (concurrently, ``Settings.answer_concurrency`` at a time):
1. the body is decoded and its envelope checked whole (``orderflow_runtime.envelope``) before any call; a message
   that can never be answered is reported failed and reaches the dead-letter queue after maxReceiveCount receives;
2. a compensation message (``contract.ACTION`` names one of the worker's ``compensations``) runs that function;
3. a task message runs the worker's ``decide`` while heartbeats keep the task alive when it matters
   (``orderflow_runtime.heartbeat``), then answers its token:
   - ``Answer.success`` -> SendTaskSuccess; ``Answer.rejection`` (or ``Rejection`` raised) -> SendTaskFailure with
     the rejection's error name and cause (the workflow's business-rejection path);
   - any other exception is transient: the record is reported failed and SQS delivers it again;
   - ``None``: nothing to answer (the worker found the message stale); the message is deleted;
4. the answer's fate: accepted -> ``SettleHooks.accepted``; refused as unanswerable (``tasks.UNANSWERABLE_ERRORS``)
   -> ``SettleHooks.unanswerable`` (give back what the decision holds), then the record goes to the DLQ; a dead
   token (``tasks.DEAD_TOKEN_ERRORS``) -> DescribeExecution, then ``SettleHooks.dead_token`` settles what the
   decision holds from the execution's fate, and the message is deleted.
Every log line of a record carries its execution's trace context when the message has one (``trace_header`` and
``xray_trace_id``: ``orderflow_runtime.trace``). Every failed record leaves one log line at WARNING or above (error class and message, the worker's keys, the
execution and action; never the task token), whatever its fields hold (``logs.log_json``).

The environment (``contract.REQUIRED``) is read when the runtime is built, at the worker module's import: a
missing variable is a ``config.ConfigurationError`` naming it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError

from orderflow_runtime import contract, limits, trace
from orderflow_runtime.batch import ConcurrentBatchProcessor
from orderflow_runtime.config import Settings
from orderflow_runtime.envelope import Envelope, UnanswerableMessage, check_envelope, decode_body, work_item_of
from orderflow_runtime.heartbeat import Heartbeat, first_beat_after, message_age
from orderflow_runtime.logs import new_logger, scalar
from orderflow_runtime.tasks import DEAD_TOKEN_ERRORS, UNANSWERABLE_ERRORS, TaskClient, error_code

EXECUTION_LOG_CHARS = 300
"""A message's ``execution`` is logged up to this many characters (a valid ARN has at most 256)."""


class TransientError(Exception):
    """Worth another delivery: the record is reported failed and SQS brings it back."""


class Rejection(Exception):
    """A business answer raised by ``decide``: SendTaskFailure with ``error`` (the name a workflow's Catch
    matches, at most 256 characters) and ``cause`` (at most 32,768 characters); never retried."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


@dataclass(frozen=True)
class Answer:
    """What ``decide`` answers a task with: a success (``output``: the task's output, JSON text of at most
    256 KiB as UTF-8) or a business rejection (``output`` None; ``error`` and ``cause`` for SendTaskFailure).
    ``status`` is logged with the answer; ``held`` is the worker's own (what the decision holds), handed back to
    its ``SettleHooks``."""

    output: str | None = None
    error: str = ""
    cause: str = ""
    status: str = ""
    held: Any = None

    @classmethod
    def success(cls, output: Any, *, status: str = "SUCCEEDED", held: Any = None) -> Answer:
        """A success whose output is ``output`` as JSON (any JSON-serializable value)."""
        return cls(output=limits.to_json(output), status=status, held=held)

    @classmethod
    def rejection(cls, error: str, cause: str = "", *, status: str = "REJECTED", held: Any = None) -> Answer:
        """A business rejection: SendTaskFailure with ``error`` and ``cause``."""
        return cls(error=error, cause=cause, status=status, held=held)

    @property
    def succeeded(self) -> bool:
        return self.output is not None


def _nothing(*_: Any) -> None:
    return None


def _no_keys(*_: Any) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class SettleHooks:
    """A worker's hooks for what a decision holds until its answer is accepted (all optional).

    - ``accepted(envelope, answer)``: Step Functions accepted the answer;
    - ``unanswerable(envelope, answer)``: the message can never be answered (give back what the decision holds);
      the record then goes to the dead-letter queue;
    - ``dead_token(envelope, answer, execution, code)``: the token is dead (``code``, one of
      ``tasks.DEAD_TOKEN_ERRORS``); ``execution`` is the DescribeExecution response of the message's execution.
      Settle from its fate; return extra keys for the "task token is dead" log line; raise (``TransientError``) to
      have the message delivered again;
    - ``done(answer)``: the answer call returned or raised, whatever came of it.
    """

    accepted: Callable[[Envelope, Answer], object] = _nothing
    unanswerable: Callable[[Envelope, Answer], object] = _nothing
    dead_token: Callable[[Envelope, Answer, Mapping[str, Any], str], Mapping[str, Any]] = _no_keys
    done: Callable[[Answer], object] = _nothing


Decide = Callable[[Envelope, float | None], Answer | None]
"""(the task's envelope, the deadline on ``time.monotonic()`` or None) -> its Answer, or None for no answer."""
Compensate = Callable[[Envelope, float | None], str]
"""(the compensation's envelope, the deadline) -> a short result for the log (the work item is the execution's
input; ``TaskClient.describe`` reads the execution)."""


@dataclass(frozen=True)
class Worker:
    """A worker's own functions: ``decide``; ``compensations`` (action name -> function, see ``Compensate``);
    ``settle`` hooks; ``log_keys`` (the raw work item, any JSON value -> log keys, e.g. its id, never raising)."""

    decide: Decide
    compensations: Mapping[str, Compensate] = field(default_factory=dict)
    settle: SettleHooks = SettleHooks()
    log_keys: Callable[[Any], Mapping[str, Any]] = _no_keys


class CallbackRuntime:
    """Answers a callback task's messages with a ``Worker``'s functions (see the module doc).

    ``settings``: default ``Settings.from_environ()`` (raises ConfigurationError naming a missing variable);
    ``logger``: a Powertools Logger (default ``logs.new_logger()``); ``tasks``: the Step Functions calls (default
    a ``TaskClient`` on a new botocore ``stepfunctions`` client). ``lambda_handler(event, context)`` is the Lambda
    entry point (Powertools' Lambda context in every line; the response is ``{"batchItemFailures": [...]}``).
    Raises ValueError when a compensation action is empty or is ``contract.TASK_ACTION``.
    """

    def __init__(self, worker: Worker, *, settings: Settings | None = None, logger: Any = None,
                 tasks: TaskClient | None = None) -> None:
        for action in worker.compensations:
            if not action or action == contract.TASK_ACTION:
                raise ValueError(f"compensation action {action!r}: must be a non-empty name other than "
                                 f"{contract.TASK_ACTION!r} (the task's own action)")
        self.settings = settings or Settings.from_environ()
        self.logger = logger or new_logger()
        self.tasks = tasks or TaskClient(_stepfunctions_client(), self.logger)
        self.worker = worker
        self._current = threading.local()  # the record this thread handles: its token, kept out of every log line
        self.processor = ConcurrentBatchProcessor(self.settings.answer_concurrency, self.logger, self.current_token)
        self.lambda_handler = self.logger.inject_lambda_context(self.handle_batch)

    def current_token(self) -> str:
        """The task token of the record this thread handles ("" when none)."""
        return str(getattr(self._current, "token", ""))

    def handle_batch(self, event: dict[str, Any], context: Any) -> Mapping[str, object]:
        """Every record of an SQS event; returns the partial batch response (the failed records' ids)."""
        return process_partial_response(event=event, record_handler=self.handle_record, processor=self.processor,
                                        context=context)

    def handle_record(self, record: SQSRecord, lambda_context: Any = None) -> str:
        """One record; returns a short result (the answer's status), raises to report the record failed."""
        self.logger.thread_safe_clear_keys()
        self._current.token = ""
        self.logger.thread_safe_append_keys(message_id=record.message_id, **trace.log_keys(record.raw_event))
        body = decode_body(record.body)  # once: bodies reach 256 KiB
        self.logger.thread_safe_append_keys(**self._peek(body))
        envelope = check_envelope(body, self.worker.compensations)
        self._current.token = envelope.token
        deadline = _deadline(lambda_context)
        if not envelope.is_task:
            return self.worker.compensations[envelope.action](envelope, deadline)
        first = first_beat_after(int(record.attributes.approximate_receive_count or 1),
                                 message_age(record.attributes.sent_timestamp), self.settings.heartbeat_seconds,
                                 self.settings.visibility_timeout_seconds)
        with Heartbeat(lambda: self.tasks.beat(envelope.token), first, self.settings.heartbeat_seconds / 3):
            answer = self._decide(envelope, deadline)
        return self.answer(envelope, answer) if answer is not None else "STALE"

    def _peek(self, body: Any) -> dict[str, Any]:
        """Log keys of a decoded body, before it is checked: the worker's, the execution and the action
        (shortened; never the token; a value that is not a string or a number shows as its JSON type)."""
        if not isinstance(body, dict):
            return {}
        return {**self.worker.log_keys(work_item_of(body)),
                "execution": scalar(body.get(contract.EXECUTION), EXECUTION_LOG_CHARS),
                "action": scalar(body.get(contract.ACTION, contract.TASK_ACTION), 20)}

    def _decide(self, envelope: Envelope, deadline: float | None) -> Answer | None:
        try:
            return self.worker.decide(envelope, deadline)
        except Rejection as rejection:
            return Answer.rejection(rejection.error, rejection.cause)

    def answer(self, envelope: Envelope, answer: Answer) -> str:
        """Send ``answer`` for the task and settle what it holds (see the module doc); returns its status.
        Raises UnanswerableMessage, TransientError, or the call's error when it is worth another delivery."""
        try:
            return self._answer(envelope, answer)
        finally:
            self.worker.settle.done(answer)

    def _answer(self, envelope: Envelope, answer: Answer) -> str:
        try:
            if answer.output is not None:
                self.tasks.succeed(envelope.token, answer.output)
            else:
                self.tasks.fail(envelope.token, answer.error, answer.cause)
        except ClientError as error:
            code = error_code(error)
            if code in UNANSWERABLE_ERRORS:
                self.worker.settle.unanswerable(envelope, answer)
                raise UnanswerableMessage(f"{code} answering the task: {error}") from error
            if code not in DEAD_TOKEN_ERRORS:
                raise
            self._settle_dead_token(envelope, answer, code)
            return answer.status
        self.worker.settle.accepted(envelope, answer)
        self.logger.info("answered", extra={"status": answer.status, "reason": answer.error, "detail": answer.cause})
        return answer.status

    def _settle_dead_token(self, envelope: Envelope, answer: Answer, code: str) -> None:
        """The task is gone: read its execution (unanswerable when it cannot exist), then the worker settles."""
        execution = self.tasks.describe(envelope.execution,
                                        on_unknown=lambda: self.worker.settle.unanswerable(envelope, answer))
        extra = self.worker.settle.dead_token(envelope, answer, execution, code)
        self.logger.warning("task token is dead; message deleted",
                            extra={"error": code, "execution_status": execution["status"], **extra})


def _deadline(context: Any) -> float | None:
    """The invocation's end on ``time.monotonic()`` (None without a Lambda context)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return time.monotonic() + remaining() / 1000 if remaining else None


def _stepfunctions_client() -> Any:
    """botocore's client, not boto3's: boto3's own import (resources, s3transfer) adds about 60 ms to a cold start."""
    import botocore.session

    return botocore.session.get_session().create_client("stepfunctions")
