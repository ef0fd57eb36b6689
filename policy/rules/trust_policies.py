"""Rule: a role's trust policy lets in only named principals, on any provider.

Trust policies are found by their property (:mod:`_documents`: ``assumeRolePolicy``, aws-native's and
CloudFormation's ``AssumeRolePolicyDocument``). Refused, unless a condition names who (:mod:`_principals`):
``"*"`` or ``{"AWS": "*"}``; another account without ``sts:ExternalId`` (the confused deputy:
https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html); a federated identity provider without a
condition on its audience or subject; GitHub's OIDC provider without ``sub`` pinned to an owner and repository.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy

from ._common import ALLOWLIST_SCHEMA, allowlisted, as_list, raw_props
from ._documents import grants
from ._guard import guarded
from ._principals import (
    ACCOUNT,
    accounts_in,
    condition_values,
    federated_problem,
    outsider,
    principals,
    restricted,
)

NAME = "role-trust-policy"
REMEDIATION = ("trust an AWS service, this account's named roles, another account only with sts:ExternalId, and an "
               "identity provider only with conditions on its audience and subject")
WHO = frozenset({"aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:userid"})


def _names_an_account(value: str) -> bool:
    """An account id, or an ARN in an account: another account unless the role's own ARN says otherwise."""
    return bool(accounts_in([value])) or bool(ACCOUNT.match(value.strip()))


def trust_problems(document: Any, own: set[str]) -> Iterator[str]:
    if not isinstance(document, dict):
        yield "is not a JSON policy document"
        return
    for index, st in enumerate(as_list(document.get("Statement"))):
        if not isinstance(st, dict) or st.get("Effect") == "Deny":
            continue
        where = f"statement {st.get('Sid') or index}"
        if "NotPrincipal" in st:
            yield f"{where} trusts with NotPrincipal (everyone but the principals named)"
            continue
        for kind, value in principals(st):
            if kind == "Federated":
                problem = federated_problem(value, st)
                if problem:
                    yield f"{where}: {problem}"
                continue
            who = outsider(kind, value, own)
            if who in ("everyone", "every account") and not restricted(st, WHO):
                yield f"{where} lets {who} assume the role ({kind}: {value!r}), with no condition naming who"
            elif kind == "AWS" and (who or (not own and _names_an_account(value))) \
                    and condition_values(st, "sts:externalid") is None and not restricted(st, WHO):
                yield f"{where} trusts {value!r} (another account) without sts:ExternalId"


def validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    if allowlisted(args.get_config(), args.urn):
        return
    own = accounts_in([v for k, v in raw_props(args).items() if str(k).lower().endswith("arn")])
    for document in grants(args).of_kind("trust"):
        for problem in trust_problems(document.document, own):
            report_violation(f"{args.name}: {document.where}: {problem}. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name=NAME,
    description="Role trust policies let in only named principals (no \"*\", ExternalId for other accounts, pinned OIDC).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=guarded(validate),
    config_schema=PolicyConfigSchema(properties={"allowlist": ALLOWLIST_SCHEMA}),
    remediation_steps=REMEDIATION,
)
