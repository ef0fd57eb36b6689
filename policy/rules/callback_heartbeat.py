"""Advisory rule: callback tasks set a heartbeat, so a lost worker is noticed before the task timeout."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import as_json, callback_tasks, judged

REMEDIATION = "set HeartbeatSeconds above the queue's visibility timeout and have the worker send heartbeats"


def _validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    if args.resource_type != "aws:sfn/stateMachine:StateMachine":
        return
    for name, task in callback_tasks(as_json(judged(args, "definition"))):
        if "HeartbeatSeconds" not in task and "HeartbeatSecondsPath" not in task:
            report_violation(f"{args.name}: callback task {name!r} has no heartbeat. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name="callback-task-heartbeat",
    description="Callback tasks set HeartbeatSeconds or HeartbeatSecondsPath.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate,
    remediation_steps=REMEDIATION,
)
