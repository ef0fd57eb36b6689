"""`orderflow stock`: set the stock levels of a deployed stack's table from an INVENTORY file.

Each sku of INVENTORY gets exactly that stock (units available now) in its ``SKU#<sku>`` item (the inventory
worker's own layout, ``inventory.stock.LAYOUT``); skus not in INVENTORY and the reservation records
(``ORDER#<orderId>`` items) are never touched. Idempotent: a second
run changes nothing and says so. Each write is conditional on the stock it read, so a reservation that
commits in between is not overwritten silently: the sku is read again and set again (at most
``ATTEMPTS`` times). A write that meets one of DynamoDB's transient errors (a reservation's transaction holding
the item, throttling, a server error: ``tools.deployed.table``) is retried with back-off; each sku is written on
its own, so one that cannot be written does not keep the others from being set. ``--dry-run`` reads and reports,
and writes nothing. A sku item gets the worker's empty map of unanswered reservations (``held``) if it has none.

Exit 0 when every sku holds its stock (or would, in a dry run); 2 on bad input (INVENTORY, outputs, or
credentials and region refused before anything is written); 4 when the operation failed part-way: the report
lists every sku written and marks each one NOT SET, with why (a rerun sets what is still off).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from inventory.stock import LAYOUT
from orderflow_runtime.ledger import set_counter

from tools.cli import OPERATION_FAILED
from tools.deployed.outputs import DeployedError, read_outputs
from tools.deployed.table import TransientExhausted, read_stock, retrying
from tools.emulator.inputs import InputError, load_inventory

ATTEMPTS = 5


@dataclass(frozen=True)
class Change:
    sku: str
    before: int | None
    """The stock read in the table; None when the sku has no item yet."""
    after: int

    def line(self) -> str:
        before = "new" if self.before is None else str(self.before)
        return f"  {self.sku}: {before} -> {self.after}"


def plan(ddb: Any, table: str, inventory: dict[str, int]) -> tuple[list[Change], list[str]]:
    """(changes to make, skus already at their stock)."""
    changes, unchanged = [], []
    for sku, stock in inventory.items():
        before = read_stock(ddb, table, sku)
        if before == stock:
            unchanged.append(sku)
        else:
            changes.append(Change(sku, before, stock))
    return changes, unchanged


def apply(ddb: Any, table: str, change: Change) -> Change | str:
    """Set one sku's stock, conditional on what was read; re-read and retry on a race, retry transient errors.
    The change as written, or why it was not (a line)."""
    try:
        for _ in range(ATTEMPTS):
            if _write(ddb, table, change):
                return change
            change = Change(change.sku, read_stock(ddb, table, change.sku), change.after)
            if change.before == change.after:
                return change
        return f"the stock kept changing ({ATTEMPTS} conditional writes lost to reservations)"
    except TransientExhausted as error:
        return str(error)
    except ClientError as error:
        return f"{error.response['Error']['Code']}: {error.response['Error'].get('Message', '')}"
    except BotoCoreError as error:
        return f"{type(error).__name__}: {error}"


def _write(ddb: Any, table: str, change: Change) -> bool:
    """One conditional write (``orderflow_runtime.ledger.set_counter`` with the inventory's ``LAYOUT``, retried on
    transient errors); False when the stock read no longer holds."""
    return retrying(lambda: set_counter(ddb, table, LAYOUT, change.sku, change.after, change.before))


def report(table: str, changes: list[Change], unchanged: list[str], failed: dict[str, str], dry_run: bool) -> None:
    """What was (or would be) written, each sku on its line; a sku not written is marked NOT SET with why."""
    verb = "would set" if dry_run else "set"
    not_set = f"; {len(failed)} NOT set" if failed else ""
    print(f"table {table}: {verb} {len(changes) - len(failed)} sku(s), {len(unchanged)} already at their stock"
          f"{not_set}{' (dry run: nothing written)' if dry_run else ''}")
    for change in changes:
        print(change.line() + (f"  NOT SET: {failed[change.sku]}" if change.sku in failed else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", required=True, help="the deployed stack (pulumi stack output --stack ...)")
    parser.add_argument("--inventory", required=True, help="a JSON object sku -> stock (integer >= 0)")
    parser.add_argument("--outputs", default=None, help="a file with `pulumi stack output --json` (else the CLI)")
    parser.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
    args = parser.parse_args(argv)
    try:
        inventory = load_inventory(args.inventory)
        outputs = read_outputs(args.stack, args.outputs)
        table, ddb = outputs.get("tableName"), outputs.client("dynamodb")
        changes, unchanged = plan(ddb, table, inventory)
    except (InputError, DeployedError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except TransientExhausted as error:
        print(f"error: stack {args.stack}: reading the stock failed: {error}; nothing was written, run it again",
              file=sys.stderr)
        return OPERATION_FAILED
    except (BotoCoreError, ClientError) as error:
        print(f"error: stack {args.stack}: AWS: {error}; check the credentials and region of the stack",
              file=sys.stderr)
        return 2
    failed: dict[str, str] = {}
    for change in [] if args.dry_run else changes:
        result = apply(ddb, table, change)
        if isinstance(result, str):
            failed[change.sku] = result
    report(table, changes, unchanged, failed, args.dry_run)
    if failed:
        names = ", ".join(json.dumps(sku, ensure_ascii=False) for sku in list(failed)[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        print(f"error: stack {args.stack}: {len(failed)} of {len(changes)} sku(s) NOT set ({names}{more}): "
              f"{next(iter(failed.values()))}; the others are set as listed; run the same command again to set "
              "the rest", file=sys.stderr)
        return OPERATION_FAILED
    return 0

if __name__ == "__main__":
    sys.exit(main())
