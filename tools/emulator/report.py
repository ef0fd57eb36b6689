"""What a run shows: the tables, one event history per outcome, and pictures of the paths taken.

Every table fits an 80-column CI log: long names wrap (``overflow="fold"``) rather than being cut to
``…``, and names common to a column are said once in its caption.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tools.emulator.least_privilege import Check, common_word_prefix
from tools.emulator.run import OrderRun, RunResult

COLOURS = {"RESERVED": "#2e7d32", "COMPLETED": "#2e7d32", "SUCCEEDED": "#2e7d32", "REJECTED": "#ef6c00",
           "FAILED": "#c62828"}


def _table(title: str, *columns: str, caption: str | None = None) -> Table:
    """A table for a log: light borders, no padding wasted; every cell may wrap, none is cut."""
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  padding=(0, 1), collapse_padding=True, title_justify="left", caption_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _keep_whole(table: Table, column: int, cells: list[str]) -> None:
    """Give a column of names room for its longest name, so that a narrow console wraps the other columns."""
    table.columns[column].min_width = max(map(len, cells), default=0)


def _narrow(table: Table, column: int, width: int) -> None:
    """Wrap a column of phrases at ``width`` characters."""
    table.columns[column].max_width = width


def detail(run: OrderRun) -> str | None:
    """Why an order was rejected, as the worker said it (the ``cause`` of the execution's output, e.g.
    ``items[0].quantity must be a JSON integer >= 1``); None for a reserved or failed order."""
    output = run.output if isinstance(run.output, dict) else {}
    cause = output.get("cause") if run.result == "REJECTED" else None
    return cause if isinstance(cause, str) and cause else None


def shown_id(order_id: str | None) -> str:
    """An order id as the table shows it: as is when printable, else as a JSON string (``"o-1\\n"``), so two
    ids that differ by a newline or a line separator read differently and never shift the columns."""
    if order_id is None:
        return "(no orderId)"
    return escape(order_id if order_id.isprintable() else json.dumps(order_id))


def orders_table(result: RunResult, limit: int = 40) -> Table:
    caption = f"{len(result.runs) - limit} more in the summary file" if len(result.runs) > limit else None
    table = _table(f"Orders ({len(result.runs)})", "order", "execution", "result", "reason: detail", "secs",
                   caption=caption)
    _narrow(table, 0, 16)
    for run in result.runs[:limit]:
        colour = COLOURS.get(run.result, "white")
        order = shown_id(run.order_id)
        why = ": ".join(filter(None, (run.reason, detail(run))))
        table.add_row(order, run.status, f"[{colour}]{run.result}[/]", why, f"{run.duration:.1f}" if run.duration is not None else "")
    return table


def history_table(outcome: str, events: list[dict[str, Any]]) -> Table:
    """The event history as the console lists it: ID, type, step, elapsed time."""
    table = _table(f"Event history of one {outcome} execution", "ID", "Type", "Step", "Elapsed (ms)")
    start = events[0]["timestamp"] if events else None
    for event in events:
        step = next((v["name"] for k, v in event.items() if k.endswith("EventDetails") and "name" in v), "")
        elapsed = int((event["timestamp"] - start).total_seconds() * 1000) if start else 0
        table.add_row(str(event["id"]), event["type"], step, str(elapsed))
    return table


def pictures(result: RunResult, folder: Path) -> list[str]:
    """One picture per outcome: the state machine with the path that outcome took coloured."""
    import graphviz

    folder.mkdir(parents=True, exist_ok=True)
    definition = result.deployment.state_machine_definition
    written: list[str] = []
    for outcome, events in sorted(result.histories.items()):
        visited = [v["name"] for e in events for k, v in e.items() if k == "stateEnteredEventDetails"]
        path_edges = set(zip(["Start", *visited], [*visited, "End"], strict=False))
        colour = COLOURS.get(outcome, "black")
        graph = graphviz.Digraph(name=outcome, graph_attr={"rankdir": "TB", "label": f"{outcome} path"},
                                 node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": "white"})
        graph.node("Start", shape="circle", fillcolor=colour)
        graph.node("End", shape="doublecircle", fillcolor=colour if visited else "white")
        for name, state in definition["States"].items():
            graph.node(name, f"{name}\n({state['Type']})", fillcolor=colour if name in visited else "white",
                       fontcolor="white" if name in visited else "black")
        edges = [("Start", definition["StartAt"])]
        labels = branches(definition)
        edges += list(labels)
        for a, b in edges:
            taken = (a, b) in path_edges
            graph.edge(a, b, label=labels.get((a, b), ""), color=colour if taken else "grey",
                       fontcolor=colour if taken else "grey40", penwidth="3" if taken else "1")
        target = folder / f"{outcome.lower()}"
        if shutil.which("dot"):
            written.append(graph.render(str(target), format="svg", cleanup=True))
        else:
            Path(f"{target}.dot").write_text(graph.source)
            written.append(f"{target}.dot")
    return written


def branches(definition: dict[str, Any]) -> dict[tuple[str, str], str]:
    """Each edge of the state machine with the errors that take it (``OutOfStock / UnknownSku /
    InvalidOrder``, ``States.Timeout / States.HeartbeatTimeout``, ``any other error``) or ``success``."""
    labels: dict[tuple[str, str], list[str]] = {}
    for name, state in definition["States"].items():
        if state.get("Next"):
            labels.setdefault((name, state["Next"]), []).append("success")
        for catch in state.get("Catch", []):
            errors = ["any other error" if e == "States.ALL" else e for e in catch["ErrorEquals"]]
            labels.setdefault((name, catch["Next"]), []).append(" / ".join(errors))
        if state.get("End") or state["Type"] in ("Succeed", "Fail"):
            labels.setdefault((name, "End"), []).append("success" if state["Type"] == "Task" else "")
    return {edge: "\n".join(filter(None, texts)) for edge, texts in labels.items()}


def contention_lines(result: RunResult) -> list[str]:
    """``contention: transactionConflicts 3, conflictRetries 2`` and ``throttled: {"dynamodb": 4}``: the
    emulator's counts, named as in the summary's ``contention``."""
    contention: dict[str, Any] = getattr(result, "contention", {}) or {}
    if not contention:
        return ["contention: not counted"]
    return [f"contention: transactionConflicts {contention.get('transactionConflicts', 0)}, conflictRetries "
            f"{contention.get('conflictRetries', 0)}", f"throttled: {json.dumps(contention.get('throttled', {}))}"]


def invariants_table(result: RunResult) -> Table:
    reserved, allowed = result.reserved_share
    share = f"{reserved}/{allowed} = {reserved / allowed:.1%}" if allowed else "no order the stock allowed"
    injected = ", ".join(f"{k} {v}" for k, v in result.injected.items()) or "none"
    ledger_lines = [f"reserved of what stock allowed: {share}"] if result.services else []
    caption = "\n".join((f"injected: {injected}", *ledger_lines,
                         f"invocations timed out: {result.poller_stats.get('timeouts', 0)}",
                         *contention_lines(result)))
    table = _table("Invariants", "invariant", "holds", "detail", caption=caption)
    for inv in result.invariants:
        table.add_row(inv.name, "[green]yes[/]" if inv.holds else "[red]NO[/]", inv.detail)
    return table


def least_privilege_table(checks: list[Check]) -> Table:
    """One row per check; the roles' common name prefix and ``-role`` suffix are said once, in the caption."""
    roles = sorted({c.role for c in checks})
    prefix = common_word_prefix(roles) if len(roles) > 1 else ""
    suffix = "-role" if len(roles) > 1 and all(r.endswith("-role") and len(r) > len(prefix) + 5 for r in roles) else ""
    caption = f"role: {prefix}<role>{suffix}\n" if prefix or suffix else ""
    table = _table("Least privilege: own resource allowed, neighbour denied", "role", "action", "on", "want",
                   "got", "how", caption=caption + "how: a real call with the role's credentials,\n"
                                                   "or moto's IAM policy engine (engine) on the exact ARN")
    shown = {r: r[len(prefix):len(r) - len(suffix)] for r in roles}
    _keep_whole(table, 0, list(shown.values()))
    _keep_whole(table, 1, [c.action for c in checks])
    _narrow(table, 2, 10)
    for c in checks:
        mark = "[green]" if c.ok else "[red]"
        table.add_row(shown[c.role], c.action, c.target or c.resource.rsplit(":", 1)[-1],
                      "allow" if c.expected else "deny", f"{mark}{'allow' if c.allowed else 'deny'}[/]",
                      "engine" if c.method == "policy engine" else c.method)
    return table


def show(console: Console, result: RunResult) -> None:
    console.print(f"played in moto: {len(result.deployment.played)} resources; in process: "
                  f"{', '.join(result.deployment.in_process)}")
    if result.deployment.not_played:
        console.print(f"[yellow]not played: {', '.join(result.deployment.not_played)}[/]")
    tables = [least_privilege_table(result.least_privilege)] if result.least_privilege else []
    tables += [orders_table(result)]
    tables += [history_table(outcome, events) for outcome, events in sorted(result.histories.items())]
    for table in [*tables, invariants_table(result)]:
        console.print(table, soft_wrap=False)  # a table fits the console's width, 80 columns in a log
