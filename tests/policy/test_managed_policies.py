"""AWS managed policies judged by their documents (moto's copy), on every type that attaches one; one row per case."""

from __future__ import annotations

import pytest

from policy.rules import AWS_MANAGED, NO_FULL_ACCESS

from .cases import check

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
LAMBDA_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
# C14: every type that attaches a managed policy (pulumi-aws, aws-native), with the property holding the ARN(s)
ATTACHING = [
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "policyArn", False),
    ("aws:iam/userPolicyAttachment:UserPolicyAttachment", "policyArn", False),
    ("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "policyArn", False),
    ("aws:iam/policyAttachment:PolicyAttachment", "policyArn", False),
    ("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "policyArns", True),
    ("aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive", "policyArns", True),
    ("aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive", "policyArns", True),
    ("aws:iam/role:Role", "managedPolicyArns", True),
    ("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment", "managedPolicyArn", False),
    ("aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive", "managedPolicyArns", True),
    ("aws:quicksight/iamPolicyAssignment:IamPolicyAssignment", "policyArn", False),
    ("aws-native:iam:Role", "managedPolicyArns", True),
    ("aws-native:iam:User", "managedPolicyArns", True),
    ("aws-native:iam:Group", "managedPolicyArns", True),
    ("aws-native:sso:PermissionSet", "managedPolicies", True),
]
# (policy ARN, the mandatory rule's message holds this ("" when not violated), AWS-managed advisory)
MANAGED_ARNS = [
    (ADMIN, "every action", False),
    ("arn:aws:iam::aws:policy/AmazonSQSFullAccess", "every action of a service: 'sqs:*'", False),
    ("arn:aws:iam::aws:policy/PowerUserAccess", "NotAction", False),
    ("arn:aws:iam::aws:policy/AdministratorAccess-Amplify", "every action of a service", False),
    ("arn:aws:iam::aws:policy/AdministratorAccess-AWSElasticBeanstalk", "every action of a service", False),
    ("arn:aws-us-gov:iam::aws:policy/AdministratorAccess", "every action", False),
    ("arn:aws:iam::aws:policy/NoSuchPolicyAnywhere", "cannot be read", False),
    (LAMBDA_ROLE, "", True),
    ("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "", True),
    ("arn:aws:iam::123456789012:policy/MyFullAccess", "", False),
]


@pytest.mark.parametrize(("typ", "key", "many"), ATTACHING)
@pytest.mark.parametrize(("arn", "full", "managed"), MANAGED_ARNS)
def test_managed_policy_attachments(typ: str, key: str, many: bool, arn: str, full: str, managed: bool) -> None:
    props = {key: ["arn:aws:iam::123456789012:policy/mine", arn] if many else arn}
    found = check(NO_FULL_ACCESS, typ, props)
    assert (len(found) == 1 and full in found[0] and "per moto" in found[0]) if full else found == [], found
    assert bool(check(AWS_MANAGED, typ, props)) is managed


def test_no_managed_policy_passes() -> None:
    assert check(NO_FULL_ACCESS, "aws:iam/role:Role", {"managedPolicyArns": []}) == []
    assert check(NO_FULL_ACCESS, "aws:iam/role:Role", {"name": "r"}) == []
