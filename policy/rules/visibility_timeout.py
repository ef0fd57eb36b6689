"""Advisory stack rule: a queue's visibility timeout covers the function its mapping feeds.

AWS: "set the source queue's visibility timeout to at least six times the timeout that you configure on your
function", plus the mapping's MaximumBatchingWindowInSeconds
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html). The mapping's ``functionName`` may
be a name, a function ARN, a version or alias ARN, or a partial ARN (``123456789012:function:NAME``)
(https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html); all resolve to the function.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, StackValidationArgs, StackValidationPolicy

from ._common import is_unknown, judged, raw_props
from ._guard import guarded
from .queue_redrive import queue_name

LAMBDA_DEFAULT_TIMEOUT = 3
SQS_DEFAULT_VISIBILITY = 30
REMEDIATION = ("raise the queue's visibilityTimeoutSeconds to 6 x the function timeout + the mapping's "
               "maximumBatchingWindowInSeconds (AWS guidance)")


def function_name(reference: str) -> str:
    """The function a Lambda ``FunctionName`` designates: name, ARN, qualified ARN or partial ARN, qualifier dropped."""
    parts = reference.split(":")
    if reference.startswith("arn:") and len(parts) >= 7:
        return parts[6]
    if len(parts) >= 3 and parts[1] == "function":
        return parts[2]
    return parts[0]


def _number(value: Any, default: int) -> int | None:
    """A numeric setting, the service's default when unset, None when it is not a whole number (not judged here:
    the provider refuses it)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and float(value).is_integer():
        return int(value)
    return int(value) if isinstance(value, str) and value.strip().isdigit() and len(value) < 10 else None


def _index(args: StackValidationArgs, typ: str, name_of: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for r in args.resources:
        if r.resource_type == typ:
            props = raw_props(r)
            for key in ("name", "arn"):
                value = props.get(key)
                if value and not is_unknown(value):
                    found[name_of(str(value))] = r
    return found


def _validate(args: StackValidationArgs, report_violation: Any) -> None:
    queues = _index(args, "aws:sqs/queue:Queue", lambda v: queue_name({"arn": v}))
    functions = _index(args, "aws:lambda/function:Function", function_name)
    for r in args.resources:
        if r.resource_type != "aws:lambda/eventSourceMapping:EventSourceMapping":
            continue
        props = raw_props(r)
        queue = queues.get(queue_name({"arn": props.get("eventSourceArn")}))
        function = functions.get(function_name(str(props.get("functionName") or "")))
        if queue is None or function is None:
            continue  # not in this stack, or not known in a preview: judged when the stack is analyzed after `up`
        visibility = _number(judged(queue, "visibilityTimeoutSeconds"), SQS_DEFAULT_VISIBILITY)
        timeout = _number(judged(function, "timeout"), LAMBDA_DEFAULT_TIMEOUT)
        window = _number(judged(r, "maximumBatchingWindowInSeconds"), 0)
        if visibility is None or timeout is None or window is None:
            continue
        if visibility < 6 * timeout + window:
            report_violation(f"{queue.name}: visibility timeout {visibility}s is below 6 x the {timeout}s timeout of "
                             f"{function.name} + the {window}s batching window of {r.name}; records reappear while "
                             f"still being worked. Fix: {REMEDIATION}.", queue.urn)


POLICY = StackValidationPolicy(
    name="queue-visibility-timeout",
    description="Queue visibility timeout >= 6 x the timeout of the function its mapping feeds + batching window.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=guarded(_validate),
    remediation_steps=REMEDIATION,
)
