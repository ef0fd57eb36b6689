"""Reading the deployed inventory table: one sku's stock, read consistently."""

from __future__ import annotations

from typing import Any

from tools.deployed.outputs import SKU_PREFIX


def read_stock(ddb: Any, table: str, sku: str) -> int | None:
    """The sku's stock (a strongly consistent read); None when the sku has no item or no stock."""
    item = ddb.get_item(TableName=table, Key={"pk": {"S": SKU_PREFIX + sku}}, ConsistentRead=True).get("Item")
    if item is None or "stock" not in item:
        return None
    return int(item["stock"]["N"])
