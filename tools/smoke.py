"""`orderflow smoke`: run a few orders against a deployed stack and check the invariants of `make local`.

With the caller's AWS credentials, against the stack's real state machine, table and queues:

1. seed two skus of the run's own (``SMOKE-<run>-A`` with stock 5, ``SMOKE-<run>-B`` with stock 0);
2. start three executions: one reservable (2 of A), one out of stock (1 of B), one invalid (quantity 0);
3. wait until every execution has ended, at most ``--timeout`` seconds;
4. check what `make local` checks (``tools.emulator.invariants``) on the table and the DLQ, restricted to
   the run's own skus, orders and dead letters, and that each order got its expected result;
5. write the summary JSON of `make local` to ``--summary``; remove the seeded skus and the run's order
   records (stopping any execution still running), whatever happened.

The DLQ is read without hiding its messages (visibility timeout 0), and only the run's own are judged. Seeding
and clean-up retry DynamoDB's transient errors with back-off (``tools.deployed.table``); an item that still
cannot be written or removed is named, with the items that were.
Exit 0 when every invariant holds, 1 when one does not, 2 on bad input (outputs, credentials), 4 when seeding or
clean-up failed part-way (the error line names each item written, and each one left in the table).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tools.cli import OPERATION_FAILED
from tools.deployed.outputs import ORDER_PREFIX, SKU_PREFIX, DeployedError, Outputs, read_outputs
from tools.deployed.table import TransientExhausted, read_stock, retrying
from tools.emulator.deploy import Deployment
from tools.emulator.invariants import Ended, Invariant, check
from tools.emulator.run import OrderRun, RunResult

POLL_SECONDS = 2.0


class OperationFailed(Exception):
    """A write of the smoke run failed after its retries; ``str()`` names what was written and what was not."""


@dataclass(frozen=True)
class Plan:
    """The run's skus, their seeded stock, and its orders with the result each must get."""

    run: str
    stock: dict[str, int]
    orders: list[tuple[dict[str, Any], str]]

    @staticmethod
    def new(run: str | None = None) -> Plan:
        run = run or uuid.uuid4().hex[:8]
        a, b = f"SMOKE-{run}-A", f"SMOKE-{run}-B"
        return Plan(run, {a: 5, b: 0}, [
            ({"orderId": f"smoke-{run}-reserve", "items": [{"sku": a, "quantity": 2}]}, "RESERVED"),
            ({"orderId": f"smoke-{run}-out-of-stock", "items": [{"sku": b, "quantity": 1}]}, "REJECTED OutOfStock"),
            ({"orderId": f"smoke-{run}-invalid", "items": [{"sku": a, "quantity": 0}]}, "REJECTED InvalidOrder"),
        ])

    @property
    def order_ids(self) -> list[str]:
        return [order["orderId"] for order, _ in self.orders]


class Stack:
    """The deployed stack's clients and names."""

    def __init__(self, outputs: Outputs) -> None:
        self.table = outputs.get("tableName")
        self.state_machine = outputs.get("stateMachineArn")
        self.dlq_url = outputs.get("dlqUrl")
        self.ddb, self.sfn, self.sqs = (outputs.client(s) for s in ("dynamodb", "stepfunctions", "sqs"))
        self.seeded: list[str] = []
        self.left_behind: dict[str, str] = {}
        """Keys the clean-up could not remove, with why."""

    def seed(self, plan: Plan) -> None:
        """Write the plan's skus, each new (its own name), with the worker's empty map of unanswered reservations.
        Raises OperationFailed naming the sku that could not be written and those that were."""
        for sku, stock in plan.stock.items():
            item = {"pk": {"S": SKU_PREFIX + sku}, "stock": {"N": str(stock)}, "held": {"M": {}}}
            try:
                self._put_new(item)
            except (TransientExhausted, ClientError, BotoCoreError) as error:
                written = ", ".join(self.seeded) or "none"
                raise OperationFailed(f"seeding sku {sku} failed: {_reason(error)} (seeded before it: {written})") \
                    from error
            self.seeded.append(sku)

    def _delete(self, key: str) -> None:
        retrying(lambda: self.ddb.delete_item(TableName=self.table, Key={"pk": {"S": key}}))

    def _put_new(self, item: dict[str, Any]) -> None:
        """A conditional put, retried; a refused condition after a retry is the earlier attempt's own write."""
        try:
            retrying(lambda: self.ddb.put_item(TableName=self.table, Item=item,
                                               ConditionExpression="attribute_not_exists(pk)"))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            found = retrying(lambda: self.ddb.get_item(TableName=self.table, Key={"pk": item["pk"]},
                                                       ConsistentRead=True)).get("Item")
            if not found or found.get("stock") != item["stock"]:
                raise

    def start(self, plan: Plan, runs: list[OrderRun]) -> None:
        """Start the plan's orders, appending each run as it starts (so a failed start leaves the others listed
        for the clean-up to stop)."""
        for index, (order, _) in enumerate(plan.orders):
            run = OrderRun(index, order, order["orderId"], order["orderId"])
            run.arn = self.sfn.start_execution(stateMachineArn=self.state_machine, name=run.execution,
                                               input=json.dumps(order))["executionArn"]
            runs.append(run)

    def wait(self, runs: list[OrderRun], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            for run in runs:
                if run.status in ("NOT_STARTED", "RUNNING"):
                    settle(self.sfn.describe_execution(executionArn=run.arn), run)
            if all(r.status not in ("NOT_STARTED", "RUNNING") for r in runs) or time.monotonic() >= deadline:
                return
            time.sleep(POLL_SECONDS)

    def final_stock(self, plan: Plan) -> dict[str, int]:
        stock = {sku: read_stock(self.ddb, self.table, sku) for sku in plan.stock}
        return {sku: n for sku, n in stock.items() if n is not None}

    def records(self, plan: Plan) -> dict[str, dict[str, str]]:
        found = {}
        for order_id in plan.order_ids:
            item = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": ORDER_PREFIX + order_id}},
                                     ConsistentRead=True).get("Item")
            if item:
                found[order_id] = {k: v["S"] for k, v in item.items() if "S" in v}
        return found

    def dead_letters(self, plan: Plan) -> list[str]:
        """The DLQ's messages that name one of the run's orders (read with visibility timeout 0)."""
        seen: dict[str, str] = {}
        for _ in range(20):
            got = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                           WaitTimeSeconds=0).get("Messages", [])
            fresh = {m["MessageId"]: m["Body"] for m in got if m["MessageId"] not in seen}
            if not fresh:
                break
            seen.update(fresh)
        return [body for body in seen.values() if f"smoke-{plan.run}-" in body]

    def clean(self, plan: Plan, runs: list[OrderRun]) -> None:
        """Stop what still runs, then remove every seeded sku and order record, each on its own (retried); what
        cannot be removed is kept in ``left_behind`` and the rest is removed all the same."""
        try:
            for run in runs:
                if run.arn and run.status in ("NOT_STARTED", "RUNNING"):
                    self.sfn.stop_execution(executionArn=run.arn, error="SmokeRunEnded")
        finally:
            keys = [SKU_PREFIX + sku for sku in plan.stock] + [ORDER_PREFIX + o for o in plan.order_ids]
            for key in keys:
                try:
                    self._delete(key)
                except (TransientExhausted, ClientError, BotoCoreError) as error:
                    self.left_behind[key] = _reason(error)


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        return f"{error.response['Error']['Code']}: {error.response['Error'].get('Message', '')}"
    return str(error) if isinstance(error, TransientExhausted) else f"{type(error).__name__}: {error}"


def left_behind_line(stack: Stack) -> str:
    """One line naming the items the clean-up could not remove, and what it did remove."""
    left = ", ".join(f"{key} ({why})" for key, why in stack.left_behind.items())
    return f"clean-up left {len(stack.left_behind)} item(s) in table {stack.table}: {left}; the others were removed"


def settle(description: dict[str, Any], run: OrderRun) -> None:
    """An execution's status, result and reason from DescribeExecution, as `make local` records them."""
    run.status = description["status"]
    if "stopDate" in description:
        run.duration = round((description["stopDate"] - description["startDate"]).total_seconds(), 3)
    output = json.loads(description["output"]) if description.get("output") else None
    run.output = output
    if run.status == "SUCCEEDED" and isinstance(output, dict) and output.get("status") in ("RESERVED", "REJECTED"):
        run.result, run.reason = output["status"], output.get("reason")
    else:
        run.result, run.reason = "FAILED", description.get("cause") or description.get("error") or run.status


def expected_results(plan: Plan, runs: list[OrderRun]) -> Invariant:
    """Each order's ``result`` (and, when rejected, its ``reason``) is the one the plan expects."""
    got = [r.result if r.result != "REJECTED" else f"REJECTED {r.reason}" for r in runs]
    wrong = [f"{order['orderId']}: {have} (expected {want})"
             for have, (order, want) in zip(got, plan.orders, strict=False) if have != want]
    wrong += [f"{order['orderId']}: not started" for order, _ in plan.orders[len(runs):]]
    return Invariant("each smoke order gets its expected result", not wrong,
                     "reserved, out of stock, invalid" if not wrong else "; ".join(wrong))


def smoke(stack: Stack, plan: Plan, timeout: float) -> RunResult:
    """Run the plan against the stack; the result carries the runs, the final stock and the invariants."""
    runs: list[OrderRun] = []
    began = time.monotonic()
    try:  # the clean-up removes what was seeded and stops what started, whatever fails
        stack.seed(plan)
        stack.start(plan, runs)
        stack.wait(runs, timeout)
        stock, records, dead = stack.final_stock(plan), stack.records(plan), stack.dead_letters(plan)
    finally:
        stack.clean(plan, runs)
    ended = [Ended(r.arn, r.status, r.output, r.order) for r in runs if r.arn]
    found = [*check(ended, plan.stock, stock, records, dead, []), expected_results(plan, runs)]
    return RunResult(Deployment(), runs, stock, len(dead), invariants=found, seconds=time.monotonic() - began)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default="dev", help="the deployed stack (default dev)")
    parser.add_argument("--outputs", default=None, help="a file with `pulumi stack output --json` (else the CLI)")
    parser.add_argument("--summary", default="build/summary.json", help="the summary JSON to write")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the executions (300)")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        print(f"error: --timeout {args.timeout:g}: must be a number of seconds > 0", file=sys.stderr)
        return 2
    from tools.local import summary

    try:
        stack = Stack(read_outputs(args.stack, args.outputs))
        result = smoke(stack, Plan.new(), args.timeout)
    except DeployedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OperationFailed as error:
        left = f"; {left_behind_line(stack)}" if stack.left_behind else "; what was seeded was removed again"
        print(f"error: stack {args.stack}: {error}{left}", file=sys.stderr)
        return OPERATION_FAILED
    except (BotoCoreError, ClientError) as error:
        print(f"error: stack {args.stack}: AWS: {error}; check the credentials (and that the stack is deployed)",
              file=sys.stderr)
        return 2
    out = Path(args.summary)
    out.parent.mkdir(parents=True, exist_ok=True)
    inputs = {"stack": args.stack, "outputs": args.outputs or "pulumi stack output --json", "summary": str(out)}
    out.write_text(json.dumps(summary(result, [], None, inputs, []), indent=2) + "\n")
    for run in result.runs:
        print(f"{run.order_id:32} {run.status:10} {run.result:9} {run.reason or ''}")
    for invariant in result.invariants:
        print(f"{'holds' if invariant.holds else 'BROKEN':6} {invariant.name}: {invariant.detail}")
    print(f"summary: {out}")
    if stack.left_behind:
        print(f"error: stack {args.stack}: {left_behind_line(stack)}", file=sys.stderr)
        return OPERATION_FAILED
    return 0 if all(i.holds for i in result.invariants) else 1


if __name__ == "__main__":
    sys.exit(main())
