"""The inventory-check service: one callback worker and its inventory table, built from stack config."""

from __future__ import annotations

import pulumi

from components.aws_context import AwsContext
from components.callback_worker import CallbackWorker, CallbackWorkerArgs
from components.inventory_table import InventoryTable
from stack_config import load_stack_config

config = load_stack_config()
ctx = AwsContext.current()
table = InventoryTable("inventory", ctx)
worker = CallbackWorker(
    "inventory",
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

pulumi.export("queueUrl", worker.queue_url)
pulumi.export("queueArn", worker.queue_arn)
pulumi.export("dlqUrl", worker.dlq_url)
pulumi.export("dlqArn", worker.dlq_arn)
pulumi.export("stateMachineArn", worker.state_machine_arn)
pulumi.export("functionName", worker.function_name)
pulumi.export("functionArn", worker.function_arn)
pulumi.export("workerRoleArn", worker.worker_role_arn)
pulumi.export("stateMachineRoleArn", worker.state_machine_role_arn)
pulumi.export("alarmTopicArn", worker.alarm_topic_arn)
pulumi.export("tableName", table.table_name)
