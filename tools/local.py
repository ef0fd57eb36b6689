"""`make local`: deploy the stack into the in-process emulator and run real orders end to end.

The root program by default; ``--program <project folder>`` (``make local PROGRAM=examples/order-workflow``) runs
another program built on the library, every worker of it, each known service seeded from its own file (INVENTORY,
ACCOUNTS; ``tools.emulator.services``). A program's ORDERS, INVENTORY and ACCOUNTS default to its ``samples/``.

Exit codes: 0 every check held; 1 a least-privilege check or an invariant failed; 2 bad input (ORDERS,
INVENTORY, ACCOUNTS, FAULTS, PROGRAM, STACK or its config), reported on one line on standard error before anything
starts; 3 an internal error (the emulator or moto failed: one line, the traceback in
``build/local-internal-error.log``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orderflow.settings import SettingsError
from rich.console import Console
from rich.progress import Progress

from tools.deployed.outputs import StackRefError, stack_name
from tools.emulator.deploy import export_region
from tools.emulator.faults import STALL_FIRST, Faults, FaultsError
from tools.emulator.inputs import InputError, load_counters, load_orders
from tools.emulator.report import detail, pictures, show
from tools.emulator.run import RunResult, run_program
from tools.emulator.services import seed_variables
from tools.synth import error_lines, program_folder_problem, project_of, stack_config, synthesize

PROGRESS_SECONDS = 10.0
"""Without a terminal (a CI log), a progress line at most this often."""
INJECTED = {"crash": ("crashBeforeReserve", "crashBeforeAnswer"), "duplicate": ("duplicateInBatch", "duplicateOnQueue"),
            "throttle": ("throttle",), "poison": ("poison",), "stall": ("stall",), "stop": ("stopWhileWaiting",),
            "timeout": ("timeoutWhileWaiting",)}
"""Each FAULTS key and the injected counts that carry it."""


class BadInput(ValueError):
    """A bad STACK or stack config; ``str(error)`` is the line to print."""


def summary(result: RunResult, picture_paths: list[str], faults: Faults | None,
            inputs: dict[str, str], warnings: list[str]) -> dict[str, Any]:
    """The summary JSON: per order its ``result`` (RESERVED / COMPLETED, REJECTED with its reason, FAILED), the
    final ``inventory`` (stock) and, for a program with the payment service, the final ``credit``."""
    reserved, allowed = result.reserved_share
    credit = {"credit": result.credit} if result.credit is not None else {}
    extra = {"workers": result.workers, "eventBridge": result.events} if len(result.workers) > 1 or result.events \
        else {}
    return {
        "inputs": inputs,
        "orders": [{"orderId": r.order_id, "execution": r.execution, "executionStatus": r.status,
                    "result": r.result, "reason": r.reason, "detail": detail(r), "durationSeconds": r.duration}
                   for r in result.runs],
        "inventory": result.inventory,
        **credit,
        "deadLetters": result.dead_letters,
        "pictures": picture_paths,
        "leastPrivilege": [{"role": c.role, "action": c.action, "resource": c.resource, "expected": c.expected,
                            "allowed": c.allowed, "method": c.method, "on": c.target}
                           for c in result.least_privilege],
        "notPlayed": result.deployment.not_played,
        "faults": {"requested": faults.requested() if faults else {}, "injected": result.injected,
                   "warnings": warnings},
        "invariants": [i.as_json() for i in result.invariants],
        "reservedOfAllowed": {"reserved": reserved, "allowed": allowed,
                              "share": round(reserved / allowed, 4) if allowed else None},
        "contention": getattr(result, "contention", {}),
        "runSeconds": round(result.seconds, 2),
        "poller": result.poller_stats,
        **extra,
    }


def fault_warnings(faults: Faults | None, result: RunResult) -> list[str]:
    """One line per requested fault injected fewer times than asked (a probability: never), with why if known."""
    if not faults:
        return []
    found = []
    reserved = sum(1 for r in result.runs if r.result in result.kept)
    for key, counts in INJECTED.items():
        requested = getattr(faults, key)
        injected = sum(result.injected.get(c, 0) for c in counts)
        if not requested or (injected and (key not in ("poison", "stall") or injected >= requested)):
            continue
        why = (f"a stall starts at the {STALL_FIRST}th reserving check, one environment at a time, and this run "
               f"reserved {reserved} order(s); use more orders" if key == "stall"
               else f"no draw hit at {key}={requested} over {len(result.runs)} order(s); raise it or use more orders"
               if key in ("crash", "duplicate", "throttle") else "")
        found.append(f"FAULTS {key}: requested {requested:g}, injected {injected}" + (f" ({why})" if why else ""))
    return found


class Program:
    """The program a run synthesizes: the root one, or a project folder (``--program``)."""

    def __init__(self, folder: Path | None) -> None:
        if folder is not None and (problem := program_folder_problem(folder)):
            raise BadInput(f"PROGRAM {folder}: {problem}")
        self.folder = folder

    @property
    def run_folder(self) -> Path | None:
        """Where its functions' code paths are relative to (None: the repository's root)."""
        return None if self.folder is None else project_of(self.folder)[1]

    def sample(self, name: str) -> Path:
        """``samples/<name>`` of the program (the root's own samples/ for the root program)."""
        return (self.folder or Path()) / "samples" / name

    def stack_file(self, stack: str) -> Path | None:
        return None if self.folder is None else self.folder / _file(stack)

    def export(self, stack: str) -> dict[str, Any]:
        """The stack's synth; a missing stack file or bad config is a BadInput with the synth's own words."""
        try:
            return synthesize(stack, program=self.folder, stack_file=self.stack_file(stack))
        except SettingsError as error:  # the same lines as `make synth`, without their "error: " (added on print)
            raise BadInput("\n".join(line.removeprefix("error: ")
                                      for line in error_lines(error, self._shown(stack)))) from None

    def check_stack(self, stack: str) -> None:
        """A bad STACK, or a stack file that is missing, unreadable or holds bad values (a secret that cannot be
        decrypted, a key the CLI refuses), in the synth's own words, before anything is printed."""
        try:
            stack_config(stack, self.stack_file(stack))
        except SettingsError as error:
            raise BadInput("\n".join(line.removeprefix("error: ")
                                      for line in error_lines(error, self._shown(stack)))) from None

    def _shown(self, stack: str) -> str:
        return str(self.stack_file(stack) or _file(stack))


def _file(stack: str) -> str:
    """``Pulumi.<name>.yaml`` of a stack name or reference (``org/dev`` -> ``Pulumi.dev.yaml``)."""
    try:
        return f"Pulumi.{stack_name(stack)}.yaml"
    except StackRefError:
        return f"Pulumi.{stack}.yaml"


def _progress_lines(console: Console) -> Callable[[int, int, str], None]:
    """``executions ended 150/150, running 0; waiting for ...`` every PROGRESS_SECONDS, for a log (no bar)."""
    last = [time.monotonic()]

    def report(done: int, total: int, waiting: str = "") -> None:
        if time.monotonic() - last[0] >= PROGRESS_SECONDS:
            last[0] = time.monotonic()
            console.print(f"executions ended {done}/{total}, running {total - done}" + (f"; {waiting}" if waiting
                                                                                       else ""), markup=False)
    return report


def _run(console: Console, export: dict[str, Any], orders: list[Any], counters: dict[str, dict[str, int]],
         faults: Faults | None, log_path: Path, folder: Path | None = None) -> RunResult:
    with log_path.open("w") as log:
        if not console.is_terminal:
            return run_program(export, orders, counters, project_folder=folder, faults=faults, worker_log=log,
                               on_progress=_progress_lines(console))
        with Progress(console=console, transient=True) as progress:
            bar = progress.add_task("executions ended", total=len(orders))

            def update(done: int, total: int, waiting: str = "") -> None:
                progress.update(bar, completed=done, total=total, description=waiting or "executions ended")
            return run_program(export, orders, counters, project_folder=folder, faults=faults, worker_log=log,
                               on_progress=update)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="exit codes: 0 every check held; 1 a least-privilege check or an "
                                            "invariant failed; 2 bad input; 3 internal error")
    parser.add_argument("--stack", default="dev", help="stack name: Pulumi.<stack>.yaml (default dev)")
    parser.add_argument("--program", type=Path, default=None,
                        help="a program's project folder, e.g. examples/order-workflow (default: the root program)")
    parser.add_argument("--orders", default=None, help="JSON array, one execution input each (default: the "
                                                       "program's samples/orders.json)")
    parser.add_argument("--inventory", default=None, help="JSON object sku -> stock (default: the program's "
                                                          "samples/inventory.json)")
    parser.add_argument("--accounts", default=None, help="JSON object customerId -> credit limit in cents (default: "
                                                         "the program's samples/accounts.json, when it has one)")
    parser.add_argument("--summary", default="build/summary.json", help="summary JSON; pictures and worker.log "
                                                                       "go beside it")
    parser.add_argument("--faults", default="", help="faults to inject, e.g. crash=0.2,duplicate=0.3,poison=7,stall=1")
    return parser


def _inputs(args: argparse.Namespace, program: Program) -> tuple[list[Any], dict[str, str], dict[str, Any]]:
    """(orders, counters by variable, the seed files by option) of the command line and the program's samples:
    INVENTORY always for the root program, else when given or in samples/; ACCOUNTS when given or in samples/."""
    orders_path = args.orders or str(program.sample("orders.json"))
    orders = load_orders(orders_path)
    files: dict[str, str] = {"orders": orders_path}
    for option, name in (("inventory", "inventory.json"), ("accounts", "accounts.json")):
        given = getattr(args, option)
        default = program.sample(name)
        if given or (program.folder is None and option == "inventory") or default.is_file():
            files[option] = given or str(default)
    counters = {variable: load_counters(files[option], variable) for option, variable in
                (("inventory", "INVENTORY"), ("accounts", "ACCOUNTS")) if option in files}
    return orders, files, counters


def _check_seed_files(files: dict[str, str], counters: dict[str, Any], export: dict[str, Any]) -> None:
    """Raise BadInput for a seed file (INVENTORY, ACCOUNTS) no worker of the program reads: it would be read and
    then ignored, and the run would not be the one asked for."""
    read = seed_variables(export)
    for variable in counters:
        if variable not in read:
            has = ", ".join(sorted(read)) or "none"
            raise BadInput(f"{variable} {files[variable.lower()]}: no worker of this program reads it (the seed files "
                           f"it reads: {has}); leave {variable} out, or give the PROGRAM whose service reads it "
                           "(e.g. examples/order-workflow)")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(soft_wrap=True)  # a message is one line in a log, whatever the width
    out = Path(args.summary)
    try:
        program = Program(args.program)
        program.check_stack(args.stack)
        orders, files, counters = _inputs(args, program)
        faults = Faults.parse(args.faults) if args.faults else None
        nouns = {"INVENTORY": "sku", "ACCOUNTS": "customer"}
        lines = [f"PROGRAM   {args.program}"] if args.program else []
        lines += [f"STACK     {args.stack} ({program.stack_file(args.stack) or _file(args.stack)})",
                  f"ORDERS    {files['orders']} ({_count(len(orders), 'order')})"]
        lines += [f"{variable:9} {files[variable.lower()]} ({_count(len(c), nouns[variable])})"
                  for variable, c in counters.items()]
        lines += [f"SUMMARY   {out} (pictures/ and worker.log beside it)", f"FAULTS    {args.faults or 'none'}"]
        for line in lines:
            console.print(line, markup=False, highlight=False)
        export = program.export(args.stack)
        _check_seed_files(files, counters, export)
    except (InputError, FaultsError, BadInput) as error:
        print("\n".join(f"error: {line}" for line in str(error).splitlines()), file=sys.stderr)
        return 2
    console.print(f"stack {args.stack}: {sum(1 for r in export['deployment']['resources'] if r.get('custom'))} "
                  f"resources synthesized (region {export_region(export)}); deploying into the in-process emulator")
    out.parent.mkdir(parents=True, exist_ok=True)
    log_path = out.parent / "worker.log"
    try:
        result = _run(console, export, orders, counters, faults, log_path, program.run_folder)
    except InputError as error:  # what the emulated DynamoDB refuses of a seed file while seeding
        print(f"error: {error}", file=sys.stderr)
        return 2
    picture_paths = pictures(result, out.parent / "pictures")
    show(console, result)
    warnings = fault_warnings(faults, result)
    inputs = {"stack": args.stack, **({"program": str(args.program)} if args.program else {}), **files,
              "summary": str(out)}
    out.write_text(json.dumps(summary(result, picture_paths, faults, inputs, warnings), indent=2) + "\n")
    for warning in warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(f"pictures: {', '.join(picture_paths)}")
    console.print(f"worker logs (Powertools JSON): {log_path}")
    finals = "".join(f"; final {name}: {json.dumps(counters, ensure_ascii=False)}" for name, counters in
                     (("stock", result.counters.get("inventory")), ("credit", result.credit)) if counters is not None)
    console.print(f"summary: {out} (dead letters: {result.dead_letters}{finals})", markup=False)
    if any(not c.ok for c in result.least_privilege):
        console.print("[red]least-privilege check failed[/]")
        return 1
    if any(not i.holds for i in result.invariants):
        console.print("[red]an invariant does not hold[/]")
        return 1
    return 0


if __name__ == "__main__":
    from tools.cli import guarded

    sys.exit(guarded("local", main))
