"""The inventory-check service: a callback worker and its inventory table. The program builds one; the
benchmark builds many to time how synth grows."""

from __future__ import annotations

from orderflow.args import CallbackWorkerArgs, FailurePathArgs
from orderflow.aws_context import AwsContext
from orderflow.callback_worker import CallbackWorker

from components.inventory_service.table import InventoryTable, InventoryTableArgs
from stack_config import StackConfig

REJECTION_ERRORS = ("OutOfStock", "UnknownSku", "InvalidOrder")
"""The worker's business rejections (SendTaskFailure error names): the order is rejected, the execution succeeds."""
RELEASE = "release"
"""The compensation action: give back whatever the failed execution reserved."""
CHECK_STATE = "Check Inventory"
REJECTION_STATE = "Notify Rejection"
RELEASE_STATE = "Release Reservation"
FAILED_STATE = "Order Failed"
FAILED_ERROR = "OrderFailed"

FAILURE: FailurePathArgs = {
    "rejection_errors": list(REJECTION_ERRORS),
    "compensation_action": RELEASE,
    "task_state": CHECK_STATE,
    "rejection_state": REJECTION_STATE,
    "compensation_state": RELEASE_STATE,
    "failed_state": FAILED_STATE,
    "failed_error": FAILED_ERROR,
    "compensation_error_path": "$.releaseError",
}
"""The inventory workflow's failure path: its rejections, its release message, its state names."""


def worker_args(config: StackConfig, ctx: AwsContext, table: InventoryTable) -> CallbackWorkerArgs:
    """The inventory worker's args from stack config: the handler, the table's grant and name, the failure path."""
    args: CallbackWorkerArgs = {
        "settings": config.settings.as_args(),
        "code_path": "handlers",
        "handler": "inventory.app.lambda_handler",
        "aws_context": ctx.as_args(),
        "environment": {"TABLE_NAME": table.table_name},
        "worker_statements": [table.worker_grant()],
        "alarm_topic": config.alarm_topic,
        "alarm_emails": list(config.alarm_emails),
        "alarm_https_endpoints": list(config.alarm_https_endpoints),
        "protect": config.protect,
        "failure": FAILURE,
    }
    for key, value in (("kms_key_arn", config.kms_key_arn), ("alarm_topic_arn", config.alarm_topic_arn),
                       ("powertools_layer_arn", config.powertools_layer_arn)):
        if value:
            args[key] = value
    return args


def inventory_service(name: str, config: StackConfig, ctx: AwsContext) -> tuple[InventoryTable, CallbackWorker]:
    """The inventory table and its callback worker, named ``name``, from stack config, for ``ctx``."""
    table_args: InventoryTableArgs = {"protect": config.protect, "partition": ctx.partition, "region": ctx.region,
                                      "account_id": ctx.account_id}
    if config.kms_key_arn:
        table_args["kms_key_arn"] = config.kms_key_arn
    table = InventoryTable(name, table_args)
    return table, CallbackWorker(name, worker_args(config, ctx, table))
