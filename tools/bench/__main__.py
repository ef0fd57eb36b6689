"""`make bench`: our design against the tutorial's, measured side by side in one run; writes BENCH_OUT.

- handler throughput on batches of 10 with the same simulated AWS latency for every handler;
- 1,000 orders end to end through the emulator, clean (speed) and with faults (invariants);
- cold import of the handler module against a bare ``import boto3``, each in fresh interpreters;
- cost per million orders for our prod stack and for the tutorial's setup, on one cost model;
- synth time of the program with 1 and with 20 copies of the service.
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

from tools.bench import baselines, cost, throughput
from tools.emulator.deploy import deploy
from tools.emulator.faults import Faults
from tools.emulator.poller import worker_clients
from tools.emulator.run import RunResult, run_orders
from tools.gen_orders import generate
from tools.synth import ROOT, synthesize

FAULTS = "crash=0.2,duplicate=0.3,throttle=0.1,poison=7,stall=2"
FAULT_RATE = 8.0
"""Arrivals per second in the faulted run: what the emulated dev stack (two environments in one Python
process) sustains with the extra deliveries faults cause. A burst beyond it makes messages wait in the
queue longer than HeartbeatSeconds, which fails orders (safely: the invariants still hold)."""
TARGETS = {"handler_speedup": (">=", 5.0), "cold_import_ratio": ("<=", 1.5),
           "cost_vs_seed": ("<=", 1.0), "invariant_failures": ("<=", 0)}


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


def handler_speed(export: dict[str, Any], latency: float) -> dict[str, throughput.Throughput]:
    with mock_aws():
        spec = deploy(export).function
        calls: dict[str, list[str]] = {"ours": [], "tutorial_style": [], "tutorial_exact": []}
        modules = {name: throughput.environment(spec, latency, calls[name]) for name in calls}
        handlers = {"ours": modules["ours"].lambda_handler,
                    "tutorial_style": baselines.tutorial_style(modules["tutorial_style"]),
                    "tutorial_exact": baselines.tutorial_exact(modules["tutorial_exact"])}
        return throughput.measure(handlers, spec, calls, size=10, count=10, rounds=5)


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
        rate: float | None = None) -> tuple[RunResult, CallCounter]:
    orders, inventory = generate(count, seed=11)
    counter = CallCounter()
    with log.open("w") as stream:
        result = run_orders(export, orders, inventory, faults=faults, check_least_privilege=False,
                            worker_log=stream, prepare=lambda _: {"on_environment": counter.attach}, rate=rate)
    return result, counter


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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="build/bench.json")
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--faults", default=FAULTS)
    parser.add_argument("--fault-rate", type=float, default=FAULT_RATE,
                        help="orders started per second in the faulted run")
    args = parser.parse_args(argv)
    console = Console()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    dev, prod = synthesize("dev"), synthesize("prod")
    tutorial_export = json.loads((ROOT / "samples" / "tutorial-stack.json").read_text())

    console.print(f"handlers: batches of 10, {args.latency_ms:g} ms per AWS call ...")
    speed = handler_speed(prod, args.latency_ms / 1000)
    console.print("cold import ...")
    import_ours, import_boto3 = cold_import(prod)
    console.print("synth 1 and 20 copies ...")
    synth = {"1": synth_seconds(1), "20": synth_seconds(20)}
    console.print(f"{args.orders} orders through the emulator (dev stack), no faults ...")
    clean, calls = e2e(dev, args.orders, None, out.parent / "bench-worker.log")
    console.print(f"{args.orders} orders through the emulator at {args.fault_rate:g}/s, FAULTS={args.faults} ...")
    faulted, _ = e2e(dev, args.orders, Faults.parse(args.faults), out.parent / "bench-faults-worker.log",
                     args.fault_rate)

    durations = [r.duration for r in clean.runs if r.duration is not None]
    ours_facts, seed_facts = cost.StackFacts.of(prod), cost.StackFacts.of(tutorial_export)
    usage = our_usage(ours_facts, clean, calls, speed["ours"].seconds_per_batch,
                      logged_bytes(out.parent / "bench-worker.log"))
    seed = seed_usage(seed_facts, speed["tutorial_exact"].seconds_per_batch)
    ours_cost, seed_cost = cost.cost_per_million(usage, ours_facts), cost.cost_per_million(seed, seed_facts)
    reserved, allowed = faulted.reserved_share
    failures = [i.name for i in faulted.invariants + clean.invariants if not i.holds]
    result: dict[str, Any] = {
        "handler_speedup": round(speed["ours"].records_per_second / speed["tutorial_style"].records_per_second, 2),
        "handler_records_per_second": {k: round(v.records_per_second, 1) for k, v in speed.items()},
        "handler_seconds_per_batch": {k: round(v.seconds_per_batch, 4) for k, v in speed.items()},
        "handler_calls_per_record": {k: round(v.calls_per_record, 2) for k, v in speed.items()},
        "handler_batch_size": 10,
        "simulated_latency_ms": args.latency_ms,
        "e2e_orders": len(clean.runs),
        "e2e_orders_per_second": round(len(clean.runs) / clean.seconds, 2),
        "e2e_p50_seconds": round(percentile(durations, 0.5), 3),
        "e2e_p95_seconds": round(percentile(durations, 0.95), 3),
        "e2e_results": dict(Counter(r.result for r in clean.runs)),
        "cold_import_seconds": round(import_ours, 4),
        "boto3_import_seconds": round(import_boto3, 4),
        "cold_import_ratio": round(import_ours / import_boto3, 3),
        "cost_per_million_orders_usd": ours_cost["total"],
        "seed_cost_per_million_orders_usd": seed_cost["total"],
        "cost_breakdown_per_million_usd": {"ours": ours_cost, "seed": seed_cost},
        "cost_usage_per_order": {"ours": cost.usage_as_json(usage), "seed": cost.usage_as_json(seed)},
        "cost_paths": {"ours": cost.paths(ours_facts.definition), "seed": cost.paths(seed_facts.definition)},
        "prices_usd": cost.PRICES,
        "synth_seconds": {k: round(v, 2) for k, v in synth.items()},
        "synth_growth_20_vs_1": round(synth["20"] / synth["1"], 2),
        "faults": {"requested": args.faults, "injected": faulted.injected, "orders": len(faulted.runs),
                   "arrivals_per_second": args.fault_rate,
                   "results": dict(Counter(r.result for r in faulted.runs)),
                   "reserved_of_allowed": round(reserved / allowed, 4) if allowed else None,
                   "invariants": [i.as_json() for i in faulted.invariants], "seconds": round(faulted.seconds, 1)},
        "invariant_failures": len(failures),
    }
    result["cost_vs_seed"] = round(ours_cost["total"] / seed_cost["total"], 3)
    result["targets"] = {key: {"target": f"{op} {bound}", "value": result[key],
                               "met": result[key] >= bound if op == ">=" else result[key] <= bound}
                         for key, (op, bound) in TARGETS.items()}
    out.write_text(json.dumps(result, indent=2) + "\n")
    show(console, result)
    console.print(f"written: {out}")
    return 0


def show(console: Console, r: dict[str, Any]) -> None:
    table = Table(title="orderflow benchmark (ours vs the tutorial's design, one run)")
    for column in ("measure", "ours", "tutorial / baseline", "ratio", "target"):
        table.add_column(column)
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
                  f"{r['synth_growth_20_vs_1']}x", "")
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
