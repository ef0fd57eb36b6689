"""Rule: every .waitForTaskToken task has a timeout (without one an execution waits up to a year)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import as_json, callback_tasks, judged

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
REMEDIATION = "set TimeoutSeconds (or TimeoutSecondsPath) on the task, and catch States.Timeout"


def _validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    if args.resource_type != STATE_MACHINE:
        return
    for name, task in callback_tasks(as_json(judged(args, "definition"))):
        if "TimeoutSeconds" not in task and "TimeoutSecondsPath" not in task:
            report_violation(f"{args.name}: callback task {name!r} has no timeout. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name="callback-task-timeout",
    description="Every .waitForTaskToken task sets TimeoutSeconds or TimeoutSecondsPath, at any depth.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    remediation_steps=REMEDIATION,
)
