"""`make local`: deploy the stack into the in-process emulator and run real orders end to end."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from tools.emulator.faults import Faults, FaultsError
from tools.emulator.report import pictures, show
from tools.emulator.run import InputError, RunResult, check_inputs, run_orders
from tools.synth import synthesize


def load_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except OSError as error:
        raise InputError(f"{what}: cannot read {path}: {error.strerror}") from error
    except ValueError as error:
        raise InputError(f"{what}: {path} is not JSON: {error}") from error


def summary(result: RunResult, picture_paths: list[str], faults: Faults | None) -> dict[str, Any]:
    reserved, allowed = result.reserved_share
    return {
        "orders": [{"orderId": r.order_id, "execution": r.execution, "executionStatus": r.status,
                    "result": r.result, "reason": r.reason, "durationSeconds": r.duration} for r in result.runs],
        "inventory": result.inventory,
        "deadLetters": result.dead_letters,
        "pictures": picture_paths,
        "leastPrivilege": [{"role": c.role, "action": c.action, "resource": c.resource, "expected": c.expected,
                            "allowed": c.allowed, "method": c.method} for c in result.least_privilege],
        "notPlayed": result.deployment.not_played,
        "faults": {"requested": faults.requested() if faults else {}, "injected": result.injected},
        "invariants": [i.as_json() for i in result.invariants],
        "reservedOfAllowed": {"reserved": reserved, "allowed": allowed,
                              "share": round(reserved / allowed, 4) if allowed else None},
        "runSeconds": round(result.seconds, 2),
        "poller": result.poller_stats,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--orders", default="samples/orders.json")
    parser.add_argument("--inventory", default="samples/inventory.json")
    parser.add_argument("--summary", default="build/summary.json")
    parser.add_argument("--faults", default="")
    args = parser.parse_args(argv)
    console = Console()
    try:
        orders = load_json(args.orders, "ORDERS")
        inventory = load_json(args.inventory, "INVENTORY")
        check_inputs(orders, inventory)
        faults = Faults.parse(args.faults) if args.faults else None
    except (InputError, FaultsError) as error:
        console.print(f"[red]error:[/] {error}")
        return 2
    export = synthesize(args.stack)
    console.print(f"stack {args.stack}: {sum(1 for r in export['deployment']['resources'] if r.get('custom'))} "
                  f"resources synthesized; deploying into the in-process emulator")
    out = Path(args.summary)
    out.parent.mkdir(parents=True, exist_ok=True)
    log_path = out.parent / "worker.log"
    with Progress(console=console, transient=True) as progress, log_path.open("w") as log:
        bar = progress.add_task("executions ended", total=len(orders))
        result = run_orders(export, orders, inventory, faults=faults, worker_log=log,
                            on_progress=lambda done, total: progress.update(bar, completed=done, total=total))
    picture_paths = pictures(result, out.parent / "pictures")
    show(console, result)
    out.write_text(json.dumps(summary(result, picture_paths, faults), indent=2) + "\n")
    console.print(f"pictures: {', '.join(picture_paths)}")
    console.print(f"worker logs (Powertools JSON): {log_path}")
    console.print(f"summary: {out}  (dead letters: {result.dead_letters}; final stock: {result.inventory})")
    if any(not c.ok for c in result.least_privilege):
        console.print("[red]least-privilege check failed[/]")
        return 1
    if any(not i.holds for i in result.invariants):
        console.print("[red]an invariant does not hold[/]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
