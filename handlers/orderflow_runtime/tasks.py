"""The Step Functions calls of a worker: heartbeats, answers, and reading an execution whose token is dead.

Error names (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html,
https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html):
- ``DEAD_TOKEN_ERRORS``: the task no longer waits (it timed out, its execution ended, or the token is not one
  Step Functions knows); the answer can never be delivered, and what the decision holds is settled from the
  execution's fate (DescribeExecution);
- ``UNANSWERABLE_ERRORS``: the message itself is wrong for this workflow (no such execution, a malformed ARN, an
  output Step Functions refuses, an execution this worker may not read): it goes to the dead-letter queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from orderflow_runtime import limits
from orderflow_runtime.envelope import UnanswerableMessage

DEAD_TOKEN_ERRORS = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
UNANSWERABLE_ERRORS = frozenset({"ExecutionDoesNotExist", "InvalidArn", "ValidationException", "InvalidOutput",
                                 "AccessDeniedException"})
"""Errors meaning the message can never be answered, however often it comes back."""

Kept = Callable[[Mapping[str, Any]], bool]
"""A DescribeExecution response -> True when the execution succeeded with what the worker's decision holds."""


def output_status(output: str | None) -> str | None:
    """The ``status`` of a JSON object output (an execution's, or an answer's); None when there is none."""
    try:
        status = json.loads(output or "{}").get("status")
    except (ValueError, AttributeError, RecursionError):
        return None
    return status if isinstance(status, str) else None


def kept_by(statuses: Collection[str]) -> Kept:
    """A ``Kept``: the execution SUCCEEDED and its output's ``status`` is one of ``statuses``
    (``contract.KEPT_STATUSES``)."""
    wanted = frozenset(statuses)

    def kept(execution: Mapping[str, Any]) -> bool:
        return execution["status"] == "SUCCEEDED" and output_status(execution.get("output")) in wanted

    return kept


def error_code(error: ClientError) -> str:
    """The AWS error code of a ClientError ("" when the response has none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def execution_fate(client: Any, execution: str, kept: Kept) -> str:
    """What an execution can still do with what a decision holds for it: ``"kept"`` (it succeeded with it,
    ``kept``), ``"running"`` (its answer may still be accepted; also when Step Functions cannot say now), or
    ``"ended"`` (stopped, timed out, failed, or no such execution of this workflow). ``client``: a botocore
    Step Functions client (one DescribeExecution call)."""
    try:
        description = client.describe_execution(executionArn=execution)
    except ClientError as error:
        return "ended" if error_code(error) in UNANSWERABLE_ERRORS else "running"
    except BotoCoreError:
        return "running"
    if description["status"] == "RUNNING":
        return "running"
    return "kept" if kept(description) else "ended"


class TaskClient:
    """One worker's Step Functions calls on its ``client`` (a botocore ``stepfunctions`` client), logged on
    ``logger`` (a Powertools Logger)."""

    def __init__(self, client: Any, logger: Any) -> None:
        self.client = client
        self._logger = logger

    def beat(self, token: str) -> bool:
        """One SendTaskHeartbeat; False when the task is gone. A throttled or unsent beat is tried at the next."""
        try:
            self.client.send_task_heartbeat(taskToken=token)
            return True
        except ClientError as error:
            code = error_code(error)
            self._logger.warning("heartbeat refused", extra={"error": code})
            return code not in DEAD_TOKEN_ERRORS
        except BotoCoreError as error:
            self._logger.warning("heartbeat not sent", extra={"error": type(error).__name__})
            return True

    def token_is_live(self, token: str) -> bool:
        """Whether the task waits on this token (one SendTaskHeartbeat: accepted = live). Raises ClientError for
        any other refusal (throttling: ask again later)."""
        try:
            self.client.send_task_heartbeat(taskToken=token)
            return True
        except ClientError as error:
            if error_code(error) in DEAD_TOKEN_ERRORS:
                return False
            raise

    def describe(self, execution: str, on_unknown: Callable[[], object] | None = None) -> dict[str, Any]:
        """DescribeExecution. An execution that cannot exist (``UNANSWERABLE_ERRORS``) makes the message
        unanswerable: ``on_unknown`` runs first (to give back what the message's decision holds), then
        UnanswerableMessage is raised. Any other error is raised as it came."""
        try:
            return dict(self.client.describe_execution(executionArn=execution))
        except ClientError as error:
            code = error_code(error)
            if code not in UNANSWERABLE_ERRORS:
                raise
            if on_unknown is not None:
                on_unknown()
            raise UnanswerableMessage(f"{code}: no such execution; not a message of this workflow") from error

    def fate(self, execution: str, kept: Kept) -> str:
        """``execution_fate`` on this worker's client."""
        return execution_fate(self.client, execution, kept)

    def succeed(self, token: str, output: str) -> None:
        """SendTaskSuccess with ``output`` (JSON text, at most ``limits.PAYLOAD_BYTES`` as UTF-8)."""
        self.client.send_task_success(taskToken=token, output=output)

    def fail(self, token: str, error: str, cause: str) -> None:
        """SendTaskFailure; ``error`` and ``cause`` are cut to Step Functions' limits (256 and 32,768 characters)."""
        self.client.send_task_failure(taskToken=token, error=error[:limits.ERROR_CHARS],
                                      cause=cause[:limits.CAUSE_CHARS])
