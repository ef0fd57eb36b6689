"""Rule: every .waitForTaskToken task has a timeout that takes effect, at any depth and on any provider.

Without ``TimeoutSeconds`` a callback task waits as long as the execution may run (a year for a Standard workflow).
``TimeoutSeconds: 99999999`` is Step Functions' default for a task, so it is no timeout either
(https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html); a value that is not a positive whole number
is refused by Step Functions; a value above ``maxTimeoutSeconds`` (default 1,209,600 s, 14 days: the longest SQS
keeps a message, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html,
so no worker can still hold the task's message) waits for an answer that cannot come.
Two settings disable a timeout that is set: a ``Retry`` on ``States.Timeout`` (or ``States.ALL``) restarts the wait
``MaxAttempts`` times (3 when unset), so the task waits ``TimeoutSeconds x (1 + MaxAttempts)``; and a machine whose
own ``TimeoutSeconds`` ends the execution first never reaches the task's timeout nor its Catch (a reservation to
release, a rejection to send); and a Catch on ``States.Timeout`` that leads back to the task (through Pass, Wait or
Task states, no Choice) starts the wait again (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
``TimeoutSecondsPath`` is read at run time and accepted.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy

from ._asl import callback_tasks, machines
from ._guard import guarded

STATES_DEFAULT_TIMEOUT = 99_999_999
MAX_TIMEOUT = 1_209_600
REMEDIATION = ("set TimeoutSeconds on the task to the longest a worker may take (below Step Functions' default "
               "99999999 and maxTimeoutSeconds), and catch States.Timeout")


def _whole(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value <= 0:
        return None
    return int(value)


def retries_on_timeout(task: dict[str, Any]) -> int:
    """How many times a Retry restarts the task after States.Timeout (the largest matching MaxAttempts)."""
    attempts = 0
    retriers = task.get("Retry")
    for retrier in retriers if isinstance(retriers, list) else []:
        errors = retrier.get("ErrorEquals") if isinstance(retrier, dict) else None
        if isinstance(errors, list) and {"States.Timeout", "States.ALL"} & {str(e) for e in errors}:
            value = retrier.get("MaxAttempts", 3)
            attempts = max(attempts, value if isinstance(value, int) and not isinstance(value, bool) else 3)
    return attempts


def loops_back(name: str, task: dict[str, Any], states: dict[str, Any]) -> bool:
    """Whether a Catch on States.Timeout (or States.ALL) leads back to the task without a choice on the way: the
    timeout then restarts the wait for as long as the execution runs."""
    catchers = task.get("Catch")
    for catcher in catchers if isinstance(catchers, list) else []:
        errors = catcher.get("ErrorEquals") if isinstance(catcher, dict) else None
        if not (isinstance(errors, list) and {"States.Timeout", "States.ALL"} & {str(e) for e in errors}):
            continue
        at, seen = catcher.get("Next"), set[str]()
        while isinstance(at, str) and at not in seen and len(seen) < 64:
            if at == name:
                return True
            seen.add(at)
            state = states.get(at)
            at = state.get("Next") if isinstance(state, dict) and state.get("Type") in ("Pass", "Wait", "Task") \
                else None
    return False


def run_time(value: Any) -> bool:
    """A JSONata expression (``"{% $states.input.timeout %}"``), read at run time like a ``...Path``
    (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html)."""
    return isinstance(value, str) and value.strip().startswith("{%") and value.strip().endswith("%}")


def timeout_problem(task: dict[str, Any], maximum: int, execution: int | None = None) -> str | None:
    """Why a callback task's timeout does not take effect, or None. ``execution``: the machine's own timeout."""
    if ("TimeoutSecondsPath" in task and "TimeoutSeconds" not in task) or run_time(task.get("TimeoutSeconds")):
        return None
    if "TimeoutSeconds" not in task:
        return "has no timeout"
    value = task["TimeoutSeconds"]
    if _whole(value) is None:
        return f"has TimeoutSeconds {value!r}, which is not a positive whole number of seconds"
    if value >= STATES_DEFAULT_TIMEOUT:
        return f"has TimeoutSeconds {int(value)}, Step Functions' default: the same as no timeout"
    retries = retries_on_timeout(task)
    total = int(value) * (1 + retries)
    waits = f"TimeoutSeconds {int(value)}" + (f" retried {retries} time(s) on States.Timeout (waits {total} s)"
                                              if retries else "")
    if total > maximum:
        return f"has {waits}, above the {maximum} s any answer can come within"
    if execution is not None and total >= execution:
        return (f"has {waits}, but the execution times out at {execution} s first: the task's timeout and its "
                f"Catch never run")
    return None


def _validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    config = args.get_config()
    maximum = config.get("maxTimeoutSeconds", MAX_TIMEOUT)
    maximum = maximum if isinstance(maximum, int) and not isinstance(maximum, bool) else MAX_TIMEOUT
    for machine in machines(args):
        execution = _whole(machine.definition.get("TimeoutSeconds")) if isinstance(machine.definition, dict) else None
        for task in callback_tasks(machine.definition, machine.kind):
            problem = timeout_problem(task.state, maximum, execution)
            if problem is None and loops_back(task.name, task.state, task.scope):
                problem = ("catches States.Timeout into a path back to itself: each timeout starts the wait again, "
                           "for as long as the execution runs")
            if problem:
                where = " ".join(x for x in (machine.label, task.where) if x)
                report_violation(f"{args.name}: callback task {task.name!r}{f' in {where}' if where else ''} "
                                 f"{problem}. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name="callback-task-timeout",
    description="Every .waitForTaskToken task sets a TimeoutSeconds that takes effect (or TimeoutSecondsPath), at any "
                "depth.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=guarded(_validate),
    config_schema=PolicyConfigSchema(properties={
        "maxTimeoutSeconds": {"type": "integer", "minimum": 1, "maximum": STATES_DEFAULT_TIMEOUT - 1,
                              "default": MAX_TIMEOUT}}),
    remediation_steps=REMEDIATION,
)
