"""Lambda entry point of the inventory worker: the stock functions (``inventory.worker``) wired into the callback
runtime (``orderflow_runtime.runtime``), which answers each Check Inventory task of the SQS batch and never loses
a message (envelope, heartbeats, answers, dead tokens, the concurrent batch: see the runtime's module doc).

No Powertools Tracer: the X-Ray SDK it loads doubled the cold import (see ``make bench``); the function's
Active tracing still records every invocation, and the state machine traces every execution.

Environment: ``TABLE_NAME`` (the inventory table) and the runtime's ``HEARTBEAT_SECONDS``,
``VISIBILITY_TIMEOUT_SECONDS``, ``ANSWER_CONCURRENCY`` (``orderflow_runtime.contract``); each is required, and a
missing one fails the import with ``ConfigurationError`` naming it. Optional: ``KEPT_STATUSES`` (default
``RESERVED``, see ``inventory.worker``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import botocore.session
from orderflow_runtime.config import Settings, require
from orderflow_runtime.heartbeat import Heartbeat
from orderflow_runtime.logs import log_json, new_logger
from orderflow_runtime.runtime import CallbackRuntime
from orderflow_runtime.tasks import TaskClient
from orderflow_runtime.tasks import execution_fate as fate_of

from inventory.orders import Rejection, parse_order
from inventory.stock import Stock
from inventory.worker import DEFAULT_KEPT, InventoryWorker

__all__ = ["Heartbeat", "Rejection", "lambda_handler", "log_json", "parse_order"]

TABLE_NAME = "TABLE_NAME"
"""The inventory table's name (set by the inventory service through the component's ``environment``)."""

settings = Settings.from_environ()
kept_statuses = settings.kept(DEFAULT_KEPT)
table_name = require(TABLE_NAME, who_sets="the inventory service sets it through the component's environment")
logger = new_logger()
# botocore's session, not boto3: the worker needs two plain clients, and boto3's own import (resources,
# s3transfer) would add about 60 ms to every cold start (`make bench`, cold_import_seconds).
_session = botocore.session.get_session()
sfn = _session.create_client("stepfunctions")


def execution_fate(execution: str) -> str:
    """``"kept"``, ``"running"`` or ``"ended"``: what a reservation's execution can still do with it
    (``inventory.holds``, ``orderflow_runtime.tasks.execution_fate``)."""
    return fate_of(sfn, execution, worker.kept)


stock = Stock(_session.create_client("dynamodb"), table_name, fate=execution_fate)
clients = (sfn, stock._ddb)
"""The worker's botocore clients: Step Functions, then DynamoDB (the emulator hooks its faults on them)."""
tasks = TaskClient(sfn, logger)
worker = InventoryWorker(stock, tasks, logger, kept_statuses)
runtime = CallbackRuntime(worker.runtime_worker(), settings=settings, logger=logger, tasks=tasks)
processor = runtime.processor
beat = tasks.beat


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> Mapping[str, object]:
    return runtime.handle_batch(event, context)
