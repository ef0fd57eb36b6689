"""Advisory rule: callback tasks set a heartbeat that can fire, so a lost worker is noticed before the task timeout.

A heartbeat is a whole number of seconds below the task's TimeoutSeconds; Step Functions refuses one that is not
(https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._asl import callback_tasks, machines
from ._guard import guarded
from .callback_timeout import run_time

REMEDIATION = ("set HeartbeatSeconds above the queue's visibility timeout and below TimeoutSeconds, and have the "
               "worker send heartbeats")


def heartbeat_problem(task: dict[str, Any]) -> str | None:
    if "HeartbeatSecondsPath" in task or run_time(task.get("HeartbeatSeconds")):
        return None
    if "HeartbeatSeconds" not in task:
        return "has no heartbeat"
    beat, timeout = task["HeartbeatSeconds"], task.get("TimeoutSeconds")
    if isinstance(beat, bool) or not isinstance(beat, int) or beat <= 0:
        return f"has HeartbeatSeconds {beat!r}, not a positive whole number of seconds"
    if isinstance(timeout, int) and not isinstance(timeout, bool) and beat >= timeout:
        return f"has HeartbeatSeconds {beat} >= TimeoutSeconds {timeout}: the heartbeat can never fire"
    return None


def _validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    for machine in machines(args):
        for task in callback_tasks(machine.definition, machine.kind):
            problem = heartbeat_problem(task.state)
            if problem:
                report_violation(f"{args.name}: callback task {task.name!r} {problem}. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name="callback-task-heartbeat",
    description="Callback tasks set HeartbeatSeconds (below TimeoutSeconds) or HeartbeatSecondsPath.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=guarded(_validate),
    remediation_steps=REMEDIATION,
)
