"""Stack rule: every grant of access in the stack is readable by the pack, or allowlisted with the reason.

Refused (mandatory), each unless its resource is allowlisted by URN: a command resource (``command:local:Command``,
``command:remote:Command``: a shell line such as ``aws iam put-role-policy`` grants what the pack cannot see); a
dynamic provider's resource (its code runs at deploy time); a CloudFormation stack whose template is not in the
stack (``templateUrl``) or does not parse; a customer managed policy attached by ARN that no resource of the stack
declares (its document is elsewhere). Templates that parse are judged by the other rules, resource by resource.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, StackValidationArgs, StackValidationPolicy

from . import _managed
from ._common import ALLOWLIST_SCHEMA, allowlisted, is_unknown, raw_props
from ._documents import grants
from ._guard import guarded

NAME = "access-readable"
REMEDIATION = ("declare the grant as a resource the pack reads (a policy, a role, a template body), or allowlist "
               "this resource by URN with the reason it is safe")
TEMPLATE_TYPES = frozenset({"aws:cloudformation/stack:Stack", "aws:cloudformation/stackSet:StackSet",
                            "aws-native:cloudformation:Stack", "aws-native:cloudformation:StackSet"})


def _opaque(r: Any, props: dict[str, Any]) -> str | None:
    typ = r.resource_type
    if typ.startswith("command:"):
        return "runs commands at deploy time; what they grant cannot be read"
    if ":dynamic:" in typ:
        return "is a dynamic provider's resource; the access its code grants cannot be read"
    if typ in TEMPLATE_TYPES and not props.get("templateBody") and props.get("templateUrl"):
        return "deploys a template from templateUrl, which the pack cannot read"
    return None


def _declared(resources: list[Any]) -> set[str]:
    """ARNs and names of the managed policies the stack declares (any provider)."""
    names: set[str] = set()
    for r in resources:
        if not r.resource_type.rsplit(":", 1)[-1].lower().endswith("policy"):
            continue  # Policy, ManagedPolicy, RolePolicy ...; not the attachments
        props = raw_props(r)
        for key in ("arn", "policyArn", "name", "managedPolicyName", "policyName", "id"):
            value = props.get(key)
            if isinstance(value, str) and value and not is_unknown(value):
                names.update({value, value.rsplit("/", 1)[-1]})
    return names


def _problems(r: Any, declared: set[str]) -> list[str]:
    props = raw_props(r)
    opaque = _opaque(r, props)
    if opaque:
        return [opaque]
    found = grants(r)
    problems = list(found.unreadable)
    for where, arn in found.attached:
        if _managed.is_aws_managed(arn) or is_unknown(arn):
            continue
        if arn not in declared and arn.rsplit("/", 1)[-1] not in declared:
            problems.append(f"{where} attaches {arn}, a policy no resource of this stack declares, so what it grants "
                            f"cannot be read")
    return problems


def _validate(args: StackValidationArgs, report_violation: Any) -> None:
    config = args.get_config()
    declared = _declared(args.resources)
    for r in args.resources:
        if allowlisted(config, r.urn):
            continue
        for problem in _problems(r, declared):
            report_violation(f"{r.name}: {problem}. Fix: {REMEDIATION}.", r.urn)


POLICY = StackValidationPolicy(
    name=NAME,
    description="Every grant of access is readable by the pack (no commands, dynamic providers, remote templates, "
                "or policies declared elsewhere) unless allowlisted.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=guarded(_validate),
    config_schema=PolicyConfigSchema(properties={"allowlist": ALLOWLIST_SCHEMA}),
    remediation_steps=REMEDIATION,
)
