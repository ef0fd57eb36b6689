"""A program with N copies of the inventory service (N from ORDERFLOW_SYNTH_COPIES): how synth time grows."""

from __future__ import annotations

import os

from components.aws_context import AwsContext
from components.callback_worker import CallbackWorker, CallbackWorkerArgs
from components.inventory_table import InventoryTable
from stack_config import load_stack_config

config = load_stack_config()
ctx = AwsContext.current()
for n in range(int(os.environ.get("ORDERFLOW_SYNTH_COPIES", "1"))):
    table = InventoryTable(f"inventory{n}", ctx)
    CallbackWorker(
        f"inventory{n}",
        CallbackWorkerArgs(
            settings=config.settings,
            code_path="handlers",
            handler="inventory.app.lambda_handler",
            ctx=ctx,
            environment={"TABLE_NAME": table.table_name},
            worker_statements=[table.worker_statement()],
            kms_key_arn=config.kms_key_arn,
            alarm_topic=config.alarm_topic,
        ),
    )
