"""What a run must leave behind, whatever was injected: checked on the emulator's final state.

- every execution ends;
- final stock = initial stock minus what the reserved orders took (no leak, no double reservation);
- the table's reservation records are exactly the reserved executions' (none left for a failed one);
- every poison message is in the dead-letter queue;
- every other message there belongs to an execution that ended on its failure path;
- no OutOfStock order whose demand the final stock covers: judged in every run, faults included. Stock rises
  again only when a reservation is given back, which happens only to one whose answer was never accepted (its
  execution stopped, timed out or failed); the worker does not answer OutOfStock while such unanswered
  reservations could make up the difference (``handlers/inventory/holds.py``), so an order the final stock covers
  was refused stock it could have had.
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

# The worker's own validation; imported by name because mypy checks the handler as its own package root.
_orders = importlib.import_module("handlers.inventory.orders")


@dataclass(frozen=True)
class Invariant:
    name: str
    holds: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "holds": self.holds, "detail": self.detail}


@dataclass(frozen=True)
class Ended:
    """One execution as the run saw it at the end."""

    arn: str
    status: str
    output: Any
    order: Any = None
    """The execution's input (the order), when known."""


def _reserved_items(execution: Ended) -> list[dict[str, Any]] | None:
    out = execution.output
    if execution.status == "SUCCEEDED" and isinstance(out, dict) and out.get("status") == "RESERVED":
        return list(out.get("items", []))
    return None


def _some(items: list[str], limit: int = 5) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def check(executions: list[Ended], initial: dict[str, int], final: dict[str, int],
          records: dict[str, dict[str, str]], dead_letters: list[str], poison: list[str]) -> list[Invariant]:
    """``records``: the table's order records by order id (``status``, ``execution``); ``dead_letters``: bodies."""
    by_arn = {e.arn: e for e in executions}
    running = [arn.rsplit(":", 1)[1] for arn, e in by_arn.items() if e.status == "RUNNING"]
    out = [Invariant("every execution ends", not running,
                     f"{len(by_arn)} ended" if not running else f"still running: {_some(running)}")]

    expected = dict(initial)
    for e in by_arn.values():
        for item in _reserved_items(e) or []:
            expected[item["sku"]] = expected.get(item["sku"], 0) - int(item["quantity"])
    wrong = [f"{sku}: {final.get(sku)} (expected {n})" for sku, n in sorted(expected.items()) if final.get(sku) != n]
    out.append(Invariant("final stock = initial - reserved", not wrong,
                         "every sku matches" if not wrong else _some(wrong)))

    reserved = {e.arn for e in by_arn.values() if _reserved_items(e) is not None}
    held = {r["execution"] for r in records.values() if r.get("status") == "RESERVED"}
    leaked = sorted(a.rsplit(":", 1)[1] for a in held - reserved)
    lost = sorted(a.rsplit(":", 1)[1] for a in reserved - held)
    problems = [f"held for an execution that did not keep it: {_some(leaked)}"] if leaked else []
    problems += [f"reserved with no record: {_some(lost)}"] if lost else []
    out.append(Invariant("reservation records = reserved executions", not problems,
                         f"{len(held)} held, {len(reserved)} reserved" if not problems else "; ".join(problems)))

    missing = Counter(poison) - Counter(dead_letters)
    out.append(Invariant("every poison message is in the DLQ", not missing,
                         f"{len(poison)} of {len(poison)}" if not missing
                         else f"{sum(missing.values())} of {len(poison)} missing"))

    strays = []
    for body in (Counter(dead_letters) - Counter(poison)).elements():
        try:
            execution = json.loads(body).get("execution")
        except (ValueError, AttributeError):
            execution = None
        ended = by_arn.get(execution) if isinstance(execution, str) else None
        if ended is None or ended.status != "FAILED":
            strays.append(body[:80])
    others = len(dead_letters) - len(poison) + sum(missing.values())
    out.append(Invariant("other DLQ messages belong to failed executions", not strays,
                         f"{others} other, all of failed executions" if not strays else _some(strays, 3)))
    out.append(_out_of_stock_served(list(by_arn.values()), final))
    return out


def _out_of_stock_served(executions: list[Ended], final: dict[str, int]) -> Invariant:
    """No OutOfStock order whose every item the final stock covers (see the module docstring)."""
    name = "no OutOfStock order whose demand the final stock covers"
    refused = [e for e in executions if isinstance(e.output, dict) and e.output.get("status") == "REJECTED"
               and e.output.get("reason") == "OutOfStock" and e.order is not None]
    wrong = []
    for e in refused:
        try:
            items = _orders.parse_order(e.order).items
        except _orders.Rejection:
            continue
        if all(final.get(item.sku, 0) >= item.quantity for item in items):
            wrong.append(e.arn.rsplit(":", 1)[1])
    return Invariant(name, not wrong, f"{len(refused)} refused, none covered" if not wrong
                     else f"the final stock covers: {_some(wrong)}")


def reserved_share(runs: list[tuple[Any, str, str]]) -> tuple[int, int]:
    """(reserved, reserved + started valid orders that ended FAILED) from (order, result, status) rows.

    Every technical failure of a valid order counts as an order the stock would have allowed, so the share
    reserved / allowed is a lower bound. An execution stopped by its caller (ABORTED) is a cancelled order, not a
    lost one."""
    reserved = sum(1 for _, result, _ in runs if result == "RESERVED")
    lost = 0
    for order, result, status in runs:
        if result != "FAILED" or status in ("NOT_STARTED", "ABORTED"):
            continue
        try:
            _orders.parse_order(order)
        except _orders.Rejection:
            continue
        lost += 1
    return reserved, reserved + lost
