"""Advisory rule: state machines log to CloudWatch and trace with X-Ray."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import judged
from ._guard import guarded

REMEDIATION = "set loggingConfiguration {level ALL|ERROR|FATAL, logDestination} and tracingConfiguration.enabled"


def _validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    if args.resource_type != "aws:sfn/stateMachine:StateMachine":
        return
    logging = judged(args, "loggingConfiguration")
    logging = logging if isinstance(logging, dict) else {}
    if str(logging.get("level", "OFF")).upper() == "OFF" or not logging.get("logDestination"):
        report_violation(f"{args.name}: state machine does not log executions. Fix: {REMEDIATION}.", None)
    tracing = judged(args, "tracingConfiguration")
    if (tracing if isinstance(tracing, dict) else {}).get("enabled") is not True:
        report_violation(f"{args.name}: state machine does not trace with X-Ray. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name="state-machine-observability",
    description="State machines have logging and X-Ray tracing on.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=guarded(_validate),
    remediation_steps=REMEDIATION,
)
