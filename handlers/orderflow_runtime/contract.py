"""The contract between the callback components and a worker: message keys and environment variables, stated once.

The component (``orderflow``) imports these names to build the callback task's message and the worker's environment;
the runtime (``orderflow_runtime``) imports them to read both. Nothing here depends on Pulumi or boto3, so a worker's
Lambda package carries it at no cost.

The message the callback task puts on the queue (Amazon States Language ``Parameters`` of
``arn:<partition>:states:::sqs:sendMessage.waitForTaskToken``,
https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token)::

    {"order": <the work item: the task's input>, "taskToken": "<token>", "execution": "<execution ARN>"}

A compensation message (the failure path's plain ``sqs:sendMessage``) adds ``"action": "<compensation action>"`` and
carries the execution's input as the work item, with no token: nobody waits for its answer.
"""

from __future__ import annotations

from typing import Final

# message keys
WORK_ITEM: Final = "order"
"""The work item (the callback task's input; for a compensation message, the execution's input)."""
TASK_TOKEN: Final = "taskToken"
"""The task token to answer with SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat (absent on compensation)."""
EXECUTION: Final = "execution"
"""The execution ARN (``$$.Execution.Id``): the idempotency scope of the work, and what a dead token's fate is read from."""
ACTION: Final = "action"
"""Present only on a compensation message; its value names the compensation (for example ``"release"``)."""
TASK_ACTION: Final = "check"
"""The ``action`` a callback task's message may state explicitly: the same as no ``action`` (a compensation
action must differ from it)."""

# SQS message attributes
TRACE_HEADER_ATTRIBUTE: Final = "traceHeader"
"""The message attribute (String) a callback task may set to the execution's X-Ray trace header
(``Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>``), where SQS's own ``AWSTraceHeader`` system attribute
is not set. Named as Step Functions names the same header on StartExecution and DescribeExecution
(``traceHeader``, https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html). The
runtime reads ``AWSTraceHeader`` first (``orderflow_runtime.trace``)."""

# environment variables the component sets and the runtime requires (a missing one is a configuration error)
HEARTBEAT_SECONDS: Final = "HEARTBEAT_SECONDS"
"""The callback task's ``HeartbeatSeconds`` (seconds, integer >= 1): the runtime beats well within it."""
VISIBILITY_TIMEOUT_SECONDS: Final = "VISIBILITY_TIMEOUT_SECONDS"
"""The work queue's visibility timeout (seconds, integer >= 1): a record's work must end before it."""
ANSWER_CONCURRENCY: Final = "ANSWER_CONCURRENCY"
"""Records of one batch worked at once in one environment (integer >= 1)."""
SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
"""The Powertools service name of the worker's logs (the component's name)."""
LOG_LEVEL: Final = "POWERTOOLS_LOG_LEVEL"
"""The Powertools log level (``DEBUG``, ``INFO``, ``WARNING``, ``ERROR``)."""

KEPT_STATUSES: Final = "KEPT_STATUSES"
"""Optional: comma-separated output ``status`` values of a SUCCEEDED execution meaning the execution kept this
worker's decision (what it holds is then settled, never given back). Unset: the worker's own default, its own
answer's status (the inventory's ``RESERVED``, the payment's ``AUTHORIZED``), right when the worker's answer ends the
execution. A workflow that goes on after the worker's task sets the status its own end states (e.g. ``COMPLETED``):
an accepted answer then settles its hold only when its own output status is a kept one; otherwise the hold stays
unsettled until the execution's fate says kept or ended."""

REQUIRED: Final = (HEARTBEAT_SECONDS, VISIBILITY_TIMEOUT_SECONDS, ANSWER_CONCURRENCY)
"""What the runtime reads at initialization; each is set by the component on every worker it builds."""
