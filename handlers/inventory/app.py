"""Lambda entry point: answer each Check Inventory task from the SQS batch, never losing a message.

Per record: check the envelope whole (``inventory.envelope``) before any call, validate the order, reserve
(idempotent per order, see ``inventory.stock`` for the order contract), answer the token.
- reserved -> SendTaskSuccess ``{orderId, status: "RESERVED", items}``;
- OutOfStock / UnknownSku / InvalidOrder -> SendTaskFailure with that error name (the rejection path);
- transient errors -> the record is reported failed; SQS redelivers it, then moves it to the DLQ;
- a message that can never be answered (bad envelope; InvalidArn, ExecutionDoesNotExist, ValidationException,
  InvalidOutput, AccessDenied on its execution) -> what it reserved is given back, the record is reported
  failed (it reaches the DLQ after maxReceiveCount receives) and logged;
- a dead token (TaskTimedOut, TaskDoesNotExist, InvalidToken) -> the stock this order reserved is released
  unless its execution succeeded with it; the message is deleted.
Every failed record leaves one log line at WARNING or above (order id, execution, error class and message;
never the task token), whatever its fields hold (``log_json``); a rejection's cause is in the "answered" line.
Heartbeats follow ``inventory.heartbeat``; stock held by a reservation whose answer is not accepted yet follows
``inventory.holds`` (an accepted answer settles it; ``execution_fate`` tells a decision what became of one).

No Powertools Tracer: the X-Ray SDK it loads doubled the cold import (see ``make bench``); the function's
Active tracing still records every invocation, and the state machine traces every execution.

A release message (``action: "release"``, sent by the state machine's failure path) gives back what its
execution reserved, and leaves a record so that a late delivery of the check cannot reserve any more.

Environment: ``TABLE_NAME``; ``HEARTBEAT_SECONDS`` (default 60); ``VISIBILITY_TIMEOUT_SECONDS`` (default
HEARTBEAT_SECONDS / 2); ``ANSWER_CONCURRENCY`` (default 10); ``CONFLICT_RETRY_ATTEMPTS`` (default 20; 0 = a
write conflict fails the record and SQS redelivers it).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore.session
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError

from inventory import limits
from inventory.envelope import Envelope, UnanswerableMessage, check_envelope, decode_body
from inventory.heartbeat import Heartbeat, first_beat_after, message_age
from inventory.orders import ORDER_ID, Rejection, parse_order
from inventory.stock import Outcome, Stock, TransientError

DEAD_TOKEN_ERRORS = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
UNANSWERABLE_ERRORS = frozenset({"ExecutionDoesNotExist", "InvalidArn", "ValidationException", "InvalidOutput",
                                 "AccessDeniedException"})
"""Errors meaning the message can never be answered, however often it comes back."""
HEARTBEAT_SECONDS = int(os.environ.get("HEARTBEAT_SECONDS", "60"))
VISIBILITY_TIMEOUT_SECONDS = int(os.environ.get("VISIBILITY_TIMEOUT_SECONDS", str(HEARTBEAT_SECONDS // 2)))
ANSWER_CONCURRENCY = int(os.environ.get("ANSWER_CONCURRENCY", "10"))
CONFLICT_RETRY_ATTEMPTS = int(os.environ.get("CONFLICT_RETRY_ATTEMPTS", "20"))

def log_json(record: dict[str, Any]) -> str:
    """A log line as Powertools writes it (compact JSON, not ASCII-escaped), except that a character UTF-8 cannot
    hold (a lone surrogate: JSON bodies may carry ``"\\ud800"``) is written as its JSON escape, so every line
    can be written on Lambda's UTF-8 stdout and a failed record always leaves its line."""
    text = json.dumps(record, default=str, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")  # "\ud800" inside a JSON string
    return text


logger = Logger(json_serializer=log_json)
# botocore's session, not boto3: the worker needs two plain clients, and boto3's own import (resources,
# s3transfer) would add about 60 ms to every cold start (`make bench`, cold_import_seconds).
_session = botocore.session.get_session()
sfn = _session.create_client("stepfunctions")


def execution_fate(execution: str) -> str:
    """What a reservation's execution can still do with it (``inventory.holds``): ``"kept"`` (it succeeded with
    it), ``"running"`` (its answer may still be accepted; also when Step Functions cannot say now), or
    ``"ended"`` (stopped, timed out, failed, or no such execution of this workflow)."""
    try:
        execution_description = sfn.describe_execution(executionArn=execution)
    except ClientError as error:
        return "ended" if error.response["Error"]["Code"] in UNANSWERABLE_ERRORS else "running"
    except BotoCoreError:
        return "running"
    if execution_description["status"] == "RUNNING":
        return "running"
    return "kept" if kept(execution_description) else "ended"


stock = Stock(_session.create_client("dynamodb"), os.environ.get("TABLE_NAME", "inventory"), CONFLICT_RETRY_ATTEMPTS,
              fate=execution_fate)
_current = threading.local()  # the record this thread handles: its token, to keep it out of every log line


class ConcurrentBatchProcessor(BatchProcessor):
    """Handles the records of one batch concurrently, at most ``workers`` at a time; logs every failure."""

    def __init__(self, workers: int) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="record")

    def process(self) -> list[tuple]:
        return list(self._pool.map(self._process_record, self.records))

    def failure_handler(self, record: Any, exception: Any) -> Any:
        error = exception[1]
        token = getattr(_current, "token", "")
        message = str(error).replace(token, "<taskToken>") if token else str(error)
        log = logger.error if isinstance(error, UnanswerableMessage) else logger.warning
        log("record failed; SQS redelivers it, and moves it to the dead-letter queue after maxReceiveCount",
            extra={"error_class": type(error).__name__, "error": message[:2000]})
        return super().failure_handler(record, exception)


processor = ConcurrentBatchProcessor(ANSWER_CONCURRENCY)


def record_handler(record: SQSRecord, lambda_context: Any = None) -> str:
    logger.thread_safe_clear_keys()
    _current.token = ""
    logger.thread_safe_append_keys(message_id=record.message_id)
    body = decode_body(record.body)  # once: bodies reach 256 KiB
    logger.thread_safe_append_keys(**_peek(body))
    envelope = check_envelope(body)
    _current.token = envelope.token
    deadline = _deadline(lambda_context)
    if envelope.action == "release":
        return release(envelope, deadline)
    first = first_beat_after(int(record.attributes.approximate_receive_count or 1),
                             message_age(record.attributes.sent_timestamp), HEARTBEAT_SECONDS,
                             VISIBILITY_TIMEOUT_SECONDS)
    with Heartbeat(lambda: beat(envelope.token), first, HEARTBEAT_SECONDS / 3):
        outcome = decide(envelope, deadline)
    return answer(envelope, outcome) if outcome is not None else "STALE"


def _peek(data: Any) -> dict[str, Any]:
    """The order id and execution of a decoded body, for the log, before it is checked (shortened, never the
    token; a value that is not a string or a number shows as its JSON type)."""
    if not isinstance(data, dict):
        return {}
    order = data.get("order")
    order_id = order.get("orderId") if isinstance(order, dict) else None
    return {"order_id": _scalar(order_id, 100), "execution": _scalar(data.get("execution"), 300),
            "action": _scalar(data.get("action", "check"), 20)}


def _scalar(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, str | int | float | bool):
        return str(value)[:limit]
    return f"<{type(value).__name__}>"


def _deadline(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return time.monotonic() + remaining() / 1000 if remaining else None


def beat(token: str) -> bool:
    """One SendTaskHeartbeat; False when the task is gone. A throttled or unsent beat is tried at the next one."""
    try:
        sfn.send_task_heartbeat(taskToken=token)
        return True
    except ClientError as error:
        code = error.response["Error"]["Code"]
        logger.warning("heartbeat refused", extra={"error": code})
        return code not in DEAD_TOKEN_ERRORS
    except BotoCoreError as error:
        logger.warning("heartbeat not sent", extra={"error": type(error).__name__})
        return True


def decide(envelope: Envelope, deadline: float | None) -> Outcome | None:
    """The order's outcome; None for a stale check (its order was released and its token is dead)."""
    try:
        order = parse_order(envelope.order)
    except Rejection as rejection:
        return Outcome(status="REJECTED", reason=rejection.reason, detail=rejection.detail)
    outcome = stock.reserve(order, envelope.execution, deadline=deadline)
    if outcome.status != "RELEASED":
        return outcome
    if not token_is_live(envelope.token):
        describe(envelope)  # an execution that never existed: unanswerable, to the DLQ
        logger.warning("check for a released order with a dead task token; message deleted",
                       extra={"released_by": outcome.execution})
        return None
    outcome = stock.reserve(order, envelope.execution, over_released=True, deadline=deadline)
    if outcome.status == "RELEASED":
        raise TransientError("the order's record is still RELEASED after a fresh decision")
    return outcome


def token_is_live(token: str) -> bool:
    """Ask Step Functions whether the task waits on this token (one SendTaskHeartbeat)."""
    try:
        sfn.send_task_heartbeat(taskToken=token)
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] in DEAD_TOKEN_ERRORS:
            return False
        raise


def answer(envelope: Envelope, outcome: Outcome) -> str:
    try:
        return _answer(envelope, outcome)
    finally:
        stock.settled.end(outcome.hold)


def _answer(envelope: Envelope, outcome: Outcome) -> str:
    try:
        if outcome.reserved:
            sfn.send_task_success(taskToken=envelope.token, output=outcome.output())
        else:
            sfn.send_task_failure(taskToken=envelope.token, error=outcome.reason[:limits.ERROR_CHARS],
                                  cause=outcome.detail[:limits.CAUSE_CHARS])
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in UNANSWERABLE_ERRORS:
            give_back(envelope, outcome)
            raise UnanswerableMessage(f"{code} answering the task: {error}") from error
        if code not in DEAD_TOKEN_ERRORS:
            raise
        settle_dead_token(envelope, outcome, code)
        return outcome.status
    if outcome.reserved and outcome.execution == envelope.execution:  # its execution succeeded with it
        stock.settled.add([item.sku for item in outcome.items], outcome.hold)
    logger.info("answered", extra={"status": outcome.status, "reason": outcome.reason, "detail": outcome.detail})
    return outcome.status


def give_back(envelope: Envelope, outcome: Outcome) -> bool:
    """Release what this message's execution holds for the order; False when it holds nothing."""
    if not (outcome.reserved and outcome.execution == envelope.execution):
        return False
    return stock.release(outcome.order_id, outcome.items, envelope.execution, hold=outcome.hold)


def settle_dead_token(envelope: Envelope, outcome: Outcome, code: str) -> None:
    """The task is gone: keep the stock only if its execution succeeded with this reservation."""
    owned = outcome.reserved and outcome.execution == envelope.execution
    execution = describe(envelope, outcome)
    if execution["status"] == "RUNNING" and owned:
        raise TransientError(f"{code} while the execution still runs; deciding when it ends")
    if kept(execution):
        if owned:
            stock.settled.add([item.sku for item in outcome.items], outcome.hold)
        released = False
    else:
        released = give_back(envelope, outcome)
    logger.warning("task token is dead; message deleted",
                   extra={"error": code, "execution_status": execution["status"], "released": released})


def describe(envelope: Envelope, outcome: Outcome | None = None) -> dict[str, Any]:
    """DescribeExecution; an execution that cannot exist makes the message unanswerable (after giving back)."""
    try:
        return dict(sfn.describe_execution(executionArn=envelope.execution))
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code not in UNANSWERABLE_ERRORS:
            raise
        if outcome is not None:
            give_back(envelope, outcome)  # a forged message reserved stock for an execution that never existed
        raise UnanswerableMessage(f"{code}: no such execution; not a message of this workflow") from error


def kept(execution: Mapping[str, Any]) -> bool:
    """True when the execution succeeded with its reservation."""
    if execution["status"] != "SUCCEEDED":
        return False
    try:
        return bool(json.loads(execution.get("output") or "{}").get("status") == "RESERVED")
    except (ValueError, AttributeError):
        return False


def release(envelope: Envelope, deadline: float | None) -> str:
    """The execution is on its failure path: give back what it reserved, unless it succeeded with it."""
    order_id = envelope.order_id
    if not order_id or not ORDER_ID.fullmatch(order_id):
        logger.info("release: the order has no valid id, so nothing was reserved for it")
        return "NOTHING_TO_RELEASE"
    if kept(describe(envelope)):
        logger.warning("release refused: the execution succeeded with its reservation")
        return "KEPT"
    result = stock.abandon(order_id, envelope.execution, deadline)
    logger.info("released", extra={"result": result})
    return result


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> Mapping[str, object]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
