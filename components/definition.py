"""The callback state machine's Amazon States Language, generated from typed settings.

Outcomes, and how they show (the ExecutionsFailed alarm fires only for technical failures):

- reserved: ``Check Inventory`` ends the execution; SUCCEEDED, output ``{orderId, status: "RESERVED", items}``.
- business rejection (the worker answers SendTaskFailure with one of ``rejection_errors``):
  ``Notify Rejection``; SUCCEEDED, output ``{status: "REJECTED", reason, cause, execution}``.
- technical failure (timeout, heartbeat timeout, SQS failure, any other error): ``Release Reservation`` ->
  ``Order Failed``; FAILED with error ``OrderFailed`` and the underlying error name (``States.Timeout``,
  ``States.HeartbeatTimeout``, ...) as its cause (a Fail state may not raise a ``States.*`` error itself).

Why ``Release Reservation``: a worker may have reserved stock and then never answered (its message went to
the dead-letter queue after the last delivery crashed). The failure path therefore puts a release message
``{action: "release", order, execution}`` on the same queue; the worker gives back whatever this execution
reserved, and makes sure a late delivery of the check cannot reserve for it any more.

Why no Pass state after a reservation: Standard workflows bill per state transition, so the happy path is
one transition (the tutorial's ``Notify Success`` Pass state doubled it and changed nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CHECK = "Check Inventory"
REJECTION = "Notify Rejection"
RELEASE = "Release Reservation"
FAILED = "Order Failed"

TIMEOUT_ERRORS = ("States.Timeout", "States.HeartbeatTimeout")
"""AWS raises States.HeartbeatTimeout for a missed heartbeat; some emulators raise States.Timeout."""


@dataclass(frozen=True)
class CallbackDefinition:
    """Settings of the generated definition."""

    queue_url: str
    """Queue the callback task sends its message to."""
    task_timeout_seconds: int
    """TimeoutSeconds of the callback task."""
    heartbeat_seconds: int
    """HeartbeatSeconds of the callback task."""
    partition: str = "aws"
    """AWS partition of the service-integration ARN."""
    task_name: str = CHECK
    """Name of the callback state."""
    rejection_errors: tuple[str, ...] = ("OutOfStock", "UnknownSku", "InvalidOrder")
    """Error names the worker uses for business rejections: routed to the rejection path, not retried."""
    transient_errors: tuple[str, ...] = ("SQS.SdkClientException", "SQS.AmazonSQSException")
    """SendMessage errors worth retrying (the message never reached the queue).

    Step Functions' optimized SQS integration reports a failed call with one of two error names: the service's
    error as ``SQS.AmazonSQSException`` (throttling, KMS and server errors included) and a client-side failure
    as ``SQS.SdkClientException`` (service integration errors are ``<Service>.<exception>``:
    https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html and
    https://docs.aws.amazon.com/step-functions/latest/dg/connect-sqs.html). Finer names such as
    ``SQS.RequestThrottledException`` are not emitted; moto's and LocalStack's Step Functions emulators raise
    exactly these two."""
    retry_attempts: int = 3
    """Retries of a transient SendMessage error."""
    comment: str = field(default="Queue-based callback: a worker answers the task token from SQS.")
    """Comment of the definition."""

    @property
    def execution_timeout_seconds(self) -> int:
        """Whole-execution bound: the task timeout plus room for the SendMessage retries."""
        return self.task_timeout_seconds + 60 * (self.retry_attempts + 1)

    def build(self) -> dict[str, Any]:
        if not self.heartbeat_seconds < self.task_timeout_seconds:
            raise ValueError("heartbeat_seconds must be smaller than task_timeout_seconds")
        return {
            "Comment": self.comment,
            "StartAt": self.task_name,
            "TimeoutSeconds": self.execution_timeout_seconds,
            "States": {
                self.task_name: {
                    "Type": "Task",
                    "Resource": f"arn:{self.partition}:states:::sqs:sendMessage.waitForTaskToken",
                    "Parameters": {
                        "QueueUrl": self.queue_url,
                        "MessageBody": {
                            "order.$": "$",
                            "taskToken.$": "$$.Task.Token",
                            "execution.$": "$$.Execution.Id",
                        },
                    },
                    "TimeoutSeconds": self.task_timeout_seconds,
                    "HeartbeatSeconds": self.heartbeat_seconds,
                    "Retry": [
                        {
                            "ErrorEquals": list(self.transient_errors),
                            "IntervalSeconds": 1,
                            "MaxAttempts": self.retry_attempts,
                            "BackoffRate": 2.0,
                        }
                    ],
                    "Catch": [
                        {"ErrorEquals": list(self.rejection_errors), "Next": REJECTION},
                        {"ErrorEquals": list(TIMEOUT_ERRORS), "Next": RELEASE},
                        {"ErrorEquals": ["States.ALL"], "Next": RELEASE},
                    ],
                    "End": True,
                },
                RELEASE: {
                    "Type": "Task",
                    "Resource": f"arn:{self.partition}:states:::sqs:sendMessage",
                    "Parameters": {
                        "QueueUrl": self.queue_url,
                        "MessageBody": {
                            "action": "release",
                            "order.$": "$$.Execution.Input",
                            "execution.$": "$$.Execution.Id",
                        },
                    },
                    "ResultPath": None,
                    "Retry": [
                        {
                            "ErrorEquals": list(self.transient_errors),
                            "IntervalSeconds": 1,
                            "MaxAttempts": self.retry_attempts,
                            "BackoffRate": 2.0,
                        }
                    ],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.releaseError", "Next": FAILED}],
                    "Next": FAILED,
                },
                REJECTION: {
                    "Type": "Pass",
                    "Parameters": {
                        "status": "REJECTED",
                        "reason.$": "$.Error",
                        "cause.$": "$.Cause",
                        "execution.$": "$$.Execution.Name",
                    },
                    "End": True,
                },
                FAILED: {
                    "Type": "Fail",
                    "Error": "OrderFailed",
                    "CausePath": "$.Error",
                },
            },
        }

