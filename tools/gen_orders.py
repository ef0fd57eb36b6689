"""Generate a reproducible order set and inventory for load and fault runs (`samples/orders-150.json` etc.).

The mix is what a shop sees: mostly valid orders of one to three skus, some for skus not stocked, some
malformed, and two skus stocked below demand so that rejections for stock happen under contention.

With ``--accounts`` (the order workflow, ``examples/order-workflow``) every order also names a customer and an amount
(``customerId``, ``amountCents``), and the accounts file gives each customer a credit limit in cents: most customers
can pay for everything they order, two only for about half of it (some of their orders are declined), one has no
credit at all; a few orders name a customer with no account or carry an amount that is not a whole number of cents.
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


CUSTOMERS = [f"cust-{name}" for name in ("ada", "bob", "cyd", "dee", "eli", "fay", "gus", "hal")]
OVER_LIMIT = {"cust-cyd", "cust-fay"}
"""Customers whose credit covers about half of what they order."""
NO_CREDIT = "cust-hal"


def with_payments(orders: list[Any], seed: int = 1) -> tuple[list[Any], dict[str, int]]:
    """(orders with ``customerId`` and ``amountCents``, accounts: customer -> credit limit in cents)."""
    rng = random.Random(seed + 1000)
    out: list[Any] = []
    spent = dict.fromkeys(CUSTOMERS, 0)
    for order in orders:
        roll = rng.random()
        customer = rng.choice(CUSTOMERS)
        amount: Any = rng.randint(5, 120) * 100
        if roll < 0.03:
            customer = "cust-unknown"
        elif roll < 0.05:
            amount = f"{amount / 100:.2f}"  # a price as text: InvalidPayment
        else:
            spent[customer] += amount
        out.append({**order, "customerId": customer, "amountCents": amount})
    accounts = {c: 0 if c == NO_CREDIT else spent[c] // 2 if c in OVER_LIMIT else spent[c] + 1000 for c in CUSTOMERS}
    return out, accounts


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def _write(parser: argparse.ArgumentParser, option: str, path: str, text: str) -> None:
    """Write ``text`` to ``path``, its folders made first; a path that cannot be written exits 2 naming ``option``."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    except OSError as error:
        parser.error(f"{option} {path}: cannot write it ({error.strerror or error})")


def main(argv: list[str] | None = None) -> None:
    """Write the orders, inventory and (with ``--accounts``) accounts files; bad arguments exit 2 naming the option."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=_positive, required=True, help="how many orders (at least 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orders", required=True)
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--flash-sale", action="store_true",
                        help="a flash sale instead: every order on two hot skus, stock a third of the demand")
    parser.add_argument("--accounts", default=None,
                        help="also write customers' credit limits here (cents), and give each order a customerId "
                             "and amountCents (the order workflow)")
    args = parser.parse_args(argv)
    if args.flash_sale:
        from tools.bench.flash_sale import generate as flash_sale

        orders, inventory = flash_sale(args.count, seed=args.seed)
    else:
        orders, inventory = generate(args.count, args.seed)
    if args.accounts:
        if args.flash_sale:
            from tools.bench.flash_sale import with_customers

            orders, accounts = with_customers(orders, seed=args.seed)
        else:
            orders, accounts = with_payments(orders, args.seed)
        _write(parser, "--accounts", args.accounts, json.dumps(accounts, indent=2) + "\n")
    _write(parser, "--orders", args.orders, "[\n" + ",\n".join(f"  {json.dumps(o)}" for o in orders) + "\n]\n")
    _write(parser, "--inventory", args.inventory, json.dumps(inventory, indent=2) + "\n")


if __name__ == "__main__":
    main()
