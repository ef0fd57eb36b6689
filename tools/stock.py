"""`orderflow stock`: set the stock levels of a deployed stack's table from an INVENTORY file.

Each sku of INVENTORY gets exactly that stock (units available now) in its ``SKU#<sku>`` item; skus not in
INVENTORY and the reservation records (``ORDER#<orderId>`` items) are never touched. Idempotent: a second
run changes nothing and says so. Each write is conditional on the stock it read, so a reservation that
commits in between is not overwritten silently: the sku is read again and set again (at most
``ATTEMPTS`` times). ``--dry-run`` reads and reports, and writes nothing.

Exit 0 when every sku holds its stock (or would, in a dry run); 2 on bad input (INVENTORY, outputs,
credentials); 1 when a sku could not be set within its attempts.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tools.deployed.outputs import SKU_PREFIX, DeployedError, read_outputs
from tools.deployed.table import read_stock
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


def apply(ddb: Any, table: str, change: Change) -> Change | None:
    """Set one sku's stock, conditional on what was read; re-read and retry on a race. None if it failed."""
    for _ in range(ATTEMPTS):
        condition = "attribute_not_exists(stock)" if change.before is None else "stock = :before"
        values = {":after": {"N": str(change.after)}}
        if change.before is not None:
            values[":before"] = {"N": str(change.before)}
        try:
            ddb.update_item(TableName=table, Key={"pk": {"S": SKU_PREFIX + change.sku}},
                            UpdateExpression="SET stock = :after", ConditionExpression=condition,
                            ExpressionAttributeValues=values)
            return change
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        change = Change(change.sku, read_stock(ddb, table, change.sku), change.after)
        if change.before == change.after:
            return change
    return None


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
        failed = [] if args.dry_run else [c.sku for c in changes if apply(ddb, table, c) is None]
    except (InputError, DeployedError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"error: stack {args.stack}: AWS: {error}; check the credentials and region of the stack",
              file=sys.stderr)
        return 2
    verb = "would set" if args.dry_run else "set"
    print(f"table {table}: {verb} {len(changes)} sku(s), {len(unchanged)} already at their stock"
          f"{' (dry run: nothing written)' if args.dry_run else ''}")
    for change in changes:
        print(change.line() + ("  (failed: the stock kept changing)" if change.sku in failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
