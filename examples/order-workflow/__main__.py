"""An order workflow over two queue-based microservices, on the orderflow library's public API alone.

"Reserve Inventory" (the inventory worker's callback task) -> "Authorize Payment" (the payment worker's) ->
"Order Completed". An inventory rejection ends in "Order Rejected"; a payment rejection first releases the
reservation ("Release Reservation", through the inventory queue). A payment's technical failure voids the
authorization ("Void Authorization", payment queue) and releases the stock ("Release Stock"); an inventory's
technical failure releases the stock; both end in "Order Failed". A stopped or timed-out execution runs no Catch:
an EventBridge rule sends the release and the void instead. Each worker has its own queue, dead-letter queue, role
and table, and no state machine of its own; the workers' code is the repository's handlers folder.
"""

from __future__ import annotations

from typing import Any

import orderflow
import pulumi
import pulumi_aws as aws
from orderflow.args import CallbackWorkerArgs

LEDGER_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
"""What the ledger calls: GetItem, PutItem, UpdateItem, and TransactWriteItems of Put and Update items (IAM
authorizes a transaction per item action: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
transaction-apis-iam.html)."""
INVENTORY_REJECTIONS = ["OutOfStock", "UnknownSku", "InvalidOrder"]
PAYMENT_REJECTIONS = ["PaymentDeclined", "UnknownCustomer", "InvalidPayment"]
TIMEOUTS = ["States.Timeout", "States.HeartbeatTimeout"]
KEPT = "COMPLETED"
"""The status of a completed order: what a SUCCEEDED execution keeps of both workers' holds."""
stack = pulumi.get_stack()
prefix = f"{pulumi.get_project()}-{stack}"


def service(name: str, handler: str) -> tuple[aws.dynamodb.Table, orderflow.CallbackWorker]:
    """A service's table (hash key ``pk``) and its worker, without a state machine of its own."""
    table = aws.dynamodb.Table(
        f"{name}-table", name=f"{prefix}-{name}", billing_mode="PAY_PER_REQUEST", hash_key="pk",
        attributes=[{"name": "pk", "type": "S"}], server_side_encryption={"enabled": True},
        point_in_time_recovery={"enabled": True})
    args: CallbackWorkerArgs = {
        "code_path": "../../handlers",
        "handler": handler,
        "state_machine": False,
        "environment": {"TABLE_NAME": table.name, "KEPT_STATUSES": KEPT},
        "worker_statements": [{"sid": "Ledger", "actions": LEDGER_ACTIONS, "resources": [table.arn]}],
        "protect": False,
    }
    return table, orderflow.CallbackWorker(name, args)


def technical(next_state: str) -> list[dict[str, Any]]:
    """A task's technical failures (timeouts, then anything else) to ``next_state``, the error at $.failure."""
    return [{"ErrorEquals": TIMEOUTS, "ResultPath": "$.failure", "Next": next_state},
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": next_state}]


inventory_table, inventory = service("inventory", "inventory.app.lambda_handler")
payment_table, payment = service("payment", "payment.app.lambda_handler")

reserve = inventory.callback_task(
    catch=[{"ErrorEquals": INVENTORY_REJECTIONS, "ResultPath": "$.rejection", "Next": "Order Rejected"},
           *technical("Release Stock")],
    result_path="$.reservation", next_state="Authorize Payment")
authorize = payment.callback_task(
    catch=[{"ErrorEquals": PAYMENT_REJECTIONS, "ResultPath": "$.rejection", "Next": "Release Reservation"},
           *technical("Void Authorization")],
    result_path="$.authorization", next_state="Order Completed")
sends = len(TIMEOUTS) + 1  # the compensation sends on one path, each with its retries
definition = {
    "Comment": "Reserve Inventory -> Authorize Payment -> Order Completed; rejections and failures compensate",
    "StartAt": "Reserve Inventory",
    "TimeoutSeconds": reserve.state["TimeoutSeconds"] + authorize.state["TimeoutSeconds"] + 60 * 4 * sends,
    "States": {
        "Reserve Inventory": reserve.state,
        "Authorize Payment": authorize.state,
        "Order Completed": {"Type": "Pass", "Parameters": {
            "orderId.$": "$.orderId", "status": KEPT, "reservation.$": "$.reservation",
            "authorization.$": "$.authorization"}, "End": True},
        "Release Reservation": inventory.compensation_task("release", next_state="Order Rejected",
                                                           catch_next="Order Failed", error_path="$.failure"),
        "Order Rejected": {"Type": "Pass", "Parameters": {
            "status": "REJECTED", "reason.$": "$.rejection.Error", "cause.$": "$.rejection.Cause",
            "execution.$": "$$.Execution.Name"}, "End": True},
        "Void Authorization": payment.compensation_task("void", next_state="Release Stock",
                                                        error_path="$.voidError"),
        "Release Stock": inventory.compensation_task("release", next_state="Order Failed",
                                                     error_path="$.releaseError"),
        "Order Failed": {"Type": "Fail", "Error": "OrderFailed", "CausePath": "$.failure.Error"},
    },
}
orders = orderflow.CallbackStateMachine("orders", {
    "definition": definition,
    "workers": [inventory, payment],
    "stop_compensations": [{"worker": inventory, "action": "release"}, {"worker": payment, "action": "void"}],
})

pulumi.export("stateMachineArn", orders.state_machine_arn)
pulumi.export("stopRuleArn", orders.stop_rule_arn)
pulumi.export("inventoryTableName", inventory_table.name)
pulumi.export("paymentTableName", payment_table.name)
pulumi.export("inventoryQueueUrl", inventory.queue_url)
pulumi.export("paymentQueueUrl", payment.queue_url)
