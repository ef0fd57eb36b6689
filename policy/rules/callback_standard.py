"""Rule: a callback task runs in a Standard workflow: its machine is STANDARD, and so is every Distributed Map's
child workflow around it (Express workflows do not support .waitForTaskToken, wherever they run; see :mod:`_asl`)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._asl import callback_tasks, machines
from ._guard import guarded

REMEDIATION = ("set type STANDARD (and ProcessorConfig.ExecutionType STANDARD on a Distributed Map around the task), "
               "or move the callback into a Standard state machine")


def _validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    for machine in machines(args):
        express = [t for t in callback_tasks(machine.definition, machine.kind) if t.runs_as != "STANDARD"]
        if not express:
            continue
        names = [t.name for t in express]
        where = "; ".join(sorted({t.where or f"the {machine.kind} machine itself" for t in express}))
        label = f"{machine.label}: " if machine.label else ""
        report_violation(f"{args.name}: {label}callback task(s) {names} run as {express[0].runs_as} workflows "
                         f"({where}), which only Standard workflows support. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name="callback-requires-standard",
    description="Callback (.waitForTaskToken) tasks run in Standard workflows, Distributed Map children included.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=guarded(_validate),
    remediation_steps=REMEDIATION,
)
