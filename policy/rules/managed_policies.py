"""Rules: no AWS managed full-access policy (mandatory); any other AWS managed policy is reviewed (advisory)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from policy.rules._common import ALLOWLIST_SCHEMA, allowlisted, as_list

ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment",
               "aws:iam/userPolicyAttachment:UserPolicyAttachment",
               "aws:iam/groupPolicyAttachment:GroupPolicyAttachment")
BROAD_SUFFIXES = ("FullAccess", "AdministratorAccess", "PowerUserAccess")
REMEDIATION = "replace the managed policy with an inline policy granting the exact actions on the exact ARNs"


def attached(resource_type: str, props: dict[str, Any]) -> Iterator[str]:
    if resource_type in ATTACHMENTS:
        yield str(props.get("policyArn") or "")
    elif resource_type == "aws:iam/role:Role":
        yield from (str(a) for a in as_list(props.get("managedPolicyArns")))


def is_aws_managed(arn: str) -> bool:
    return ":iam::aws:policy/" in arn


def is_broad(arn: str) -> bool:
    return is_aws_managed(arn) and arn.rsplit("/", 1)[-1].endswith(BROAD_SUFFIXES)


def _no_full_access(args: ResourceValidationArgs, report_violation: Any) -> None:
    for arn in attached(args.resource_type, dict(args.props)):
        if is_broad(arn) and not allowlisted(args.get_config(), args.name):
            report_violation(f"{args.name}: attaches the AWS managed policy {arn.rsplit('/', 1)[-1]}, which grants "
                             f"full access. Fix: {REMEDIATION}.", None)


def _aws_managed(args: ResourceValidationArgs, report_violation: Any) -> None:
    for arn in attached(args.resource_type, dict(args.props)):
        if is_aws_managed(arn) and not is_broad(arn) and not allowlisted(args.get_config(), args.name):
            report_violation(f"{args.name}: attaches the AWS managed policy {arn.rsplit('/', 1)[-1]}, which AWS may "
                             f"widen at any time. Fix: {REMEDIATION}.", None)


NO_FULL_ACCESS = ResourceValidationPolicy(
    name="no-full-access-managed-policies",
    description="No AWS managed policy granting full access (*FullAccess, AdministratorAccess, PowerUserAccess).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_no_full_access,
    config_schema=PolicyConfigSchema(properties={"allowlist": ALLOWLIST_SCHEMA}),
    remediation_steps=REMEDIATION,
)
AWS_MANAGED = ResourceValidationPolicy(
    name="aws-managed-policies",
    description="AWS managed policies are reviewed: their grants change without a change in the stack.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_aws_managed,
    config_schema=PolicyConfigSchema(properties={"allowlist": ALLOWLIST_SCHEMA}),
    remediation_steps=REMEDIATION,
)
