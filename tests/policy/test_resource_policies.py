"""resource-policy-exposure: resource-based policies of every service, on any provider, judged by who they let in.

Two tables: the places a resource-based policy lives (each judged with the same open statement and a closed one),
and the principal/condition shapes (each judged on an SQS queue policy)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy.rules import RESOURCE_EXPOSURE

from .cases import Q, check, doc

OWN = "123456789012"


def statement(principal: Any, condition: dict[str, Any] | None = None, effect: str = "Allow",
              key: str = "Principal") -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": effect, key: principal, "Action": "sqs:SendMessage", "Resource": Q}
    if condition is not None:
        st["Condition"] = condition
    return st


OPEN = doc(statement("*"))
CLOSED = doc(statement({"AWS": f"arn:aws:iam::{OWN}:role/producer"}))
# (resource type, property, the policy as a JSON string or an object)
PLACES = [
    ("aws:sqs/queuePolicy:QueuePolicy", "policy", True),
    ("aws:sqs/queue:Queue", "policy", True),
    ("aws:sns/topicPolicy:TopicPolicy", "policy", True),
    ("aws:sns/topic:Topic", "policy", True),
    ("aws:kms/key:Key", "policy", True),
    ("aws:kms/keyPolicy:KeyPolicy", "policy", True),
    ("aws:s3/bucketPolicy:BucketPolicy", "policy", True),
    ("aws:secretsmanager/secretPolicy:SecretPolicy", "policy", True),
    ("aws:ecr/repositoryPolicy:RepositoryPolicy", "policy", True),
    ("aws:dynamodb/resourcePolicy:ResourcePolicy", "policy", True),
    ("aws:cloudwatch/eventBusPolicy:EventBusPolicy", "policy", True),
    ("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "policyDocument", True),
    ("aws:opensearch/domainPolicy:DomainPolicy", "accessPolicies", True),
    ("aws-native:sqs:QueuePolicy", "policyDocument", False),
    ("aws-native:sns:TopicPolicy", "policyDocument", False),
    ("aws-native:s3:BucketPolicy", "policyDocument", False),
    ("aws-native:kms:Key", "keyPolicy", False),
    ("aws-native:secretsmanager:ResourcePolicy", "resourcePolicy", False),
    ("aws-native:ecr:Repository", "repositoryPolicyText", False),
    ("some-provider:index:Bucket", "accessPolicy", True),
]


@pytest.mark.parametrize(("typ", "key", "as_string"), PLACES)
def test_every_place_a_resource_policy_lives(typ: str, key: str, as_string: bool) -> None:
    def props(document: dict[str, Any]) -> dict[str, Any]:
        return {key: json.dumps(document) if as_string else document}

    (found,) = check(RESOURCE_EXPOSURE, typ, props(OPEN))
    assert f"res: {key}: statement 0 lets everyone" in found and "sqs:SendMessage" in found
    assert check(RESOURCE_EXPOSURE, typ, props(CLOSED)) == []


ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
# (statement, expected substring or "" for compliant)
PRINCIPALS = [
    (statement("*"), "lets everyone"),
    (statement({"AWS": "*"}), "lets everyone"),
    (statement({"AWS": ["arn:aws:iam::123456789012:role/a", "*"]}), "lets everyone"),
    (statement({"AWS": "arn:aws:iam::*:root"}), "lets everyone"),
    (statement({"AWS": "210987654321"}), "lets account 210987654321"),
    (statement({"AWS": "arn:aws:iam::210987654321:role/partner"}), "lets account 210987654321"),
    (statement({"AWS": f"arn:aws:iam::{OWN}:root"}), ""),
    (statement({"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}),
     "another account"),
    (statement({"Service": "sns.amazonaws.com"},
               {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:orders"}}), ""),
    (statement({"Service": "*"}), "lets everyone"),
    (statement("*", ORG), ""),
    (statement("*", {"StringEquals": {"aws:SourceAccount": OWN}}), ""),
    (statement("*", {"StringLike": {"aws:PrincipalArn": "*"}}), "lets everyone"),
    (statement("*", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}), "lets everyone"),
    (statement("*", {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}), "lets everyone"),
    (statement("*", {"Null": {"aws:PrincipalOrgID": "false"}}), "lets everyone"),
    (statement("*", {"StringNotEquals": {"aws:PrincipalOrgID": "o-other"}}), "lets everyone"),
    (statement("*", {"Bool": {"aws:SecureTransport": "true"}}), "lets everyone"),
    (statement("*", {"StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5", "*"]}}), "lets everyone"),
    (statement({"AWS": "arn:aws:iam::123456789012:role/a"}, key="NotPrincipal"), "NotPrincipal"),
    (statement("*", effect="Deny"), ""),
    (statement("*", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), ""),
    (statement("*", {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), "lets everyone"),
    (statement("*", {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}), "lets everyone"),
    (statement({"Service": "*.amazonaws.com"}), "every service that matches"),
    (statement("*", {"StringLike": {"aws:PrincipalOrgID": "o-*"}}), "lets everyone"),
    (statement("*", {"StringLike": {"aws:SourceAccount": "1234567890??"}}), "lets everyone"),
    (statement("*", {"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:*:orders"}}), "lets everyone"),
    (statement("*", {"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:orders-*"}}), ""),
    (statement("*", {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::orders-bucket"}}), ""),
]
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# grants outside policy documents: (type, props, expected)
OTHERS = [
    ("aws:s3/bucketAclV2:BucketAclV2", {"bucket": "orders", "acl": "public-read"}, "canned ACL 'public-read'"),
    ("aws:s3/bucketAclV2:BucketAclV2", {"bucket": "orders", "acl": "private"}, ""),
    ("aws:s3/bucketAclV2:BucketAclV2", {"bucket": "orders", "accessControlPolicy": {"grants": [{"grantee": {
        "type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}, "permission": "READ"}]}},
     "AllUsers"),
    ("aws:kms/grant:Grant", {"keyId": KEY, "granteePrincipal": "arn:aws:iam::210987654321:role/x",
                             "operations": ["Decrypt"]}, "lets account 210987654321"),
    ("aws:kms/grant:Grant", {"keyId": KEY, "granteePrincipal": "arn:aws:iam::123456789012:role/worker",
                             "operations": ["Decrypt", "CreateGrant"]}, "grant the key onward"),
    ("aws:kms/grant:Grant", {"keyId": KEY, "granteePrincipal": "arn:aws:iam::123456789012:role/worker",
                             "operations": ["Decrypt"]}, ""),
]


@pytest.mark.parametrize(("typ", "props", "expected"), OTHERS)
def test_acls_and_key_grants(typ: str, props: dict[str, Any], expected: str) -> None:
    found = check(RESOURCE_EXPOSURE, typ, props)
    if expected:
        assert len(found) == 1 and expected in found[0], found
    else:
        assert found == []


@pytest.mark.parametrize(("st", "expected"), PRINCIPALS)
def test_principals_are_judged_with_their_conditions(st: dict[str, Any], expected: str) -> None:
    found = check(RESOURCE_EXPOSURE, "aws:sqs/queuePolicy:QueuePolicy", {"policy": json.dumps(doc(st))})
    if expected:
        assert len(found) == 1 and expected in found[0], found
    else:
        assert found == []


FN = f"arn:aws:lambda:us-east-1:{OWN}:function:orders"
# Lambda's grants outside documents: (type, props, expected)
LAMBDA = [
    ("aws:lambda/permission:Permission", {"function": FN, "principal": "*", "action": "lambda:InvokeFunction"},
     "lets everyone"),
    ("aws:lambda/permission:Permission", {"function": FN, "principal": "*", "principalOrgId": "o-a1b2c3d4e5"}, ""),
    ("aws:lambda/permission:Permission", {"function": FN, "principal": "s3.amazonaws.com",
                                          "sourceArn": "arn:aws:s3:::orders"}, ""),
    ("aws:lambda/permission:Permission", {"function": FN, "principal": "210987654321"}, "account 210987654321"),
    ("aws:lambda/permission:Permission", {"function": FN, "principal": "*", "sourceArn": "*"}, "lets everyone"),
    ("aws:lambda/permission:Permission", {"function": FN, "principal": "*", "sourceArn": "arn:aws:s3:::*"},
     "lets everyone"),
    ("aws:lambda/permission:Permission", {"function": FN, "principal": OWN}, ""),
    ("aws:lambda/permission:Permission", {"function": FN, "principal": "*", "functionUrlAuthType": "NONE"},
     "lets everyone"),
    ("aws-native:lambda:Permission", {"functionName": FN, "principal": "*", "action": "lambda:InvokeFunction"},
     "lets everyone"),
    ("aws:lambda/functionUrl:FunctionUrl", {"functionName": "orders", "authorizationType": "NONE"},
     "authorization type NONE"),
    ("aws:lambda/functionUrl:FunctionUrl", {"functionName": "orders", "authorizationType": "AWS_IAM"}, ""),
    ("aws-native:lambda:Url", {"targetFunctionArn": FN, "authType": "NONE"}, "authorization type NONE"),
    ("aws:lambda/layerVersionPermission:LayerVersionPermission",
     {"layerName": "shared", "versionNumber": 1, "principal": "*", "action": "lambda:GetLayerVersion"},
     "lets everyone"),
    ("aws:lambda/layerVersionPermission:LayerVersionPermission",
     {"layerName": "shared", "versionNumber": 1, "principal": "*", "organizationId": "o-a1b2c3d4e5"}, ""),
]


@pytest.mark.parametrize(("typ", "props", "expected"), LAMBDA)
def test_lambda_permissions_and_urls(typ: str, props: dict[str, Any], expected: str) -> None:
    found = check(RESOURCE_EXPOSURE, typ, props)
    if expected:
        assert len(found) == 1 and expected in found[0], found
    else:
        assert found == []
