"""The inventory table, with the worker's grant on it declared beside it."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam
from components.aws_context import AwsContext

WORKER_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
"""Exactly the item-level actions the worker's calls need (TransactWriteItems is authorized per item action)."""


class InventoryTable(pulumi.ComponentResource):
    """Stock per SKU and one reservation record per order, in one on-demand, PITR, encrypted table."""

    table_name: str
    """Physical name, known at preview."""
    table_arn: str
    """ARN, known at preview."""

    def __init__(self, name: str, ctx: AwsContext, name_prefix: str | None = None, protect: bool = True,
                 opts: pulumi.ResourceOptions | None = None, kms_key_arn: str | None = None) -> None:
        """``protect``: DynamoDB deletion protection and Pulumi ``protect`` on the table (its stock and records
        are the service's state); switch it off only for stacks whose data may be lost. ``kms_key_arn``: encrypt
        the table with this customer-managed key (default: DynamoDB's AWS owned key). DynamoDB uses the key
        through a grant it creates at CreateTable, so the key policy must allow DynamoDB's use of it for the
        account's principals (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html,
        "Key policy for a customer managed key"); callers of the table need no KMS permission of their own."""
        super().__init__("orderflow:index:InventoryTable", name, None, opts)
        self.table_name = f"{name_prefix or f'{pulumi.get_project()}-{pulumi.get_stack()}'}-{name}"
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
        self.register_outputs({"table_name": self.table_name, "table_arn": self.table_arn})

    def worker_statement(self) -> dict[str, Any]:
        """The inventory worker's grant: item-level actions on this table only."""
        return iam.allow("ReserveStock", WORKER_ACTIONS, [self.table_arn])
