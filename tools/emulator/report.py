"""What a run shows: the orders table, one event history per outcome, and pictures of the paths taken."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tools.emulator.run import RunResult

COLOURS = {"RESERVED": "#2e7d32", "REJECTED": "#ef6c00", "FAILED": "#c62828"}


def orders_table(result: RunResult, limit: int = 40) -> Table:
    table = Table(title=f"Orders ({len(result.runs)})")
    for column in ("order", "execution status", "result", "reason", "duration (s)"):
        table.add_column(column)
    for run in result.runs[:limit]:
        colour = COLOURS.get(run.result, "white")
        table.add_row(str(run.order_id), run.status, f"[{colour}]{run.result}[/]", str(run.reason or ""),
                      f"{run.duration:.2f}" if run.duration is not None else "")
    if len(result.runs) > limit:
        table.caption = f"... {len(result.runs) - limit} more in the summary file"
    return table


def history_table(outcome: str, events: list[dict[str, Any]]) -> Table:
    """The event history as the console lists it: ID, type, step, elapsed time."""
    table = Table(title=f"Event history of one {outcome} execution")
    for column in ("ID", "Type", "Step", "Elapsed time (ms)"):
        table.add_column(column)
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
        for name, state in definition["States"].items():
            targets = [state.get("Next")] + [c["Next"] for c in state.get("Catch", [])]
            edges += [(name, t) for t in dict.fromkeys(targets) if t]
            if state.get("End") or state["Type"] in ("Succeed", "Fail"):
                edges.append((name, "End"))
        for a, b in edges:
            taken = (a, b) in path_edges
            graph.edge(a, b, color=colour if taken else "grey", penwidth="3" if taken else "1")
        target = folder / f"{outcome.lower()}"
        if shutil.which("dot"):
            written.append(graph.render(str(target), format="svg", cleanup=True))
        else:
            Path(f"{target}.dot").write_text(graph.source)
            written.append(f"{target}.dot")
    return written


def invariants_table(result: RunResult) -> Table:
    reserved, allowed = result.reserved_share
    share = f"{reserved}/{allowed} = {reserved / allowed:.1%}" if allowed else "no order the stock allowed"
    injected = ", ".join(f"{k} {v}" for k, v in result.injected.items()) or "none"
    table = Table(title="Invariants", caption=f"injected: {injected}; reserved of what stock allowed: {share}; "
                                              f"invocations timed out: {result.poller_stats.get('timeouts', 0)}")
    for column in ("invariant", "holds", "detail"):
        table.add_column(column)
    for inv in result.invariants:
        table.add_row(inv.name, "[green]yes[/]" if inv.holds else "[red]NO[/]", inv.detail)
    return table


def show(console: Console, result: RunResult) -> None:
    console.print(f"played in moto: {len(result.deployment.played)} resources; in process: "
                  f"{', '.join(result.deployment.in_process)}")
    if result.deployment.not_played:
        console.print(f"[yellow]not played: {', '.join(result.deployment.not_played)}[/]")
    if result.least_privilege:
        table = Table(title="Least privilege (own resource allowed, neighbour denied)")
        for column in ("role", "action", "resource", "expected", "got", "how"):
            table.add_column(column)
        for c in result.least_privilege:
            mark = "[green]" if c.ok else "[red]"
            table.add_row(c.role, c.action, c.resource.rsplit(":", 1)[-1], "allow" if c.expected else "deny",
                          f"{mark}{'allow' if c.allowed else 'deny'}[/]", c.method)
        console.print(table)
    console.print(orders_table(result))
    for outcome, events in sorted(result.histories.items()):
        console.print(history_table(outcome, events))
    console.print(invariants_table(result))
