"""Rule: no identity policy grants privilege escalation, resource exposure, credentials or account-wide switches,
however exact its ARNs.

Judged by what the policy's actions are (patterns expanded in AWS's action database), from maintained data
(:mod:`_iamdata`): cloudsplaining's privilege-escalation methods (each a set of actions that together let a
principal gain permissions it was not given, e.g. ``iam:PutRolePolicy`` alone, or ``iam:PassRole`` with
``lambda:CreateFunction`` and ``lambda:InvokeFunction``) and its credential-returning actions (``sts:AssumeRole``,
``iam:CreateAccessKey``); resource exposure (policy_sentry's "Permissions management" level and IAM's "Write"
actions: they change who may do what); and account-wide switches (a resource-less action of that kind or of the
account's organization, e.g. ``s3:PutAccountPublicAccessBlock``, ``organizations:LeaveOrganization``). An exact ARN
does not make them safe: ``iam:PutRolePolicy`` on the role that holds the policy rewrites its own permissions.
A deploy role that must hold such actions is allowlisted by URN with the reason.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy

from . import _iamdata
from ._common import ALLOWLIST_SCHEMA, allowlisted, as_list, has_wildcard
from ._documents import grants
from ._guard import guarded
from .iam_scoping import expand

NAME = "iam-privilege-escalation"
REMEDIATION = ("grant no permission-changing, credential or escalation action to a workload role; if a deploy role "
               "must hold one, allowlist that resource by URN with the reason")
ACCOUNT_SERVICES = frozenset({"organizations", "account"})
LOG_DELIVERY = frozenset({"logs:putresourcepolicy"})
"""Granted beside ``logs:CreateLogDelivery``, the log group resource policy Step Functions and other vended-log
sources need to deliver logs; AWS documents it in the role policy for logging
(https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html, "IAM Policies for logging to CloudWatch Logs")."""


def granted(document: Any) -> set[str]:
    """Every action an identity policy document allows (patterns expanded; NotAction counts as every action)."""
    actions: set[str] = set()
    if not isinstance(document, dict):
        return actions
    for st in as_list(document.get("Statement")):
        if not isinstance(st, dict) or st.get("Effect") == "Deny":
            continue
        if "NotAction" in st:
            actions.add("*")
        for action in map(str, as_list(st.get("Action"))):
            service = action.split(":", 1)[0].lower()
            if action.strip() == "*" or has_wildcard(service):
                actions.add("*")
            else:
                actions.update(expand(action))
    return actions


def _account_wide(action: str) -> bool:
    level = _iamdata.access_level(action)
    return _iamdata.resource_less(action) and (level == _iamdata.PERMISSIONS_MANAGEMENT or (
        level == _iamdata.WRITE and action.split(":", 1)[0] in ACCOUNT_SERVICES))


def dangers(actions: set[str]) -> list[str]:
    """What a set of granted actions allows, one phrase per kind of danger."""
    if "*" in actions:
        return ["every action, so every escalation"]
    if "logs:createlogdelivery" in actions:
        actions = actions - LOG_DELIVERY
    methods = sorted(name for name, needed in _iamdata.escalation_methods().items() if needed <= actions)
    found = [f"privilege escalation ({', '.join(methods[:4])}{' ...' if len(methods) > 4 else ''}: "
             f"{', '.join(sorted(set().union(*(_iamdata.escalation_methods()[m] for m in methods)))[:6])})"] \
        if methods else []
    credentials = sorted(actions & _iamdata.credential_actions())
    if credentials:
        found.append(f"credentials ({', '.join(credentials)})")
    exposure = sorted(a for a in actions if _iamdata.exposes_resources(a) and not _account_wide(a))
    if exposure:
        found.append(f"resource exposure ({', '.join(exposure[:6])}{' ...' if len(exposure) > 6 else ''})")
    switches = sorted(a for a in actions if _account_wide(a))
    if switches:
        found.append(f"account-wide switches ({', '.join(switches)})")
    return found


def validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    if allowlisted(args.get_config(), args.urn):
        return
    for document in grants(args).of_kind("identity"):
        found = dangers(granted(document.document))
        if found:
            report_violation(f"{args.name}: {document.where} grants {'; '.join(found)}. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name=NAME,
    description="Identity policies grant no privilege escalation, resource exposure, credentials or account switches.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=guarded(validate),
    config_schema=PolicyConfigSchema(properties={"allowlist": ALLOWLIST_SCHEMA}),
    remediation_steps=REMEDIATION,
)
