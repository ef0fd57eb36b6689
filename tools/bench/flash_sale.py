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


NEAR_LIMIT = "cust-near"
"""The flash sale's customer near their limit: credit for about a quarter of what they order (the sale's stock
serves about a third of the orders, so their last ones run into the limit)."""


def with_customers(orders: list[Any], seed: int = 7, share: float = 0.2) -> tuple[list[Any], dict[str, int]]:
    """(orders with ``customerId`` and ``amountCents``, accounts): a ``share`` of the orders from one customer near
    their limit (``NEAR_LIMIT``: credit for about a quarter of what they order), the rest from customers with ample
    credit."""
    rng = random.Random(seed + 1)
    out, spent = [], {NEAR_LIMIT: 0}
    for n, order in enumerate(orders):
        customer = NEAR_LIMIT if rng.random() < share else f"cust-{n % 25:02d}"
        amount = rng.randint(10, 60) * 100
        spent[customer] = spent.get(customer, 0) + amount
        out.append({**order, "customerId": customer, "amountCents": amount})
    accounts = {c: (n // 4 if c == NEAR_LIMIT else n + 10_000) for c, n in spent.items()}
    return out, accounts
