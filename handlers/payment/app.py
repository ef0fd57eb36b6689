"""Lambda entry point of the payment worker: the credit functions (``payment.worker``) wired into the callback
runtime (``orderflow_runtime.runtime``), which answers each Authorize Payment task of the SQS batch and never loses
a message (envelope, heartbeats, answers, dead tokens, the concurrent batch: see the runtime's module doc).

Environment: ``TABLE_NAME`` (the payment table) and the runtime's ``HEARTBEAT_SECONDS``,
``VISIBILITY_TIMEOUT_SECONDS``, ``ANSWER_CONCURRENCY`` (``orderflow_runtime.contract``); each is required, and a
missing one fails the import with ``ConfigurationError`` naming it. Optional: ``KEPT_STATUSES`` (default
``AUTHORIZED``; the order workflow sets ``COMPLETED``, see ``payment.worker``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import botocore.session
from orderflow_runtime.config import Settings, require
from orderflow_runtime.logs import new_logger
from orderflow_runtime.runtime import CallbackRuntime
from orderflow_runtime.tasks import TaskClient
from orderflow_runtime.tasks import execution_fate as fate_of

from payment.credit import Credit
from payment.worker import DEFAULT_KEPT, PaymentWorker

__all__ = ["clients", "lambda_handler"]

TABLE_NAME = "TABLE_NAME"
"""The payment table's name (set by the program through the component's ``environment``)."""

settings = Settings.from_environ()
kept_statuses = settings.kept(DEFAULT_KEPT)
table_name = require(TABLE_NAME, who_sets="the program sets it through the payment worker's environment")
logger = new_logger()
# botocore's session, not boto3: the worker needs two plain clients (boto3's import adds to every cold start).
_session = botocore.session.get_session()
sfn = _session.create_client("stepfunctions")


def execution_fate(execution: str) -> str:
    """``"kept"``, ``"running"`` or ``"ended"``: what an authorization's execution can still do with it
    (``orderflow_runtime.ledger.holds``, ``orderflow_runtime.tasks.execution_fate``)."""
    return fate_of(sfn, execution, worker.kept)


credit = Credit(_session.create_client("dynamodb"), table_name, fate=execution_fate)
clients = (sfn, credit._ddb)
"""The worker's botocore clients: Step Functions, then DynamoDB (the emulator hooks its faults on them)."""
tasks = TaskClient(sfn, logger)
worker = PaymentWorker(credit, tasks, logger, kept_statuses)
runtime = CallbackRuntime(worker.runtime_worker(), settings=settings, logger=logger, tasks=tasks)
processor = runtime.processor


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> Mapping[str, object]:
    return runtime.handle_batch(event, context)
