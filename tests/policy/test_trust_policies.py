"""role-trust-policy: who may assume a role, on any provider; one row per trust shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy.rules import TRUST_POLICIES

from .cases import check, doc

GH = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
AUD = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}


def trust(principal: Any, condition: dict[str, Any] | None = None, key: str = "Principal") -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", key: principal, "Action": "sts:AssumeRole"}
    if condition is not None:
        st["Condition"] = condition
    return st


def github(subject: Any, operator: str = "StringLike") -> dict[str, Any]:
    st = trust({"Federated": GH}, {"StringEquals": AUD, operator: {"token.actions.githubusercontent.com:sub": subject}})
    st["Action"] = "sts:AssumeRoleWithWebIdentity"
    return st


# (statement, expected substring or "" for compliant)
CASES = [
    (trust({"Service": "lambda.amazonaws.com"}), ""),
    (trust({"Service": ["states.amazonaws.com", "lambda.amazonaws.com"]}), ""),
    (trust("*"), "lets everyone assume the role"),
    (trust({"AWS": "*"}), "lets everyone assume the role"),
    (trust({"AWS": "arn:aws:iam::*:root"}), "lets everyone"),
    (trust({"AWS": "*"}, {"StringLike": {"aws:PrincipalArn": "*"}}), "lets everyone"),
    (trust({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}), ""),
    (trust({"AWS": "*"}, {"StringEquals": {"sts:ExternalId": "k"}}), "lets everyone"),
    (trust({"AWS": "arn:aws:iam::210987654321:root"}), "without sts:ExternalId"),
    (trust({"AWS": "210987654321"}, {"StringEquals": {"sts:ExternalId": "c0ffee"}}), ""),
    (trust({"AWS": "210987654321"}, {"StringLike": {"sts:ExternalId": "*"}}), "without sts:ExternalId"),
    (trust({"AWS": "arn:aws:iam::123456789012:role/ci"}), ""),
    (trust({"Service": "lambda.amazonaws.com"}, key="NotPrincipal"), "NotPrincipal"),
    (github("repo:acme/orders:ref:refs/heads/main", "StringEquals"), ""),
    (github("repo:acme/orders:*"), ""),
    (github(["repo:acme/orders:environment:prod", "repo:acme/orders:ref:refs/heads/main"]), ""),
    (github("repo:*"), "does not pin one owner/repository"),
    (github("repo:acme/*"), "does not pin one owner/repository"),
    (github("*"), "no condition on token.actions.githubusercontent.com:sub"),  # "*" counts as none
    (github("repo:acme/orders:*", "StringLikeIfExists"), "no condition on token.actions.githubusercontent.com:sub"),
    ({**trust({"Federated": GH}, {"StringEquals": AUD}), "Action": "sts:AssumeRoleWithWebIdentity"},
     "no condition on token.actions.githubusercontent.com:sub"),
    ({**trust({"Federated": GH + "/acme"}, {"StringEquals": {"token.actions.githubusercontent.com/acme:aud":
                                                              "sts.amazonaws.com"}}),
      "Action": "sts:AssumeRoleWithWebIdentity"}, "no condition on token.actions.githubusercontent.com/acme:sub"),
    (github("repo:acme/orders*"), "does not pin one owner/repository"),
    (trust({"Federated": "cognito-identity.amazonaws.com"},
           {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:1234"}}), ""),
    (trust({"Federated": "cognito-identity.amazonaws.com"}), "without a condition"),
    (trust({"Federated": "arn:aws:iam::123456789012:saml-provider/corp"}), "without a condition on saml:aud"),
    (trust({"Federated": "arn:aws:iam::123456789012:saml-provider/corp"},
           {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}), ""),
]
# (type, property of the trust policy, as a JSON string)
PLACES = [("aws:iam/role:Role", "assumeRolePolicy", True), ("aws-native:iam:Role", "assumeRolePolicyDocument", False)]


@pytest.mark.parametrize(("st", "expected"), CASES)
@pytest.mark.parametrize(("typ", "key", "as_string"), PLACES)
def test_trust_policies(typ: str, key: str, as_string: bool, st: dict[str, Any], expected: str) -> None:
    document = doc(st)
    found = check(TRUST_POLICIES, typ, {"arn": "arn:aws:iam::123456789012:role/r",
                                        key: json.dumps(document) if as_string else document})
    if expected:
        assert len(found) == 1 and expected in found[0], found
    else:
        assert found == []


def test_another_account_is_judged_without_knowing_ours() -> None:
    """In a first preview the role's ARN is unknown: an account principal without ExternalId is refused."""
    found = check(TRUST_POLICIES, "aws:iam/role:Role",
                  {"assumeRolePolicy": json.dumps(doc(trust({"AWS": "arn:aws:iam::123456789012:role/ci"})))})
    assert len(found) == 1 and "without sts:ExternalId" in found[0]
