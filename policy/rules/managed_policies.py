"""Rules: an attached AWS managed policy is judged by its document (mandatory when it grants every action of a
service, NotAction, or anything :mod:`iam_escalation` refuses); any other AWS managed policy is reviewed (advisory).

Attachments are found on any resource and provider (:mod:`_documents`: ``policyArn``, ``policyArns``,
``managedPolicyArn(s)``, aws-native's and CloudFormation's ``ManagedPolicyArns``). The documents come from moto's
maintained copy (:mod:`_managed`); an AWS managed policy missing from it cannot be read, and is refused unless
allowlisted by URN with the reason. Customer managed policies are judged where they are declared
(``iam-least-privilege``), or refused as unreadable by ``access-readable``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy

from . import _managed
from ._common import ALLOWLIST_SCHEMA, allowlisted
from ._documents import grants
from ._guard import guarded
from .iam_escalation import dangers, granted
from .iam_scoping import problems

REMEDIATION = "replace the managed policy with an inline policy granting the exact actions on the exact ARNs"


def attached(args: ResourceValidationArgs) -> Iterator[str]:
    """The AWS managed policy ARNs a resource attaches."""
    yield from (arn for _, arn in grants(args).attached_arns() if _managed.is_aws_managed(arn))


def too_broad(arn: str) -> str | None:
    """Why an AWS managed policy is refused, or None when it is only to be reviewed."""
    document = _managed.document(arn)
    if document is None:
        return f"is not in {_managed.source()}, so what it grants cannot be read"
    found = [p for p in problems(document) if "every action" in p or "NotAction" in p or "NotResource" in p]
    found += [f"grants {d}" for d in dangers(granted(document))]
    return "; ".join(found[:3]) if found else None


def _no_full_access(args: ResourceValidationArgs, report_violation: Any) -> None:
    if allowlisted(args.get_config(), args.urn):
        return
    for arn in attached(args):
        why = too_broad(arn)
        if why:
            report_violation(f"{args.name}: attaches the AWS managed policy {arn.rsplit('/', 1)[-1]}, which {why} "
                             f"(per {_managed.source()}). Fix: {REMEDIATION}.", None)


def _aws_managed(args: ResourceValidationArgs, report_violation: Any) -> None:
    if allowlisted(args.get_config(), args.urn):
        return
    for arn in attached(args):
        if not too_broad(arn):
            report_violation(f"{args.name}: attaches the AWS managed policy {arn.rsplit('/', 1)[-1]}, which AWS may "
                             f"widen at any time. Fix: {REMEDIATION}.", None)


NO_FULL_ACCESS = ResourceValidationPolicy(
    name="no-full-access-managed-policies",
    description="No AWS managed policy granting a whole service, NotAction, escalation or exposure (by its document).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=guarded(_no_full_access),
    config_schema=PolicyConfigSchema(properties={"allowlist": ALLOWLIST_SCHEMA}),
    remediation_steps=REMEDIATION,
)
AWS_MANAGED = ResourceValidationPolicy(
    name="aws-managed-policies",
    description="AWS managed policies are reviewed: their grants change without a change in the stack.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=guarded(_aws_managed),
    config_schema=PolicyConfigSchema(properties={"allowlist": ALLOWLIST_SCHEMA}),
    remediation_steps=REMEDIATION,
)
