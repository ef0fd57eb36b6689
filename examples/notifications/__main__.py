"""A notifications service on the orderflow library's public API alone: its own table, a callback worker that
records each notification there (a grant on exactly the table's ARN), its own rejections, no compensation."""

from __future__ import annotations

import orderflow
import pulumi
import pulumi_aws as aws
from orderflow.args import CallbackWorkerArgs

REJECTIONS = ["InvalidRecipient", "Unsubscribed"]

table = aws.dynamodb.Table(
    "notifications",
    name=f"notifications-{pulumi.get_stack()}-sent",
    billing_mode="PAY_PER_REQUEST",
    hash_key="id",
    attributes=[{"name": "id", "type": "S"}],
    server_side_encryption={"enabled": True},
    point_in_time_recovery={"enabled": True},
)
args: CallbackWorkerArgs = {
    "code_path": "worker",
    "handler": "notify.lambda_handler",
    "environment": {"TABLE_NAME": table.name},
    "worker_statements": [{"sid": "RecordNotifications", "actions": ["dynamodb:PutItem"], "resources": [table.arn]}],
    "failure": {"rejection_errors": REJECTIONS, "task_state": "Notify", "rejection_state": "Not Sent"},
    "protect": False,
}
worker = orderflow.CallbackWorker("notifications", args)

pulumi.export("stateMachineArn", worker.state_machine_arn)
pulumi.export("queueUrl", worker.queue_url)
pulumi.export("tableName", table.name)
