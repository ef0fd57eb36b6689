"""The inventory table, with the worker's grant on it declared beside it.

No ``from __future__ import annotations`` here: Pulumi's component analyzer reads the args annotation as a type.
"""

from typing import TypedDict

import pulumi
import pulumi_aws as aws
from orderflow import iam
from orderflow.args import WorkerGrantArgs
from orderflow.aws_context import AwsContext

WORKER_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
"""Exactly the item-level actions the worker's calls need (TransactWriteItems is authorized per item action)."""


class InventoryTableArgs(TypedDict, total=False):
    """Arguments of :class:`InventoryTable`; every key optional."""

    name_prefix: str
    """Prefix of the table's name; default ``<project>-<stack>``. Plain: the name and ARN are known at preview."""
    protect: bool
    """DynamoDB deletion protection and Pulumi ``protect`` on the table (default true: its stock and records are
    the service's state); switch it off only for stacks whose data may be lost."""
    kms_key_arn: pulumi.Input[str]
    """Encrypt the table with this customer-managed key (default: DynamoDB's AWS owned key). DynamoDB uses the key
    through a grant it creates at CreateTable, so the key policy must allow DynamoDB's use of it for the account's
    principals (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html, "Key policy for a
    customer managed key"); callers of the table need no KMS permission of their own."""
    partition: str
    """Partition of the table's ARN; default the provider's. Plain: the ARN is known at preview."""
    region: str
    """Region of the table's ARN; default the provider's."""
    account_id: str
    """Account of the table's ARN; default the provider's."""


class InventoryTable(pulumi.ComponentResource):
    """Stock per SKU and one reservation record per order, in one on-demand, PITR, encrypted table."""

    table_name: str
    """Physical name, known at preview (a plain string, so the worker's grant and environment are too)."""
    table_arn: str
    """ARN, known at preview."""

    def __init__(self, name: str, args: InventoryTableArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:index:InventoryTable", name, None, opts)
        protect = args.get("protect", True)
        kms_key_arn = args.get("kms_key_arn")
        given = {k: args[k] for k in ("partition", "region", "account_id") if k in args}
        ctx = AwsContext.from_args(given, pulumi.InvokeOptions(parent=self))
        self.table_name = f"{args.get('name_prefix') or f'{pulumi.get_project()}-{pulumi.get_stack()}'}-{name}"
        self.table_arn = ctx.table_arn(self.table_name)
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=self.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key="pk",
            attributes=[{"name": "pk", "type": "S"}],
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True, "kms_key_arn": kms_key_arn} if kms_key_arn else {"enabled": True},
            deletion_protection_enabled=protect,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        """The DynamoDB table."""
        self.register_outputs({"table_name": self.table_name, "table_arn": self.table_arn})

    def worker_grant(self) -> WorkerGrantArgs:
        """The inventory worker's grant: item-level actions on this table only."""
        return {"sid": "ReserveStock", "actions": list(WORKER_ACTIONS), "resources": [self.table_arn]}

    def worker_statement(self) -> iam.Statement:
        """:meth:`worker_grant` as an IAM statement."""
        return iam.allow("ReserveStock", WORKER_ACTIONS, [self.table_arn])
