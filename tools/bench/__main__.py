"""`make bench`: our design against the tutorial's, measured side by side in one run; writes BENCH_OUT.

- handler throughput on batches of 10 with the same simulated AWS latency for every handler;
- 1,000 orders end to end through the emulator, clean (speed) and with faults (invariants);
- cold import of the handler module against a bare ``import boto3``, each in fresh interpreters;
- cost per million orders for our prod stack and for the tutorial's setup, on one cost model;
- synth time of the program with 1 and with 20 copies of the service;
- a flash sale (``flash_sale``): N orders on two hot SKUs, demand well above stock, through the emulator with
  transaction conflicts on, once with the worker's old conflict handling (``conflict_attempts=0``: a conflict
  is redelivered) and once with its default;
- ``calls_per_record``: the worker's AWS calls per record on the normal path (handler measure);
- ``capacity_orders_per_second`` / ``capacity_bound_by``: the prod stack's sustained rate on AWS (``capacity``);
- ``audit_ratio``: the whole ``orderflow audit`` process on the dev stack against the pack at its baseline commit
  (``audit``);
- ``order_workflow`` (``workflow``): the same orders through the one-service program and through the order workflow
  (examples/order-workflow): state transitions and cost per million orders, worker calls and invocations per order,
  p50/p95 seconds per order, and the workflow's ratios to the one-service run.

``--only SECTION`` (repeatable) runs some sections alone, for development; the output then holds their keys only
(the handlers' throughput still runs when capacity, e2e or workflow needs its batch duration, without its keys).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"})

from moto import mock_aws
from rich.console import Console
from rich.table import Table

from tools.bench import audit, baselines, capacity, cost, flash_sale, throughput, workflow
from tools.emulator.deploy import deploy
from tools.emulator.faults import Faults
from tools.emulator.poller import worker_clients
from tools.emulator.run import RunResult, run_orders
from tools.gen_orders import generate
from tools.synth import ROOT, synthesize

FAULTS = "crash=0.2,duplicate=0.3,throttle=0.1,poison=7,stall=2,stop=0.02,timeout=0.01"
"""The faulted run: every fault kind, stops and timeouts of executions whose check waits included."""
FAULT_RATE = 8.0
"""Arrivals per second in the faulted run: what the emulated dev stack (two environments in one Python
process) sustains with the extra deliveries faults cause. A burst beyond it makes messages wait in the
queue longer than HeartbeatSeconds, which fails orders (safely: the invariants still hold)."""
TARGETS = {"handler_speedup": (">=", 8.0), "cold_import_ratio": ("<=", 1.5),
           "cost_vs_seed": ("<=", 1.0), "invariant_failures": ("<=", 0), "calls_per_record": ("<=", 2.1),
           "synth_growth_20_vs_1": ("<=", 25.0), "flash_sale_failed": ("<=", 0), "audit_ratio": ("<=", 2.0)}
SECTIONS = ("handlers", "cold_import", "synth", "e2e", "faults", "flash_sale", "capacity", "audit", "workflow")
WORKFLOW_ORDERS = 100
FLASH_ORDERS = 500
FLASH_RATE = 25.0
"""Flash-sale arrivals per second: the burst of a sale, as fast as the emulated dev stack (two environments in one
process) can take orders without leaving them on the queue past HeartbeatSeconds."""
OLD_HANDLING = 0
"""The worker's conflict retries in the flash sale's "redelivery" run (``Stock.conflict_attempts``): none."""


class CallCounter:
    """Counts the worker's AWS calls by operation, and the items of its transactions (billed per item)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attach(self, module: ModuleType) -> None:
        for service, client in worker_clients(module):
            client.meta.events.register(f"before-parameter-build.{service}", self._count)

    def _count(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1
            self.calls["TransactWriteItems.items"] += len(params.get("TransactItems", []))


def handler_speed(export: dict[str, Any], latency: float
                  ) -> tuple[dict[str, throughput.Throughput], dict[str, float]]:
    """Each handler's throughput, and our handler's calls per record by API."""
    with mock_aws():
        spec = deploy(export).function
        calls: dict[str, list[str]] = {"ours": [], "tutorial_style": [], "tutorial_exact": []}
        modules = {name: throughput.environment(spec, latency, calls[name]) for name in calls}
        handlers = {"ours": modules["ours"].lambda_handler,
                    "tutorial_style": baselines.tutorial_style(modules["tutorial_style"]),
                    "tutorial_exact": baselines.tutorial_exact(modules["tutorial_exact"])}
        measured = throughput.measure(handlers, spec, calls, size=10, count=10, rounds=5)
    records = 5 * 10 * 10 + 10
    by_api = Counter(name.rsplit(".", 1)[1] for name in calls["ours"])
    return measured, {api: round(n / records, 3) for api, n in sorted(by_api.items())}


def import_seconds(code: str, cwd: Path, env: dict[str, str], repeats: int) -> float:
    """Median over fresh interpreters of the time one import statement takes."""
    script = f"import time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                                 check=True).stdout) for _ in range(repeats)]
    return statistics.median(runs)


def cold_import(export: dict[str, Any], repeats: int = 15) -> tuple[float, float]:
    """The worker as Lambda loads it (its environment, Lambda's variables) against a bare boto3."""
    fn = next(r["inputs"] for r in export["deployment"]["resources"] if r["type"] == "aws:lambda/function:Function")
    env = {**os.environ, **fn["environment"]["variables"], "AWS_LAMBDA_FUNCTION_NAME": fn["name"]}
    module = fn["handler"].rpartition(".")[0]
    import_seconds(f"import {module}", ROOT / "handlers", env, 1)  # compiles and caches bytecode, as deployed
    ours, bare = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine
        ours.append(import_seconds(f"import {module}", ROOT / "handlers", env, 1))
        bare.append(import_seconds("import boto3", ROOT / "handlers", env, 1))
    return statistics.median(ours), statistics.median(bare)


def synth_seconds(copies: int) -> float:
    os.environ["ORDERFLOW_SYNTH_COPIES"] = str(copies)
    started = time.perf_counter()
    synthesize("prod", program=ROOT / "tools" / "bench" / "program.py")
    return time.perf_counter() - started


def e2e(export: dict[str, Any], count: int, faults: Faults | None, log: Path,
        rate: float | None = None, orders: tuple[list[Any], dict[str, int]] | None = None,
        conflict_attempts: int | None = None) -> tuple[RunResult, CallCounter]:
    """``conflict_attempts``: each worker environment's conflict retries (None: the worker's own constant)."""
    orders_list, inventory = orders or generate(count, seed=11)
    counter = CallCounter()

    def prepare(d: Any) -> dict[str, Any]:
        return {"on_environment": on_environment}

    def on_environment(module: ModuleType) -> None:
        counter.attach(module)
        if conflict_attempts is not None:
            module.stock.conflict_attempts = conflict_attempts

    with log.open("w") as stream:
        result = run_orders(export, orders_list, inventory, faults=faults, check_least_privilege=False,
                            worker_log=stream, prepare=prepare, rate=rate)
    return result, counter


def flash(export: dict[str, Any], count: int, rate: float, log_dir: Path) -> dict[str, Any]:
    """The flash sale with the old and the default conflict handling, same orders, same stock."""
    sale = flash_sale.generate(count)
    out: dict[str, Any] = {"orders": count, "hot_skus": sorted(sale[1]), "stock": sale[1], "arrivals_per_second": rate}
    for name, attempts in (("redelivery", OLD_HANDLING), ("default", None)):
        result, _ = e2e(export, count, None, log_dir / f"bench-flash-{name}-worker.log", rate, sale, attempts)
        out[name] = flash_row(result)
    return out


def flash_row(result: RunResult) -> dict[str, Any]:
    results = Counter(r.result for r in result.runs)
    durations = [r.duration for r in result.runs if r.duration is not None]
    servable = [r.order["orderId"] for r in result.runs if r.result == "REJECTED" and r.reason == "OutOfStock"
                and all(result.inventory.get(i["sku"], 0) >= i["quantity"] for i in r.order["items"])]
    return {"reserved": results["RESERVED"], "rejected": results["REJECTED"], "failed": results["FAILED"],
            "dead_letters": result.dead_letters,
            "p50_seconds": round(percentile(durations, 0.5), 3) if durations else None,
            "p95_seconds": round(percentile(durations, 0.95), 3) if durations else None,
            "transactionConflicts": result.contention.get("transactionConflicts", 0),
            "conflictRetries": result.contention.get("conflictRetries", 0),
            "throttled": result.contention.get("throttled", {}),
            "rejected_yet_servable": len(servable), "final_stock": result.inventory,
            "invariant_failures": [i.name for i in result.invariants if not i.holds],
            "seconds": round(result.seconds, 1)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def logged_bytes(log: Path, levels: tuple[str, ...] = ("INFO", "WARNING", "ERROR", "CRITICAL")) -> int:
    """Bytes the worker would ship at the prod stack's log level (INFO)."""
    total = 0
    for line in log.read_text().splitlines():
        try:
            if json.loads(line).get("level") in levels:
                total += len(line) + 1
        except ValueError:
            continue
    return total


def our_usage(facts: cost.StackFacts, run: RunResult, calls: CallCounter, seconds_per_batch: float,
              log_bytes: int) -> cost.Usage:
    orders = len(run.runs)
    shares = Counter(r.result for r in run.runs)
    paths = cost.paths(facts.definition)
    transitions = sum(len(paths[outcome]) * n for outcome, n in shares.items()) / orders
    invocations = run.poller_stats["invocations"] / orders
    c = calls.calls
    writes = 2 * c["TransactWriteItems.items"] + c["PutItem"] + c["UpdateItem"]
    return cost.Usage(
        state_transitions=transitions,
        sqs_requests=(orders + shares["FAILED"]) / orders + cost.SQS_PER_INVOCATION * invocations,
        lambda_requests=invocations,
        lambda_gb_seconds=cost.lambda_gb_seconds(facts, seconds_per_batch, invocations),
        dynamodb_write_units=writes / orders,
        dynamodb_read_units=c["GetItem"] / orders,
        xray_traces=cost.XRAY_SAMPLED * ((1 if facts.state_machine_tracing else 0)
                                         + (invocations if facts.function_tracing else 0)),
        log_bytes=log_bytes / orders + cost.PLATFORM_LOG_BYTES * invocations,
    )


def seed_usage(facts: cost.StackFacts, seconds_per_batch: float) -> cost.Usage:
    """The tutorial answers every order with success: its success path, one SendTaskSuccess, full batches."""
    invocations = 1 / facts.batch_size
    return cost.Usage(
        state_transitions=len(cost.paths(facts.definition)["RESERVED"]),
        sqs_requests=1 + cost.SQS_PER_INVOCATION * invocations,
        lambda_requests=invocations,
        lambda_gb_seconds=cost.lambda_gb_seconds(facts, seconds_per_batch, invocations),
        dynamodb_write_units=0, dynamodb_read_units=0, xray_traces=0,
        log_bytes=cost.PLATFORM_LOG_BYTES * invocations,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="build/bench.json")
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--faults", default=FAULTS)
    parser.add_argument("--fault-rate", type=float, default=FAULT_RATE,
                        help="orders started per second in the faulted run")
    parser.add_argument("--flash-orders", type=int, default=FLASH_ORDERS, help="orders in the flash sale (>= 1)")
    parser.add_argument("--flash-rate", type=float, default=FLASH_RATE, help="flash-sale arrivals per second")
    parser.add_argument("--workflow-orders", type=int, default=WORKFLOW_ORDERS,
                        help="orders of the order-workflow section, through each program (>= 1)")
    parser.add_argument("--only", action="append", choices=SECTIONS,
                        help="run this section alone (repeatable); the output holds its keys only")
    args = parser.parse_args(argv)
    try:
        faults = Faults.parse(args.faults)
    except ValueError as error:
        print(f"error: --faults: {error}", file=sys.stderr)
        return 2
    if args.orders < 1 or args.flash_orders < 1 or args.workflow_orders < 1 or args.fault_rate <= 0 or \
            args.flash_rate <= 0:
        print("error: --orders, --flash-orders and --workflow-orders must be >= 1, --fault-rate and --flash-rate > 0",
              file=sys.stderr)
        return 2
    console = Console()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wanted = set(args.only or SECTIONS)
    result = measure(console, args, faults, wanted, out.parent)
    if "flash_sale" in result:  # FAILED orders of the sale under the default (in-invocation) conflict handling
        result["flash_sale_failed"] = result["flash_sale"]["default"]["failed"]
    result["targets"] = {key: {"target": f"{op} {bound}", "value": result[key],
                               "met": result[key] >= bound if op == ">=" else result[key] <= bound}
                         for key, (op, bound) in TARGETS.items() if key in result}
    out.write_text(json.dumps(result, indent=2) + "\n")
    if not args.only:
        show(console, result)
    console.print(f"written: {out}")
    return 0


def measure(console: Console, args: argparse.Namespace, faults: Faults, wanted: set[str],
            logs: Path) -> dict[str, Any]:
    """The wanted sections' keys (cost needs handlers and e2e; capacity needs handlers)."""
    dev, prod = synthesize("dev"), synthesize("prod")
    result: dict[str, Any] = {}
    speed: dict[str, throughput.Throughput] = {}
    if wanted & {"handlers", "capacity", "e2e", "workflow"}:
        console.print(f"handlers: batches of 10, {args.latency_ms:g} ms per AWS call ...")
        speed, by_api = handler_speed(prod, args.latency_ms / 1000)
        if "handlers" in wanted:  # else measured only for what needs it (the batch duration, calls by API)
            result.update(handler_keys(speed, args.latency_ms))
            result["calls_per_record"] = speed["ours"].calls_per_record
            result["calls_per_record_by_api"] = by_api
    if "capacity" in wanted:
        cap = capacity.model(prod, speed["ours"].seconds_per_batch, by_api)
        result.update(capacity_orders_per_second=cap.orders_per_second, capacity_bound_by=cap.bound_by,
                      capacity_bounds=cap.bounds, capacity_inputs=cap.inputs)
    if "cold_import" in wanted:
        console.print("cold import ...")
        import_ours, import_boto3 = cold_import(prod)
        result.update(cold_import_seconds=round(import_ours, 4), boto3_import_seconds=round(import_boto3, 4),
                      cold_import_ratio=round(import_ours / import_boto3, 3))
    if "audit" in wanted:
        console.print(f"audit of the dev stack, ours and the pack at {audit.BASELINE_COMMIT}, interleaved ...")
        path = logs / "bench-dev-export.json"
        path.write_text(json.dumps(dev))
        result.update(audit.measure(ROOT, path))
    if "synth" in wanted:
        console.print("synth 1 and 20 copies ...")
        synth = {"1": synth_seconds(1), "20": synth_seconds(20)}
        result.update(synth_seconds={k: round(v, 2) for k, v in synth.items()},
                      synth_growth_20_vs_1=round(synth["20"] / synth["1"], 2))
    failures: list[str] = []
    if "e2e" in wanted:
        console.print(f"{args.orders} orders through the emulator (dev stack), no faults ...")
        clean, calls = e2e(dev, args.orders, None, logs / "bench-worker.log")
        result.update(e2e_keys(clean))
        result.update(cost_keys(prod, clean, calls, speed, logs / "bench-worker.log"))
        failures += [i.name for i in clean.invariants if not i.holds]
    if "faults" in wanted:
        console.print(f"{args.orders} orders through the emulator at {args.fault_rate:g}/s, FAULTS={args.faults} ...")
        faulted, _ = e2e(dev, args.orders, faults, logs / "bench-faults-worker.log", args.fault_rate)
        reserved, allowed = faulted.reserved_share
        result["faults"] = {
            "requested": args.faults, "injected": faulted.injected, "orders": len(faulted.runs),
            "arrivals_per_second": args.fault_rate, "results": dict(Counter(r.result for r in faulted.runs)),
            "reserved_of_allowed": round(reserved / allowed, 4) if allowed else None,
            "invariants": [i.as_json() for i in faulted.invariants], "seconds": round(faulted.seconds, 1),
            "contention": faulted.contention}
        failures += [i.name for i in faulted.invariants if not i.holds]
    if "flash_sale" in wanted:
        console.print(f"flash sale: {args.flash_orders} orders on hot SKUs at {args.flash_rate:g}/s, "
                      "old and default conflict handling ...")
        result["flash_sale"] = flash(dev, args.flash_orders, args.flash_rate, logs)
        for name in ("redelivery", "default"):
            failures += result["flash_sale"][name]["invariant_failures"]
    if "workflow" in wanted:
        console.print(f"order workflow: {args.workflow_orders} orders through the one-service program and the "
                      "order workflow ...")
        flow = synthesize("dev", program=workflow.PROGRAM, stack_file=workflow.PROGRAM / "Pulumi.dev.yaml")
        result["order_workflow"] = workflow.measure(dev, flow, args.workflow_orders,
                                                    speed["ours"].seconds_per_batch)
        failures += result["order_workflow"]["one_service"]["invariant_failures"]
        failures += result["order_workflow"]["order_workflow"]["invariant_failures"]
    if wanted & {"e2e", "faults", "flash_sale", "workflow"}:
        result["invariant_failures"] = len(failures)
    return result


def handler_keys(speed: dict[str, throughput.Throughput], latency_ms: float) -> dict[str, Any]:
    return {
        "handler_speedup": round(speed["ours"].records_per_second / speed["tutorial_style"].records_per_second, 2),
        "handler_records_per_second": {k: round(v.records_per_second, 1) for k, v in speed.items()},
        "handler_seconds_per_batch": {k: round(v.seconds_per_batch, 4) for k, v in speed.items()},
        "handler_calls_per_record": {k: round(v.calls_per_record, 2) for k, v in speed.items()},
        "handler_batch_size": 10,
        "simulated_latency_ms": latency_ms,
    }


def e2e_keys(clean: RunResult) -> dict[str, Any]:
    durations = [r.duration for r in clean.runs if r.duration is not None]
    return {
        "e2e_orders": len(clean.runs),
        "e2e_orders_per_second": round(len(clean.runs) / clean.seconds, 2),
        "e2e_p50_seconds": round(percentile(durations, 0.5), 3),
        "e2e_p95_seconds": round(percentile(durations, 0.95), 3),
        "e2e_results": dict(Counter(r.result for r in clean.runs)),
        "e2e_contention": clean.contention,
    }


def cost_keys(prod: dict[str, Any], clean: RunResult, calls: CallCounter, speed: dict[str, throughput.Throughput],
              log: Path) -> dict[str, Any]:
    tutorial_export = json.loads((ROOT / "samples" / "tutorial-stack.json").read_text())
    ours_facts, seed_facts = cost.StackFacts.of(prod), cost.StackFacts.of(tutorial_export)
    usage = our_usage(ours_facts, clean, calls, speed["ours"].seconds_per_batch, logged_bytes(log))
    seed = seed_usage(seed_facts, speed["tutorial_exact"].seconds_per_batch)
    ours_cost, seed_cost = cost.cost_per_million(usage, ours_facts), cost.cost_per_million(seed, seed_facts)
    return {
        "cost_per_million_orders_usd": ours_cost["total"],
        "seed_cost_per_million_orders_usd": seed_cost["total"],
        "cost_breakdown_per_million_usd": {"ours": ours_cost, "seed": seed_cost},
        "cost_usage_per_order": {"ours": cost.usage_as_json(usage), "seed": cost.usage_as_json(seed)},
        "cost_paths": {"ours": cost.paths(ours_facts.definition), "seed": cost.paths(seed_facts.definition)},
        "prices_usd": cost.PRICES,
        "cost_vs_seed": round(ours_cost["total"] / seed_cost["total"], 3),
    }


def show(console: Console, r: dict[str, Any]) -> None:
    table = Table(title="orderflow benchmark (ours vs the tutorial's design, one run)")
    for column in ("measure", "ours", "tutorial / baseline", "ratio", "target"):
        table.add_column(column, overflow="fold")  # a CI log is 80 columns: wrap, never cut
    hrs = r["handler_records_per_second"]
    targets = r["targets"]

    def mark(key: str) -> str:
        t = targets[key]
        return f"{'[green]met' if t['met'] else '[red]missed'}[/] ({t['target']})"

    table.add_row(f"handler records/s (batch 10, {r['simulated_latency_ms']:g} ms/call)", f"{hrs['ours']}",
                  f"{hrs['tutorial_style']}", f"{r['handler_speedup']}x", mark("handler_speedup"))
    table.add_row("cold import (s)", f"{r['cold_import_seconds']}", f"boto3 {r['boto3_import_seconds']}",
                  f"{r['cold_import_ratio']}x", mark("cold_import_ratio"))
    table.add_row("cost per million orders (USD)", f"{r['cost_per_million_orders_usd']}",
                  f"{r['seed_cost_per_million_orders_usd']}", f"{r['cost_vs_seed']}x", mark("cost_vs_seed"))
    table.add_row(f"e2e {r['e2e_orders']} orders (emulator)", f"{r['e2e_orders_per_second']} orders/s",
                  f"p50 {r['e2e_p50_seconds']} s, p95 {r['e2e_p95_seconds']} s", "", "")
    f = r["faults"]
    table.add_row(f"{f['orders']} orders with faults", f"invariant failures {r['invariant_failures']}",
                  f"reserved of allowed {f['reserved_of_allowed']}", "", mark("invariant_failures"))
    table.add_row("synth time (s), 1 vs 20 copies", f"{r['synth_seconds']['1']}", f"{r['synth_seconds']['20']}",
                  f"{r['synth_growth_20_vs_1']}x", mark("synth_growth_20_vs_1"))
    table.add_row("AWS calls per record (normal path)", f"{r['calls_per_record']}",
                  f"{r['handler_calls_per_record']['tutorial_style']}", "", mark("calls_per_record"))
    table.add_row("prod capacity on AWS (orders/s)", f"{r['capacity_orders_per_second']}",
                  f"bound by {r['capacity_bound_by']}", "", "")
    table.add_row("audit of the dev stack (s, whole process)", f"{r['audit_seconds']}",
                  f"{r['audit_baseline_seconds']} ({r['audit_baseline']})", f"{r['audit_ratio']}x", mark("audit_ratio"))
    sale = r["flash_sale"]
    for name in ("default", "redelivery"):
        row = sale[name]
        table.add_row(f"flash sale {sale['orders']} orders, {name} handling",
                      f"reserved {row['reserved']}, rejected {row['rejected']}, FAILED {row['failed']}, "
                      f"DLQ {row['dead_letters']}",
                      f"p50 {row['p50_seconds']} s, p95 {row['p95_seconds']} s",
                      f"conflicts {row['transactionConflicts']}, retries {row['conflictRetries']}",
                      mark("flash_sale_failed") if name == "default" else "")
    flow = r["order_workflow"]
    one, two, ratio = flow["one_service"], flow["order_workflow"], flow["workflow_vs_one_service"]
    for label, key in (("state transitions per order", "state_transitions_per_order"),
                       ("worker AWS calls per order", "worker_calls_per_order"),
                       ("p50 / p95 per order (s, emulator)", "p50_seconds")):
        ours = f"{two[key]}" if key != "p50_seconds" else f"{two['p50_seconds']} / {two['p95_seconds']}"
        base = f"{one[key]}" if key != "p50_seconds" else f"{one['p50_seconds']} / {one['p95_seconds']}"
        table.add_row(f"order workflow: {label}", ours, f"one service {base}", f"{ratio[key]}x", "")
    table.add_row("order workflow: cost per million orders (USD)",
                  f"{two['cost_per_million_orders_usd']['total']}",
                  f"one service {one['cost_per_million_orders_usd']['total']}",
                  f"{ratio['cost_per_million_orders_usd']}x", "")
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
