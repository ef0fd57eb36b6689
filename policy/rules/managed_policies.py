"""Rules: no AWS managed full-access policy (mandatory); any other AWS managed policy is reviewed (advisory).

Every pulumi-aws resource type through which a managed policy is attached to an identity is judged (from the
provider's API docs, https://www.pulumi.com/registry/packages/aws/api-docs/iam/ and .../ssoadmin/):
the one-policy attachments of roles, users and groups, ``PolicyAttachment``, the exclusive attachments
(``*PolicyAttachmentsExclusive``, the replacement for ``Role.managedPolicyArns``), ``Role.managedPolicyArns``
itself, IAM Identity Center permission sets, and QuickSight IAM policy assignments.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from ._common import ALLOWLIST_SCHEMA, allowlisted, as_list, judged

ATTACHMENTS: dict[str, str] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/role:Role": "managedPolicyArns",
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": "managedPolicyArn",
    "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive": "managedPolicyArns",
    "aws:quicksight/iamPolicyAssignment:IamPolicyAssignment": "policyArn",
}
"""Resource type -> the property holding the managed policy ARN(s) it attaches."""
BROAD_SUFFIXES = ("FullAccess", "AdministratorAccess", "PowerUserAccess")
REMEDIATION = "replace the managed policy with an inline policy granting the exact actions on the exact ARNs"


def attached(args: ResourceValidationArgs) -> Iterator[str]:
    """The managed policy ARNs a resource attaches; reads only the attaching property."""
    key = ATTACHMENTS.get(args.resource_type)
    if key is not None:
        yield from (str(a) for a in as_list(judged(args, key)) if a)


def is_aws_managed(arn: str) -> bool:
    return ":iam::aws:policy/" in arn


def is_broad(arn: str) -> bool:
    return is_aws_managed(arn) and arn.rsplit("/", 1)[-1].endswith(BROAD_SUFFIXES)


def _no_full_access(args: ResourceValidationArgs, report_violation: Any) -> None:
    if args.resource_type not in ATTACHMENTS or allowlisted(args.get_config(), args.urn):
        return
    for arn in attached(args):
        if is_broad(arn):
            report_violation(f"{args.name}: attaches the AWS managed policy {arn.rsplit('/', 1)[-1]}, which grants "
                             f"full access. Fix: {REMEDIATION}.", None)


def _aws_managed(args: ResourceValidationArgs, report_violation: Any) -> None:
    if args.resource_type not in ATTACHMENTS or allowlisted(args.get_config(), args.urn):
        return
    for arn in attached(args):
        if is_aws_managed(arn) and not is_broad(arn):
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
