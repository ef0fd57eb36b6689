"""Advisory stack rule: a queue's visibility timeout is at least 6 x the timeout of the function it feeds."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs, StackValidationPolicy

LAMBDA_DEFAULT_TIMEOUT = 3
SQS_DEFAULT_VISIBILITY = 30
REMEDIATION = "raise the queue's visibilityTimeoutSeconds to 6 x the function timeout (AWS guidance)"


def _validate(args: StackValidationArgs, report_violation: Any) -> None:
    queues = {}
    functions = {}
    for r in args.resources:
        if r.resource_type == "aws:sqs/queue:Queue":
            for key in ("arn", "name"):
                if r.props.get(key):
                    queues[str(r.props[key]).rsplit(":", 1)[-1]] = r
        elif r.resource_type == "aws:lambda/function:Function":
            for key in ("arn", "name"):
                if r.props.get(key):
                    functions[str(r.props[key]).rsplit(":", 1)[-1]] = r
    for r in args.resources:
        if r.resource_type != "aws:lambda/eventSourceMapping:EventSourceMapping":
            continue
        queue = queues.get(str(r.props.get("eventSourceArn") or "").rsplit(":", 1)[-1])
        function = functions.get(str(r.props.get("functionName") or "").rsplit(":", 1)[-1])
        if queue is None or function is None:
            continue
        visibility = int(queue.props.get("visibilityTimeoutSeconds", SQS_DEFAULT_VISIBILITY))
        timeout = int(function.props.get("timeout", LAMBDA_DEFAULT_TIMEOUT))
        if visibility < 6 * timeout:
            report_violation(f"{queue.name}: visibility timeout {visibility}s is below 6 x the {timeout}s timeout of "
                             f"{function.name}; records reappear while still being worked. Fix: {REMEDIATION}.",
                             queue.urn)


POLICY = StackValidationPolicy(
    name="queue-visibility-timeout",
    description="Queue visibility timeout >= 6 x the timeout of the function its mapping feeds.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate,
    remediation_steps=REMEDIATION,
)
