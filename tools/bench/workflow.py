"""`make bench`'s order-workflow section: the same orders through the one-service program (the root dev stack) and
through the order workflow (examples/order-workflow: inventory then payment), in one run, side by side.

Per program: state transitions per order (counted at the emulated Step Functions: every state entered, what Standard
workflows bill), the workers' AWS calls per order (by API), Lambda invocations per order, p50/p95 seconds per order
on the emulator, and the cost per million orders on ``cost``'s prices. The workflow's figures are given as ratios to
the one-service run's (never a timed assertion: both run on the same machine, one after the other).

Cost model, per order: the measured transitions; SQS: every message the state machines sent (one per Task entered
that sends, counted from the definition's states each execution entered: callback and compensation tasks alike)
plus the poller's receive and delete per invocation; Lambda requests: invocations; GB-seconds: the handler's
measured seconds per batch (``handler_speed``) per invocation; DynamoDB: the workers' measured writes (a transaction
item bills two) and reads; X-Ray and logs as the main cost section counts them.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

from tools.bench import cost
from tools.emulator.poller import worker_clients
from tools.emulator.run import RunResult, run_program
from tools.gen_orders import generate, with_payments

PROGRAM = Path(__file__).resolve().parents[2] / "examples" / "order-workflow"
SEED = 11


class Calls:
    """The workers' AWS calls by API, and the items of their transactions (billed per item)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def attach(self, module: ModuleType) -> None:
        for service, client in worker_clients(module):
            client.meta.events.register(f"before-parameter-build.{service}", self._count)

    def _count(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls[model.name] += 1  # Counter updates under the GIL: one bytecode per key
        self.calls["TransactWriteItems.items"] += len(params.get("TransactItems", []))


def _run(export: dict[str, Any], orders: list[Any], counters: dict[str, dict[str, int]],
         folder: Path | None) -> tuple[RunResult, Calls]:
    calls = Calls()
    result = run_program(export, orders, counters, project_folder=folder, check_least_privilege=False,
                         worker_log=io.StringIO(), prepare=lambda _: {"on_environment": calls.attach})
    return result, calls


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def usage(export: dict[str, Any], result: RunResult, calls: Calls, seconds_per_batch: float) -> cost.Usage:
    """Billed units per order of one run (the module doc's model)."""
    facts = cost.StackFacts.of(export)
    orders = len(result.runs)
    invocations = result.poller_stats["invocations"] / orders
    sends = result.sends / orders
    c = calls.calls
    return cost.Usage(
        state_transitions=result.transitions / orders,
        sqs_requests=sends + cost.SQS_PER_INVOCATION * invocations,
        lambda_requests=invocations,
        lambda_gb_seconds=cost.lambda_gb_seconds(facts, seconds_per_batch, invocations),
        dynamodb_write_units=(2 * c["TransactWriteItems.items"] + c["PutItem"] + c["UpdateItem"]) / orders,
        dynamodb_read_units=c["GetItem"] / orders,
        xray_traces=cost.XRAY_SAMPLED * ((1 if facts.state_machine_tracing else 0)
                                         + (invocations if facts.function_tracing else 0)),
        log_bytes=cost.PLATFORM_LOG_BYTES * invocations,
    )


def row(export: dict[str, Any], result: RunResult, calls: Calls, seconds_per_batch: float) -> dict[str, Any]:
    orders = len(result.runs)
    durations = [r.duration for r in result.runs if r.duration is not None]
    use = usage(export, result, calls, seconds_per_batch)
    by_api = {api: round(n / orders, 3) for api, n in sorted(calls.calls.items()) if "." not in api}
    return {
        "orders": orders, "results": dict(Counter(r.result for r in result.runs)),
        "state_transitions_per_order": round(result.transitions / orders, 3),
        "worker_calls_per_order": round(sum(by_api.values()), 3), "worker_calls_per_order_by_api": by_api,
        "invocations_per_order": round(result.poller_stats["invocations"] / orders, 3),
        "p50_seconds": round(percentile(durations, 0.5), 3), "p95_seconds": round(percentile(durations, 0.95), 3),
        "mean_seconds": round(statistics.mean(durations), 3) if durations else None,
        "cost_per_million_orders_usd": cost.cost_per_million(use, cost.StackFacts.of(export)),
        "usage_per_order": cost.usage_as_json(use),
        "invariant_failures": [i.name for i in result.invariants if not i.holds],
    }


def measure(one_service: dict[str, Any], workflow: dict[str, Any], count: int, seconds_per_batch: float) -> \
        dict[str, Any]:
    """The section's keys: both rows and the workflow's ratios to the one-service run."""
    orders, inventory = generate(count, seed=SEED)
    paid, accounts = with_payments(orders, seed=SEED)
    single, single_calls = _run(one_service, orders, {"INVENTORY": inventory}, None)
    flow, flow_calls = _run(workflow, paid, {"INVENTORY": inventory, "ACCOUNTS": accounts}, PROGRAM)
    rows = {"one_service": row(one_service, single, single_calls, seconds_per_batch),
            "order_workflow": row(workflow, flow, flow_calls, seconds_per_batch)}

    def ratio(key: str) -> float | None:
        a, b = rows["order_workflow"][key], rows["one_service"][key]
        a, b = (a["total"], b["total"]) if isinstance(a, dict) else (a, b)
        return round(a / b, 3) if b else None

    return {**rows, "workflow_vs_one_service": {key: ratio(key) for key in (
        "state_transitions_per_order", "worker_calls_per_order", "invocations_per_order", "p50_seconds",
        "p95_seconds", "cost_per_million_orders_usd")}}
