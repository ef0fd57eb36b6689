"""A caller's own workflow on the orderflow library's public API alone: "Prepare" (Pass) shapes a notification
from an order, "Notify" is the notifications worker's callback task (``CallbackWorker.callback_task``), then
"Record" (Pass) keeps what was sent; a rejection (InvalidRecipient, Unsubscribed) goes to "Skipped" (Pass).
The caller's role gets exactly the task's statements. The worker is the notifications example's code."""

from __future__ import annotations

import json

import orderflow
import pulumi
import pulumi_aws as aws
from orderflow.args import CallbackWorkerArgs

REJECTIONS = ["InvalidRecipient", "Unsubscribed"]
stack = pulumi.get_stack()

table = aws.dynamodb.Table(
    "sent", name=f"embedded-{stack}-sent", billing_mode="PAY_PER_REQUEST", hash_key="id",
    attributes=[{"name": "id", "type": "S"}], server_side_encryption={"enabled": True},
    point_in_time_recovery={"enabled": True},
)
args: CallbackWorkerArgs = {
    "code_path": "../notifications/worker",
    "handler": "notify.lambda_handler",
    "environment": {"TABLE_NAME": table.name},
    "worker_statements": [{"sid": "RecordNotifications", "actions": ["dynamodb:PutItem"], "resources": [table.arn]}],
    "failure": {"rejection_errors": REJECTIONS},
    "protect": False,
}
worker = orderflow.CallbackWorker("notify", args)
task = worker.callback_task(
    catch=[{"ErrorEquals": REJECTIONS, "ResultPath": "$.rejection", "Next": "Skipped"}],
    result_path="$.sent", next_state="Record")
definition = {
    "Comment": "Prepare -> Notify (callback) -> Record; a rejection -> Skipped",
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Parameters": {
            "id.$": "$.orderId", "recipient.$": "$.email", "message": "Your order is confirmed"}, "Next": "Notify"},
        "Notify": task.state,
        "Record": {"Type": "Pass", "Parameters": {"recorded.$": "$.sent.id", "to.$": "$.sent.notified"},
                   "End": True},
        "Skipped": {"Type": "Pass", "Parameters": {"skipped.$": "$.id", "why.$": "$.rejection.Error"}, "End": True},
    },
}

role = aws.iam.Role("caller-role", name=f"embedded-{stack}-caller", assume_role_policy=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}))
policy = aws.iam.RolePolicy("caller-notify", name="notify", role=role.name, policy=pulumi.Output.json_dumps(
    {"Version": "2012-10-17", "Statement": task.statements}))
# Execution logs and traces: delivery actions support no resource-level permission (Resource "*"),
# https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy
log_group = aws.cloudwatch.LogGroup("caller-logs", name=f"/aws/vendedlogs/states/embedded-{stack}-caller",
                                    retention_in_days=7)
delivery = ["CreateLogDelivery", "GetLogDelivery", "UpdateLogDelivery", "DeleteLogDelivery", "ListLogDeliveries",
            "PutResourcePolicy", "DescribeResourcePolicies", "DescribeLogGroups"]
observe = aws.iam.RolePolicy("caller-observe", name="logs-and-traces", role=role.name, policy=json.dumps({
    "Version": "2012-10-17", "Statement": [
        {"Sid": "DeliverLogs", "Effect": "Allow", "Action": [f"logs:{a}" for a in delivery], "Resource": "*"},
        {"Sid": "WriteTraces", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords",
                                                             "xray:GetSamplingRules", "xray:GetSamplingTargets"],
         "Resource": "*"}]}))
machine = aws.sfn.StateMachine(
    "caller", name=f"embedded-{stack}-caller", type="STANDARD", role_arn=role.arn,
    definition=pulumi.Output.json_dumps(definition),
    logging_configuration={"log_destination": log_group.arn.apply(lambda arn: f"{arn}:*"),
                           "include_execution_data": False, "level": "ERROR"},
    tracing_configuration={"enabled": True},
    opts=pulumi.ResourceOptions(depends_on=[policy, observe]),
)

pulumi.export("callerStateMachineArn", machine.arn)
pulumi.export("workerStateMachineArn", worker.state_machine_arn)
pulumi.export("tableName", table.name)
