"""What a run of any program must leave behind, judged on the emulator's final state, per service and across them.

An execution *kept* a service's hold when it SUCCEEDED with an output ``status`` among the worker's kept statuses
(``KEPT_STATUSES`` in its environment, else its ledger's ``held_status``: ``RESERVED``, ``AUTHORIZED``; the order
workflow sets ``COMPLETED`` on both). For every service the run knows (``services``):

- final counters = initial counters minus the demand of every kept execution (stock and credit conserved: nothing
  taken twice, nothing given back twice, nothing leaked);
- the ledger's held records are exactly the kept executions' (nothing held for a rejected, failed, stopped or
  timed-out execution; nothing kept without its record);
- no order refused with the service's short error (``OutOfStock``, ``PaymentDeclined``) whose demand the final
  counters cover. A counter rises again only when a hold is given back, which happens only to a hold whose execution
  did not keep it; the worker does not refuse while such unsettled holds could make up the difference, so an order
  the final state covers was refused what it could have had.

Across services (two or more): every execution holds in all of them or in none ("both kept or neither"). And for
every program: every execution ends, every poison message is dead-lettered, every other dead letter belongs to a
failed execution (``invariants``), and the trace context reaches every worker (``trace``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from tools.emulator.invariants import Ended, Invariant
from tools.emulator.services import Service


@dataclass(frozen=True)
class Ledger:
    """One service's side of a run: its adapter, what its worker keeps, its counters before and its table after."""

    service: Service
    kept_statuses: tuple[str, ...]
    initial: Mapping[str, int]
    final: Mapping[str, int]
    records: Mapping[str, Mapping[str, str]]


def _some(items: list[str], limit: int = 5) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _name(arn: str) -> str:
    return arn.rsplit(":", 1)[1]


def kept(e: Ended, statuses: tuple[str, ...]) -> bool:
    return e.status == "SUCCEEDED" and isinstance(e.output, dict) and e.output.get("status") in statuses


def every_execution_ends(executions: list[Ended]) -> Invariant:
    running = [_name(e.arn) for e in executions if e.status == "RUNNING"]
    return Invariant("every execution ends", not running,
                     f"{len(executions)} ended" if not running else f"still running: {_some(running)}")


def conserved(ledger: Ledger, executions: list[Ended]) -> Invariant:
    s, attribute = ledger.service, ledger.service.layout.counter_attribute
    expected = dict(ledger.initial)
    unparsed = []
    for e in executions:
        if kept(e, ledger.kept_statuses):
            demand = s.demand_of(e.order)
            if demand is None:
                unparsed.append(_name(e.arn))
            for counter, units in (demand or {}).items():
                expected[counter] = expected.get(counter, 0) - units
    wrong = [f"{c}: {ledger.final.get(c)} (expected {n})" for c, n in sorted(expected.items())
             if ledger.final.get(c) != n]
    wrong += [f"kept yet invalid to {s.package}: {_some(unparsed)}"] if unparsed else []
    return Invariant(f"final {attribute} = initial - kept", not wrong,
                     f"every {s.noun} matches" if not wrong else _some(wrong))


def holds(ledger: Ledger, executions: list[Ended]) -> tuple[Invariant, set[str]]:
    """The records invariant, and the executions holding in this ledger."""
    layout = ledger.service.layout
    keeping = {e.arn for e in executions if kept(e, ledger.kept_statuses)}
    held = {r.get("execution", "") for r in ledger.records.values() if r.get("status") == layout.held_status}
    leaked = sorted(_name(a) for a in held - keeping if a)
    lost = sorted(_name(a) for a in keeping - held)
    problems = [f"held for an execution that did not keep it: {_some(leaked)}"] if leaked else []
    problems += [f"kept with no record: {_some(lost)}"] if lost else []
    name = f"{ledger.service.summary_key} holds ({layout.held_status}) = kept executions"
    return Invariant(name, not problems, f"{len(held)} held, {len(keeping)} kept" if not problems
                     else "; ".join(problems)), held


def refused_yet_covered(ledger: Ledger, executions: list[Ended]) -> Invariant:
    s, short = ledger.service, ledger.service.layout.short_error
    refused = [e for e in executions if isinstance(e.output, dict) and e.output.get("status") == "REJECTED"
               and e.output.get("reason") == short and e.order is not None]
    wrong = [_name(e.arn) for e in refused if s.refused_yet_covered(e.order, ledger.final)]
    return Invariant(f"no {short} order whose demand the final {s.layout.counter_attribute} covers", not wrong,
                     f"{len(refused)} refused, none covered" if not wrong
                     else f"the final {s.layout.counter_attribute} covers: {_some(wrong)}")


def all_or_none(ledgers: list[Ledger], holding: list[set[str]], executions: list[Ended]) -> Invariant:
    names = [ledger.service.package for ledger in ledgers]
    half = []
    for e in executions:
        having = [n for n, held in zip(names, holding, strict=True) if e.arn in held]
        if having and len(having) < len(names):
            half.append(f"{_name(e.arn)} ({'+'.join(having)} only)")
    return Invariant(f"per order {' and '.join(names)} both kept or neither", not half,
                     f"{len(executions)} orders, none half-done" if not half else f"half-done: {_some(half)}")


def dead_letters(executions: list[Ended], letters: list[str], poison: list[str]) -> list[Invariant]:
    """Every poison message is in a DLQ; every other dead letter belongs to an execution that ended FAILED."""
    by_arn = {e.arn: e for e in executions}
    missing = Counter(poison) - Counter(letters)
    out = [Invariant("every poison message is in the DLQ", not missing,
                     f"{len(poison)} of {len(poison)}" if not missing
                     else f"{sum(missing.values())} of {len(poison)} missing")]
    strays = []
    for body in (Counter(letters) - Counter(poison)).elements():
        try:
            execution = json.loads(body).get("execution")
        except (ValueError, AttributeError):
            execution = None
        ended = by_arn.get(execution) if isinstance(execution, str) else None
        if ended is None or ended.status != "FAILED":
            strays.append(body[:80])
    others = len(letters) - len(poison) + sum(missing.values())
    out.append(Invariant("other DLQ messages belong to failed executions", not strays,
                         f"{others} other, all of failed executions" if not strays else _some(strays, 3)))
    return out


def judge(executions: list[Ended], ledgers: list[Ledger], letters: list[str], poison: list[str],
          trace: Invariant | None = None) -> list[Invariant]:
    """Every invariant of the module doc, in a stable order (see there)."""
    out = [every_execution_ends(executions)]
    holding = []
    for ledger in ledgers:
        out.append(conserved(ledger, executions))
        invariant, held = holds(ledger, executions)
        out.append(invariant)
        holding.append(held)
    if len(ledgers) > 1:
        out.append(all_or_none(ledgers, holding, executions))
    out += dead_letters(executions, letters, poison)
    out += [refused_yet_covered(ledger, executions) for ledger in ledgers]
    return out + ([trace] if trace else [])
