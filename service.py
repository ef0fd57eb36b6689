"""The inventory-check service: a callback worker and its inventory table. The program builds one; the
benchmark builds many to time how synth grows."""

from __future__ import annotations

from components.aws_context import AwsContext
from components.callback_worker import CallbackWorker, CallbackWorkerArgs
from components.inventory_table import InventoryTable
from stack_config import StackConfig


def inventory_service(name: str, config: StackConfig, ctx: AwsContext) -> tuple[InventoryTable, CallbackWorker]:
    table = InventoryTable(name, ctx, protect=config.protect, kms_key_arn=config.kms_key_arn)
    worker = CallbackWorker(
        name,
        CallbackWorkerArgs(
            settings=config.settings,
            code_path="handlers",
            handler="inventory.app.lambda_handler",
            ctx=ctx,
            environment={"TABLE_NAME": table.table_name},
            worker_statements=[table.worker_statement()],
            kms_key_arn=config.kms_key_arn,
            alarm_topic=config.alarm_topic,
            alarm_topic_arn=config.alarm_topic_arn,
            alarm_emails=config.alarm_emails,
            alarm_https_endpoints=config.alarm_https_endpoints,
            protect=config.protect,
            powertools_layer_arn=config.powertools_layer_arn,
        ),
    )
    return table, worker
