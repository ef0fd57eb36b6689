"""Advisory rule: SQS event source mappings report batch item failures (one bad record must not fail ten)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import NotJudgeable, as_list, judged

REMEDIATION = "set functionResponseTypes: [ReportBatchItemFailures] and return batchItemFailures from the handler"


def _validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    if args.resource_type != "aws:lambda/eventSourceMapping:EventSourceMapping":
        return
    try:
        source = str(judged(args, "eventSourceArn") or ":sqs:")
    except NotJudgeable:  # unknown in a preview: judge it as the SQS mapping it may be
        source = ":sqs:"
    if ":sqs:" not in source:  # a stream's mapping: its response types are not read at all
        return
    if "ReportBatchItemFailures" not in as_list(judged(args, "functionResponseTypes")):
        report_violation(f"{args.name}: SQS mapping without ReportBatchItemFailures: one failed record returns the "
                         f"whole batch. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name="sqs-mapping-partial-batch",
    description="SQS event source mappings use ReportBatchItemFailures.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate,
    remediation_steps=REMEDIATION,
)
