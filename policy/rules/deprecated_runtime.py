"""Advisory rule: no Lambda runtime AWS has deprecated (they stop receiving security patches)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

DEPRECATED = frozenset({
    "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x",
    "nodejs14.x", "nodejs16.x", "nodejs18.x", "python2.7", "python3.6", "python3.7", "python3.8", "python3.9",
    "ruby2.5", "ruby2.7", "ruby3.2", "java8", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1",
    "dotnetcore3.1", "dotnet6", "dotnet7", "go1.x", "provided",
})
REMEDIATION = "move to a supported runtime (e.g. python3.13, nodejs22.x)"


def _validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    if args.resource_type != "aws:lambda/function:Function":
        return
    runtime = str(args.props.get("runtime") or "")
    if runtime in DEPRECATED:
        report_violation(f"{args.name}: runtime {runtime} is deprecated. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name="lambda-runtime-supported",
    description="Lambda functions use a runtime AWS still supports.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate,
    remediation_steps=REMEDIATION,
)
