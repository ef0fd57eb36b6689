"""Rule: a state machine with a callback task is STANDARD (Express workflows do not support .waitForTaskToken)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import as_json, callback_tasks, judged

REMEDIATION = "set type STANDARD, or move the callback into a Standard state machine"


def _validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    if args.resource_type != "aws:sfn/stateMachine:StateMachine":
        return
    kind = str(judged(args, "type") or "STANDARD").upper()
    tasks = [name for name, _ in callback_tasks(as_json(judged(args, "definition")))]
    if tasks and kind != "STANDARD":
        report_violation(f"{args.name}: {kind} state machine has callback task(s) {tasks}, which only Standard "
                         f"workflows support. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name="callback-requires-standard",
    description="State machines with .waitForTaskToken tasks are STANDARD.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    remediation_steps=REMEDIATION,
)
