"""iam-privilege-escalation: danger judged by what the actions are, however exact the ARNs; one row per case."""

from __future__ import annotations

from typing import Any

import pytest

from policy.rules import IAM_ESCALATION

from .cases import Q, allow, check, doc

ROLE = "arn:aws:iam::123456789012:role/orderflow-dev-inventory-worker-role"
ADMIN_ROLE = "arn:aws:iam::123456789012:role/admin"
FN = "arn:aws:lambda:us-east-1:123456789012:function:orders-worker"
# (statements, expected: a substring of the one message, or "" for compliant)
CASES: list[tuple[list[dict[str, Any]], str]] = [
    ([allow("iam:PutRolePolicy", ROLE)], "privilege escalation (PutRolePolicy"),
    ([allow("iam:*Policy*", ROLE)], "privilege escalation"),
    ([allow("iam:AttachRolePolicy", ROLE)], "AttachRolePolicy"),
    ([allow("iam:CreatePolicyVersion", "arn:aws:iam::123456789012:policy/worker")], "CreateNewPolicyVersion"),
    ([allow("iam:UpdateAssumeRolePolicy", ROLE)], "UpdateRolePolicyToAssumeIt"),
    ([allow("iam:CreateAccessKey", "arn:aws:iam::123456789012:user/admin")], "credentials (iam:createaccesskey)"),
    ([allow("iam:PassRole", ADMIN_ROLE), allow("lambda:UpdateFunctionConfiguration", FN)], "iam:passrole"),
    ([allow("iam:PassRole", ADMIN_ROLE), allow(["lambda:CreateFunction", "lambda:InvokeFunction"], FN)],
     "PassExistingRoleToNewLambdaThenInvoke"),
    ([allow("lambda:UpdateFunctionCode", FN)], "EditExistingLambdaFunctionWithRole"),
    ([allow("sts:AssumeRole", "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole")],
     "credentials (sts:assumerole)"),
    ([allow("organizations:LeaveOrganization", "*")], "account-wide switches (organizations:leaveorganization)"),
    ([allow("s3:PutAccountPublicAccessBlock", "*")], "account-wide switches (s3:putaccountpublicaccessblock)"),
    ([allow("sqs:AddPermission", Q)], "resource exposure (sqs:addpermission)"),
    ([allow("sqs:SetQueueAttributes", Q)], "sqs:setqueueattributes"),  # it sets the queue's Policy attribute too
    ([allow("kms:CreateGrant", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")],
     "resource exposure (kms:creategrant)"),
    ([allow("secretsmanager:PutResourcePolicy", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-??????")],
     "secretsmanager:putresourcepolicy"),
    ([allow("ecr:SetRepositoryPolicy", "arn:aws:ecr:us-east-1:123456789012:repository/api")], "ecr:setrepositorypolicy"),
    ([{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}], "every action"),
    ([allow("*", "*")], "every action"),
    ([{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}], ""),
    ([allow(["sqs:ReceiveMessage", "sqs:DeleteMessage"], Q)], ""),
    ([allow(["logs:CreateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies"], "*")], ""),
    ([allow("logs:PutResourcePolicy", "*")], "logs:putresourcepolicy"),
    ([allow(["states:SendTaskSuccess", "states:SendTaskFailure"], "*")], ""),
]


@pytest.mark.parametrize(("statements", "expected"), CASES)
@pytest.mark.parametrize("typ", ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"])
def test_danger_is_mandatory_even_on_an_exact_arn(typ: str, statements: list[dict[str, Any]], expected: str) -> None:
    found = check(IAM_ESCALATION, typ, {"policy": doc(*statements)})
    if expected:
        assert len(found) == 1 and expected in found[0], found
        assert "Fix:" in found[0]
    else:
        assert found == []


def test_a_deploy_role_is_allowlisted_by_urn_with_its_reason() -> None:
    props = {"policy": doc(allow("iam:PutRolePolicy", ROLE))}
    entry = {"resource": "aws:iam/policy:Policy::res", "reason": "the deploy role writes the stack's roles"}
    assert check(IAM_ESCALATION, "aws:iam/policy:Policy", props, {"allowlist": [entry]}) == []
    assert check(IAM_ESCALATION, "aws:iam/rolePolicy:RolePolicy", props, {"allowlist": [entry]}) != []
