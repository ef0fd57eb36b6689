"""Stock reservations in DynamoDB, idempotent per order.

Why a reservation record written in the same transaction, and not Powertools idempotency: the record
and the stock decrements commit together or not at all, so a crash at any point can neither reserve
twice nor leave stock taken without a record saying by whom. (An idempotency record stored beside the
work would leave an INPROGRESS window in which a crash after the decrement reserves again on retry.)

Table layout: ``pk = "SKU#<sku>"`` holds ``stock``; ``pk = "ORDER#<orderId>"`` holds the first result
(``status`` RESERVED, REJECTED or RELEASED, ``items``, ``reason``, ``execution``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from inventory.orders import Item, Order, Rejection


class TransientError(Exception):
    """Worth another delivery: the record is reported failed and SQS brings it back."""


@dataclass(frozen=True)
class Outcome:
    """The first result for an order; a redelivery answers with it again."""

    status: str
    items: tuple[Item, ...] = ()
    reason: str = ""
    detail: str = ""
    execution: str = ""

    @property
    def reserved(self) -> bool:
        return self.status == "RESERVED"


def sku_key(sku: str) -> dict[str, Any]:
    return {"pk": {"S": f"SKU#{sku}"}}


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}}


class Stock:
    def __init__(self, client: Any, table: str) -> None:
        self._ddb = client
        self._table = table

    def reserve(self, order: Order, execution: str) -> Outcome:
        """Take every item or none, and record the result under the order id, in one transaction."""
        writes = [self._take(item) for item in order.items]
        writes.append({"Put": {
            "TableName": self._table,
            "Item": {**order_key(order.order_id), "status": {"S": "RESERVED"}, "execution": {"S": execution},
                     "items": {"S": json.dumps([i.as_json() for i in order.items])}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }})
        try:
            self._ddb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            reasons = _cancellation_reasons(error)
            if reasons is None:
                raise
            if reasons[-1].get("Code") == "ConditionalCheckFailed":
                return self.recorded(order.order_id)
            for item, reason in zip(order.items, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    rejection = (
                        Rejection("UnknownSku", f"sku {item.sku!r} is not in the inventory")
                        if "Item" not in reason
                        else Rejection("OutOfStock", f"sku {item.sku!r}: {_stock(reason)} left, "
                                                     f"{item.quantity} requested")
                    )
                    return self.record_rejection(order, rejection, execution)
            raise TransientError(f"transaction cancelled: {[r.get('Code') for r in reasons]}") from error
        return Outcome(status="RESERVED", items=order.items, execution=execution)

    def record_rejection(self, order: Order, rejection: Rejection, execution: str) -> Outcome:
        """Keep the first rejection, so a redelivery after a restock still answers the same."""
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={**order_key(order.order_id), "status": {"S": "REJECTED"}, "execution": {"S": execution},
                      "reason": {"S": rejection.reason}, "detail": {"S": rejection.detail}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return self.recorded(order.order_id)
            raise
        return Outcome(status="REJECTED", reason=rejection.reason, detail=rejection.detail, execution=execution)

    def recorded(self, order_id: str) -> Outcome:
        item = self._ddb.get_item(TableName=self._table, Key=order_key(order_id), ConsistentRead=True).get("Item")
        if item is None:
            raise TransientError(f"order {order_id}: reservation record not readable yet")
        items = tuple(Item(**i) for i in json.loads(item["items"]["S"])) if "items" in item else ()
        return Outcome(
            status=item["status"]["S"],
            items=items,
            reason=item.get("reason", {}).get("S", ""),
            detail=item.get("detail", {}).get("S", ""),
            execution=item.get("execution", {}).get("S", ""),
        )

    def release(self, order_id: str, items: tuple[Item, ...]) -> bool:
        """Give a reservation's stock back, once; False when it was already released."""
        writes: list[dict[str, Any]] = [{"Update": {
            "TableName": self._table,
            "Key": sku_key(item.sku),
            "UpdateExpression": "SET stock = stock + :q",
            "ExpressionAttributeValues": {":q": {"N": str(item.quantity)}},
        }} for item in items]
        writes.append({"Update": {
            "TableName": self._table,
            "Key": order_key(order_id),
            "UpdateExpression": "SET #s = :released",
            "ConditionExpression": "#s = :reserved",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":released": {"S": "RELEASED"}, ":reserved": {"S": "RESERVED"}},
        }})
        try:
            self._ddb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            reasons = _cancellation_reasons(error)
            if reasons is not None and reasons[-1].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True

    def abandon(self, order_id: str, execution: str) -> str:
        """For an execution on its failure path: release its reservation, or block one that has not happened."""
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={**order_key(order_id), "status": {"S": "RELEASED"}, "execution": {"S": execution}},
                ConditionExpression="attribute_not_exists(pk)",
            )
            return "NOTHING_RESERVED"
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        outcome = self.recorded(order_id)
        if outcome.execution != execution:
            return "OTHER_EXECUTION"  # the order id's record belongs to another execution: not ours to touch
        if not outcome.reserved:
            return outcome.status  # REJECTED, or RELEASED already
        return "RELEASED" if self.release(order_id, outcome.items) else "ALREADY_RELEASED"

    def _take(self, item: Item) -> dict[str, Any]:
        return {"Update": {
            "TableName": self._table,
            "Key": sku_key(item.sku),
            "UpdateExpression": "SET stock = stock - :q",
            "ConditionExpression": "attribute_exists(pk) AND stock >= :q",
            "ExpressionAttributeValues": {":q": {"N": str(item.quantity)}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }}


def _cancellation_reasons(error: ClientError) -> list[dict[str, Any]] | None:
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return None
    reasons = error.response.get("CancellationReasons")
    return list(reasons) if reasons else None


def _stock(reason: dict[str, Any]) -> str:
    return str(reason.get("Item", {}).get("stock", {}).get("N", "0"))
