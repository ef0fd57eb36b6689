"""Advisory rule: SQS event source mappings report batch item failures.

Without ``ReportBatchItemFailures`` in the mapping's ``FunctionResponseTypes``, Lambda ignores the
``batchItemFailures`` a function returns: when the function returns normally it deletes the whole batch from the
queue, failed records included, so they are lost; when it raises, the whole batch returns to the queue, and the
records that succeeded are processed again
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import NotJudgeable, as_list, judged
from ._guard import guarded

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
        report_violation(f"{args.name}: SQS mapping without ReportBatchItemFailures: Lambda ignores the "
                         f"batchItemFailures the function returns, so when it returns normally the whole batch is "
                         f"deleted and the failed records are lost, and when it raises the whole batch is retried "
                         f"(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html). "
                         f"Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name="sqs-mapping-partial-batch",
    description="SQS event source mappings use ReportBatchItemFailures.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=guarded(_validate),
    remediation_steps=REMEDIATION,
)
