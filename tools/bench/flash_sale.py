"""A flash sale: many orders at once on two or three hot SKUs, demand well above stock.

Every order asks for one or two of the hot SKUs (1-2 units each); stock is a third of the demand, so about two orders
in three must be rejected OutOfStock and every reserving transaction contends for the same few items.
"""

from __future__ import annotations

import random
from typing import Any

HOT = ("SKU-HOT-A", "SKU-HOT-B", "SKU-HOT-C")


def generate(count: int, hot: int = 2, seed: int = 7, stock_share: float = 1 / 3) -> tuple[list[Any], dict[str, int]]:
    """(orders, inventory): ``count`` orders over the first ``hot`` (2-3) hot SKUs, stock ``stock_share`` of demand."""
    if not 2 <= hot <= len(HOT):
        raise ValueError(f"hot must be from 2 to {len(HOT)}, got {hot}")
    rng = random.Random(seed)
    skus = HOT[:hot]
    orders: list[Any] = []
    demand = dict.fromkeys(skus, 0)
    for i in range(count):
        chosen = rng.sample(skus, 2 if rng.random() < 0.25 else 1)
        items = [(s, rng.randint(1, 2)) for s in chosen]
        for sku, quantity in items:
            demand[sku] += quantity
        orders.append({"orderId": f"flash-{i + 1:05d}", "items": [{"sku": s, "quantity": q} for s, q in items]})
    return orders, {sku: max(1, int(n * stock_share)) for sku, n in demand.items()}
