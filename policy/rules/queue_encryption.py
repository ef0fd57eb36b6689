"""Advisory rule: queues are encrypted at rest, explicitly (SSE-SQS or a KMS key)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import judged
from ._guard import guarded

REMEDIATION = "set sqsManagedSseEnabled: true, or kmsMasterKeyId to a customer-managed key"


def _validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    if args.resource_type != "aws:sqs/queue:Queue":
        return
    if not judged(args, "sqsManagedSseEnabled") and not judged(args, "kmsMasterKeyId"):
        report_violation(f"{args.name}: queue does not declare encryption at rest. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name="queue-encryption",
    description="SQS queues declare encryption at rest.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=guarded(_validate),
    remediation_steps=REMEDIATION,
)
