"""Advisory rule: state machines log to CloudWatch and trace with X-Ray."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import judged

REMEDIATION = "set loggingConfiguration {level ALL|ERROR|FATAL, logDestination} and tracingConfiguration.enabled"


def _validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    if args.resource_type != "aws:sfn/stateMachine:StateMachine":
        return
    logging = judged(args, "loggingConfiguration") or {}
    if str(logging.get("level", "OFF")).upper() == "OFF" or not logging.get("logDestination"):
        report_violation(f"{args.name}: state machine does not log executions. Fix: {REMEDIATION}.", None)
    if not (judged(args, "tracingConfiguration") or {}).get("enabled"):
        report_violation(f"{args.name}: state machine does not trace with X-Ray. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name="state-machine-observability",
    description="State machines have logging and X-Ray tracing on.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate,
    remediation_steps=REMEDIATION,
)
