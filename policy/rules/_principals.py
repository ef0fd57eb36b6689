"""Who a statement lets in: its principals judged with its conditions.

Principals (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html): ``"*"``
and ``{"AWS": "*"}`` are everyone; an account id or an ARN in another account is that account; ``Service`` is an
AWS service; ``Federated`` is whoever the identity provider vouches for. ``NotPrincipal`` with Allow is everyone
else. A condition restricts who only when it names the caller or its origin (RESTRICTING_KEYS) with an operator
that fails when the key is absent (not ``...IfExists``, not ``Null``) and values that do not match everything:
``StringLike aws:PrincipalArn "*"`` counts as no condition
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
"""

from __future__ import annotations

import re
from typing import Any

from ._common import as_list
from ._glob import has_wildcard

ACCOUNT = re.compile(r"^\d{12}$")
RESTRICTING_KEYS = frozenset({"aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:sourceaccount",
                              "aws:sourcearn", "aws:sourceowner", "aws:sourceorgid", "aws:sourcevpc", "aws:sourcevpce",
                              "aws:principalorgpaths", "aws:sourceorgpaths", "aws:userid", "aws:sourceip"})
"""Global condition keys that name the caller, its account or organization, or where the request comes from."""
POSITIVE_OPERATORS = re.compile(r"^(foranyvalue:)?((string|arn)(equals|like)|ipaddress)$", re.IGNORECASE)
"""Operators that fail when the key is absent. ``ForAllValues:`` passes on an absent key, so it restricts nothing."""
EVERY_ADDRESS = frozenset({"0.0.0.0/0", "::/0"})
GITHUB = "token.actions.githubusercontent.com"
GITHUB_SUBJECT = re.compile(r"^repo:(?P<owner>[^/:]*)/(?P<repo>[^:]*)(:|$)")


def accounts_in(value: Any) -> set[str]:
    """Every exact 12-digit account named in ARNs within ``value`` (the owner of the resources a policy is on)."""
    found: set[str] = set()
    for text in as_list(value):
        parts = str(text).split(":")
        if len(parts) > 4 and parts[0] == "arn" and ACCOUNT.match(parts[4]):
            found.add(parts[4])
    return found


def matches_everything(value: str) -> bool:
    """A condition value that any caller satisfies: only wildcards, or wildcards where an account or org goes."""
    text = value.strip()
    if not text.replace("*", "").replace("?", "") or text in EVERY_ADDRESS:
        return True
    parts = text.split(":")
    return text.startswith("arn:") and len(parts) > 4 and has_wildcard(parts[4]) and parts[4].strip("*?") == ""


IDENTIFIERS = frozenset({"aws:principalorgid", "aws:principalaccount", "aws:sourceaccount", "aws:sourceowner",
                         "aws:sourceorgid", "aws:userid", "aws:sourcevpc", "aws:sourcevpce"})
"""Keys whose value is an identifier: any wildcard in it (``o-*``) lets in every organization, account or VPC."""
ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn"})


def _meaningful(key: str, value: str) -> bool:
    """Whether a condition value on ``key`` narrows who: not everything, no wildcard in an identifier, an ARN's
    account exact."""
    if matches_everything(value):
        return False
    if key in IDENTIFIERS:
        return not has_wildcard(value)
    if key in ARN_KEYS:
        parts = value.split(":")
        return len(parts) > 4 and not has_wildcard(parts[4]) and (bool(parts[4]) or parts[2] in ("s3", "sns"))
    return True


def condition_values(statement: dict[str, Any], key: str) -> list[str] | None:
    """The values a meaningful condition on ``key`` allows, or None when no condition restricts it."""
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return None
    for operator, tests in condition.items():
        if not (isinstance(tests, dict) and POSITIVE_OPERATORS.match(str(operator))):
            continue
        for name, values in tests.items():
            texts = [str(v) for v in as_list(values)]
            if str(name).lower() == key and texts and all(_meaningful(key, v) for v in texts):
                return texts
    return None


def restricted(statement: dict[str, Any], keys: frozenset[str] = RESTRICTING_KEYS) -> bool:
    return any(condition_values(statement, key) is not None for key in keys)


def principals(statement: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) of every principal a statement names: kind AWS, Service, Federated, CanonicalUser or "*"."""
    found: list[tuple[str, str]] = []
    for key in ("Principal", "NotPrincipal"):
        value = statement.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            found += [("*", str(v)) for v in as_list(value)]
            continue
        for kind, names in value.items():
            found += [(str(kind), str(n)) for n in as_list(names)]
    return found


def outsider(kind: str, value: str, own: set[str]) -> str | None:
    """Why a principal is outside the owner's accounts: "everyone", "account N", or None."""
    text = value.strip()
    if kind == "*" or text == "*" or (kind in ("AWS", "Service", "CanonicalUser") and matches_everything(text)):
        return "everyone"
    if kind == "Service" and has_wildcard(text):
        return "every service that matches"
    if kind == "AWS":
        account = text if ACCOUNT.match(text) else (text.split(":")[4] if text.count(":") >= 5 else "")
        if has_wildcard(account):
            return "every account"
        if account and own and account not in own:
            return f"account {account}"
    if kind == "CanonicalUser":
        return "another account (a canonical user)"
    return None


def github_subject_problem(statement: dict[str, Any], issuer: str = GITHUB) -> str | None:
    """Why a GitHub OIDC trust lets in more than named repositories, or None.

    GitHub's token carries ``sub`` = ``repo:OWNER/REPO:...``; a trust must pin owner and repository
    (https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services)."""
    subjects = condition_values(statement, f"{issuer}:sub")
    if subjects is None:
        return f"no condition on {issuer}:sub: every GitHub repository's workflows may assume it"
    for subject in subjects:
        match = GITHUB_SUBJECT.match(subject)
        if match is None or has_wildcard(match["owner"]) or has_wildcard(match["repo"]) or not match["repo"]:
            return f"{issuer}:sub {subject!r} does not pin one owner/repository"
    return None


def federated_problem(provider: str, statement: dict[str, Any]) -> str | None:
    """Why a federated principal's statement lets in anyone the provider knows, or None."""
    host = provider.split("oidc-provider/", 1)[-1].lower()
    if has_wildcard(provider):
        return f"federated principal {provider!r} is a pattern"
    if GITHUB in host:  # github.com's issuer, or an enterprise's (token.actions.githubusercontent.com/SLUG)
        return github_subject_problem(statement, host)
    keys = ("saml:aud", "saml:sub") if ":saml-provider/" in provider else (f"{host}:aud", f"{host}:sub",
                                                                            f"{host}:app_id", f"{host}:oaud")
    if any(condition_values(statement, k) is not None for k in keys):
        return None
    return f"federated principal {provider!r} without a condition on {' or '.join(keys[:2])}: anyone it vouches for"
