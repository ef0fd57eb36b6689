"""Lambda entry point: answer each Check Inventory task from the SQS batch, never losing a message.

Per record: parse the envelope, validate the order, reserve (idempotent per order), answer the token.
- reserved -> SendTaskSuccess ``{orderId, status: "RESERVED", items}``;
- OutOfStock / UnknownSku / InvalidOrder -> SendTaskFailure with that error name (the rejection path);
- transient errors -> the record is reported failed; SQS redelivers it, then moves it to the DLQ;
- no usable token or execution -> reported failed (ends in the DLQ), logged with its messageId;
- a dead token (TaskTimedOut, TaskDoesNotExist, InvalidToken) -> the stock this order reserved is released
  unless its execution succeeded with it; the message is deleted.

No Powertools Tracer: the X-Ray SDK it loads doubled the cold import (see ``make bench``); the function's
Active tracing still records every invocation, and the state machine traces every execution.

A release message (``action: "release"``, sent by the state machine's failure path) gives back what its
execution reserved, and leaves a record so that a late delivery of the check cannot reserve any more.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import botocore.session
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError

from inventory.orders import Rejection, parse_order
from inventory.stock import Outcome, Stock, TransientError

DEAD_TOKEN_ERRORS = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
HEARTBEAT_SECONDS = int(os.environ.get("HEARTBEAT_SECONDS", "60"))
ANSWER_CONCURRENCY = int(os.environ.get("ANSWER_CONCURRENCY", "10"))

logger = Logger()
# botocore's session, not boto3: the worker needs two plain clients, and boto3's own import (resources,
# s3transfer) would add about 60 ms to every cold start (`make bench`, cold_import_seconds).
_session = botocore.session.get_session()
sfn = _session.create_client("stepfunctions")
stock = Stock(_session.create_client("dynamodb"), os.environ.get("TABLE_NAME", "inventory"))


class UnanswerableMessage(Exception):
    """No usable task token or execution: nobody can be told, so the message must reach the DLQ."""


class ConcurrentBatchProcessor(BatchProcessor):
    """Handles the records of one batch concurrently, at most ``workers`` at a time."""

    def __init__(self, workers: int) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="record")

    def process(self) -> list[tuple]:
        return list(self._pool.map(self._process_record, self.records))


processor = ConcurrentBatchProcessor(ANSWER_CONCURRENCY)


@dataclass(frozen=True)
class Envelope:
    """What the state machine puts in the message body: a check (with its task token) or a release."""

    token: str
    execution: str
    order: Any
    action: str = "check"


def parse_envelope(record: SQSRecord) -> Envelope:
    try:
        body = json.loads(record.body)
    except (TypeError, ValueError) as error:
        raise UnanswerableMessage(f"body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise UnanswerableMessage("body is not a JSON object")
    action, token, execution = body.get("action", "check"), body.get("taskToken"), body.get("execution")
    if action not in ("check", "release"):
        raise UnanswerableMessage(f"unknown action {action!r}")
    if action == "check" and (not isinstance(token, str) or not token):
        raise UnanswerableMessage("body carries no taskToken")
    if not isinstance(execution, str) or ":execution:" not in execution:
        raise UnanswerableMessage("body carries no execution ARN")
    return Envelope(token=token or "", execution=execution, order=body.get("order"), action=action)


class Heartbeat:
    """Beats once when a delivery starts, then every HEARTBEAT_SECONDS / 3 while its work runs.

    Why the first beat: a delivery that fails comes back after the queue's visibility timeout, and
    HeartbeatSeconds = visibility timeout + function timeout, so a beat at the start of every delivery is
    what keeps the task alive until the next one, however long the message waited in the queue before.
    It runs beside the work (a record costs the longer of the two, not their sum); the record is not
    reported done before it has returned.
    """

    def __init__(self, token: str) -> None:
        self._token = token
        self._interval = max(1.0, HEARTBEAT_SECONDS / 3)
        self._stop = threading.Event()
        self._first = threading.Event()

    def __enter__(self) -> Heartbeat:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._first.wait(self._interval)

    def _run(self) -> None:
        alive = self._beat()
        self._first.set()
        while alive and not self._stop.wait(self._interval):
            alive = self._beat()

    def _beat(self) -> bool:
        try:
            sfn.send_task_heartbeat(taskToken=self._token)
            return True
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if self._stop.is_set() and code in DEAD_TOKEN_ERRORS:
                logger.debug("first heartbeat landed after the answer", extra={"error": code})
            else:
                logger.warning("heartbeat refused", extra={"error": code})
            return code not in DEAD_TOKEN_ERRORS  # a throttled beat is tried again at the next interval
        except BotoCoreError as error:  # the network, not the task: try again at the next interval
            logger.warning("heartbeat not sent", extra={"error": type(error).__name__})
            return True


def record_handler(record: SQSRecord) -> str:
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(message_id=record.message_id)
    try:
        envelope = parse_envelope(record)
    except UnanswerableMessage as error:
        logger.error("unanswerable message, leaving it for the dead-letter queue", extra={"reason": str(error)})
        raise
    order_id = envelope.order.get("orderId") if isinstance(envelope.order, dict) else None
    logger.thread_safe_append_keys(order_id=order_id, execution=envelope.execution, action=envelope.action)
    if envelope.action == "release":
        return release(envelope, order_id)
    with Heartbeat(envelope.token):
        outcome = decide(envelope)
    return answer(envelope, outcome)


def decide(envelope: Envelope) -> Outcome:
    try:
        order = parse_order(envelope.order)
    except Rejection as rejection:
        return Outcome(status="REJECTED", reason=rejection.reason, detail=rejection.detail)
    return stock.reserve(order, envelope.execution)


def answer(envelope: Envelope, outcome: Outcome) -> str:
    try:
        if outcome.reserved:
            order_id = envelope.order["orderId"]
            output = {"orderId": order_id, "status": "RESERVED", "items": [i.as_json() for i in outcome.items]}
            sfn.send_task_success(taskToken=envelope.token, output=json.dumps(output))
        elif outcome.status == "REJECTED":
            sfn.send_task_failure(taskToken=envelope.token, error=outcome.reason, cause=outcome.detail[:32768])
        else:  # RELEASED: the execution that held this reservation already ended without it
            settle_dead_token(envelope, outcome, "ReservationReleased")
            return outcome.status
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code not in DEAD_TOKEN_ERRORS:
            raise
        settle_dead_token(envelope, outcome, code)
    logger.info("answered", extra={"status": outcome.status, "reason": outcome.reason})
    return outcome.status


def settle_dead_token(envelope: Envelope, outcome: Outcome, code: str) -> None:
    """The task is gone: keep the stock only if its execution succeeded with this reservation."""
    owned = outcome.reserved and outcome.execution == envelope.execution
    try:
        execution = sfn.describe_execution(executionArn=envelope.execution)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("ExecutionDoesNotExist", "AccessDeniedException"):
            raise
        if owned:  # a forged message reserved stock for an execution that never existed
            stock.release(envelope.order["orderId"], outcome.items)
        raise UnanswerableMessage(f"{code} and no such execution: not a message of this workflow") from error
    if execution["status"] == "RUNNING":
        raise TransientError(f"{code} while the execution still runs; deciding later")
    kept = execution["status"] == "SUCCEEDED" and json.loads(execution.get("output") or "{}").get("status") == (
        "RESERVED"
    )
    released = stock.release(envelope.order["orderId"], outcome.items) if owned and not kept else False
    logger.warning(
        "task token is dead; message deleted",
        extra={"error": code, "execution_status": execution["status"], "released": released},
    )


def release(envelope: Envelope, order_id: Any) -> str:
    """The execution is on its failure path: give back what it reserved, unless it succeeded with it."""
    if not isinstance(order_id, str) or not order_id:
        logger.info("release: the order has no id, so nothing was reserved for it")
        return "NOTHING_TO_RELEASE"
    try:
        execution = sfn.describe_execution(executionArn=envelope.execution)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("ExecutionDoesNotExist", "AccessDeniedException"):
            raise
        raise UnanswerableMessage("release for an execution that does not exist") from error
    if execution["status"] == "SUCCEEDED" and json.loads(execution.get("output") or "{}").get("status") == (
        "RESERVED"
    ):
        logger.warning("release refused: the execution succeeded with its reservation")
        return "KEPT"
    result = stock.abandon(order_id, envelope.execution)
    logger.info("released", extra={"result": result})
    return result


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> Mapping[str, object]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
