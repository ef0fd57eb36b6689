"""Generate a reproducible order set and inventory for load and fault runs (`samples/orders-150.json` etc.).

The mix is what a shop sees: mostly valid orders of one to three skus, some for skus not stocked, some
malformed, and two skus stocked below demand so that rejections for stock happen under contention.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

SKUS = [f"SKU-{name}" for name in ("APPLE", "BANANA", "CHERRY", "DATE", "ELDER", "FIG", "GRAPE", "HONEYDEW")]
SCARCE = {"SKU-DATE", "SKU-FIG"}


def generate(count: int, seed: int = 1) -> tuple[list[Any], dict[str, int]]:
    rng = random.Random(seed)
    orders: list[Any] = []
    for i in range(count):
        order_id = f"order-{i + 1:05d}"
        roll = rng.random()
        if roll < 0.04:
            orders.append({"orderId": order_id, "items": [{"sku": "SKU-UNSTOCKED", "quantity": 1}]})
        elif roll < 0.07:
            orders.append({"orderId": order_id, "items": [{"sku": rng.choice(SKUS), "quantity": "2"}]})
        else:
            skus = rng.sample(SKUS, rng.randint(1, 3))
            orders.append({"orderId": order_id, "items": [{"sku": s, "quantity": rng.randint(1, 3)} for s in skus]})
    demand = dict.fromkeys(SKUS, 0)
    for order in orders:
        for item in order["items"]:
            if item["sku"] in demand and isinstance(item["quantity"], int):
                demand[item["sku"]] += item["quantity"]
    inventory = {sku: (n // 2 if sku in SCARCE else n + 10) for sku, n in demand.items()}
    return orders, inventory


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orders", required=True)
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--flash-sale", action="store_true",
                        help="a flash sale instead: every order on two hot skus, stock a third of the demand")
    args = parser.parse_args(argv)
    if args.flash_sale:
        from tools.bench.flash_sale import generate as flash_sale

        orders, inventory = flash_sale(args.count, seed=args.seed)
    else:
        orders, inventory = generate(args.count, args.seed)
    Path(args.orders).write_text("[\n" + ",\n".join(f"  {json.dumps(o)}" for o in orders) + "\n]\n")
    Path(args.inventory).write_text(json.dumps(inventory, indent=2) + "\n")


if __name__ == "__main__":
    main()
