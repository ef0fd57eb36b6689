"""Rule: every identity policy grants exact actions on exact ARNs.

``"*"`` (or an ARN that is a wildcard in effect) is accepted only for actions the AWS action database
(policy_sentry) documents as supporting no resource-level permission; iam:PassRole never on a wildcard.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from functools import cache
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from policy.rules._common import ALLOWLIST_SCHEMA, allowlisted, as_json, as_list

NAME = "iam-least-privilege"
POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy",
                "aws:iam/groupPolicy:GroupPolicy")
REMEDIATION = ("grant the exact actions your code calls on the exact ARNs it touches; keep \"*\" for actions "
               "AWS documents as resource-less (e.g. states:SendTaskSuccess, logs:CreateLogDelivery)")


@cache
def _service_actions(service: str) -> tuple[str, ...]:
    from policy_sentry.querying.actions import get_actions_for_service

    return tuple(a.lower() for a in get_actions_for_service(service))


@cache
def _wildcard_only(service: str) -> frozenset[str]:
    from policy_sentry.querying.actions import get_actions_that_support_wildcard_arns_only

    return frozenset(a.lower() for a in get_actions_that_support_wildcard_arns_only(service))


def expand(action: str) -> list[str]:
    """The database's actions an action pattern covers (case-insensitive); itself when unknown."""
    pattern = action.lower()
    service = pattern.split(":", 1)[0]
    if "*" not in pattern and "?" not in pattern:
        return [pattern]
    return [a for a in _service_actions(service) if fnmatch.fnmatchcase(a, pattern)] or [pattern]


def wildcard_in_effect(resource: str) -> bool:
    """``"*"``, or an ARN that names every resource of its kind (``arn:aws:sqs:*:*:*``, ``table/*``)."""
    if resource.strip() == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return "*" in resource
    _, _, service, region, account, rest = parts
    if "*" in service or "*" in account or ("*" in region and service not in ("iam", "s3")):
        return True
    for sep in ("/", ":"):
        if sep in rest:
            rest = rest.split(sep, 1)[1]
            break
    return rest.startswith("*")


def documents(resource_type: str, props: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(label, document) for every identity policy a resource carries."""
    if resource_type in POLICY_TYPES:
        yield "policy", as_json(props.get("policy"))
    elif resource_type == "aws:iam/role:Role":
        for inline in as_list(props.get("inlinePolicies")):
            if isinstance(inline, dict) and inline.get("policy"):
                yield f"inline policy {inline.get('name', '')!r}", as_json(inline["policy"])


def problems(document: Any) -> list[str]:
    """Every least-privilege problem of one policy document."""
    found: list[str] = []
    if not isinstance(document, dict):
        return found
    for index, st in enumerate(as_list(document.get("Statement"))):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        where = f"statement {st.get('Sid') or index}"
        if "NotAction" in st:
            found.append(f"{where} uses NotAction (it allows every other action)")
        if "NotResource" in st:
            found.append(f"{where} uses NotResource (it allows every other resource)")
        actions = [str(a) for a in as_list(st.get("Action"))]
        resources = [str(r) for r in as_list(st.get("Resource"))]
        for action in actions:
            if action.strip() == "*" or action.lower().endswith(":*"):
                found.append(f"{where} allows every action of a service: {action!r}")
        wild = [r for r in resources if wildcard_in_effect(r)]
        if not wild:
            continue
        for action in actions:
            if action.lower() == "iam:passrole" or fnmatch.fnmatchcase("iam:passrole", action.lower()):
                found.append(f"{where} allows iam:PassRole on {wild[0]!r}; name the exact role ARNs")
                continue
            scoped = [a for a in expand(action) if a not in _wildcard_only(a.split(":", 1)[0])]
            if scoped:
                found.append(
                    f"{where} grants {action!r} on {wild[0]!r}, but {', '.join(sorted(scoped)[:5])}"
                    f"{' ...' if len(scoped) > 5 else ''} support resource-level permissions"
                )
    return found


def validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    config = args.get_config()
    for label, document in documents(args.resource_type, dict(args.props)):
        for problem in problems(document):
            if allowlisted(config, args.name):
                continue
            report_violation(f"{args.name}: {label}: {problem}. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name=NAME,
    description="IAM identity policies grant exact actions on exact ARNs; \"*\" only for resource-less actions.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
    config_schema=PolicyConfigSchema(properties={"allowlist": ALLOWLIST_SCHEMA}),
    remediation_steps=REMEDIATION,
)
