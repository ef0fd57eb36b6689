"""iam-least-privilege: identity policies grant exact actions on exact ARNs; one row per case.

Action patterns are judged by the actions they match, resource patterns by AWS's ARN formats per resource type."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy.rules import IAM_SCOPING

from .cases import Q, allow, check, doc

ESM = "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:"
# (statement, violation expected: a substring of the message, or "" for compliant)
IAM_CASES = [
    (allow("sqs:SendMessage", Q), ""),
    (allow(["sqs:ReceiveMessage", "sqs:DeleteMessage"], [Q]), ""),
    (allow("sqs:SendMessage", "*"), "support resource-level permissions"),
    (allow("SQS:SENDMESSAGE", "*"), "support resource-level permissions"),
    (allow("sqs:*", Q), "every action of a service"),
    (allow("*", "*"), "every action of a service"),
    (allow("dynamodb:Put*", "*"), "support resource-level permissions"),
    (allow("dynamodb:Put*", "arn:aws:dynamodb:us-east-1:123456789012:table/inventory"), "change permissions"),
    (allow("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/inventory"), ""),
    (allow("sqs:SendMessage", "arn:aws:sqs:*:*:*"), "support resource-level permissions"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:*"), "support resource-level permissions"),
    (allow("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/*"), "resource-level"),
    (allow("states:SendTaskSuccess", "*"), ""),
    (allow(["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"], "*"), ""),
    (allow(["logs:CreateLogDelivery", "logs:GetLogDelivery"], "*"), ""),
    (allow("logs:*LogDelivery", "*"), ""),
    (allow("logs:*Delivery", "*"), "logs:createdelivery"),  # also covers resource-scoped delivery actions
    (allow("xray:PutTraceSegments", "*"), ""),
    (allow("iam:PassRole", "*"), "iam:PassRole"),
    (allow("iam:PassRole", "arn:aws:iam::123456789012:role/*"), "iam:PassRole"),
    (allow("iam:PassRole", "arn:aws:iam::123456789012:role/worker"), ""),
    ({"Effect": "Allow", "NotAction": "iam:*", "Resource": Q}, "NotAction"),
    ({"Effect": "Allow", "Action": "sqs:SendMessage", "NotResource": Q}, "NotResource"),
    ({"Effect": "Deny", "Action": "*", "Resource": "*"}, ""),
    ({"Effect": "Deny", "NotAction": "sqs:*", "Resource": "*"}, ""),
    # C21: "?" is a wildcard too, in any ARN segment; judged by what the pattern matches
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:?*"), "wildcard resource name '?*'"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:orders-?"), "wildcard resource name"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:orders-*"), "wildcard resource name"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:?????????????:orders"), "wildcard account"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-?:123456789012:orders"), "wildcard region"),
    (allow("sqs:SendMessage", "arn:aws:s?s:us-east-1:123456789012:orders"), "wildcard service"),
    (allow("sqs:SendMessage", "arn:*:sqs:us-east-1:123456789012:orders"), "wildcard partition"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:*"), "wildcard resource name '*'"),
    (allow("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/?*"), "wildcard resource name"),
    (allow("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:*/inventory"), "wildcard resource type"),
    (allow("dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/inventory/index/*"), ""),
    (allow("states:DescribeExecution", "arn:aws:states:us-east-1:123456789012:execution:orders:*"), ""),
    (allow("states:DescribeExecution", "arn:aws:states:us-east-1:123456789012:execution:?*:*"), "resource name"),
    (allow("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/w:*"), ""),
    (allow("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/*:*"), "resource name"),
    (allow("s3:GetObject", "arn:aws:s3:::orders-bucket/*"), ""),
    (allow("s3:GetObject", "arn:aws:s3:::orders-*/*"), "wildcard resource name"),
    (allow("iam:PassRole", "arn:aws:iam::123456789012:role/service-role/*"), "iam:PassRole"),
    (allow("iam:Pass?ole", "arn:aws:iam::123456789012:role/*"), "iam:PassRole"),
    (allow("iam:PassRole", "arn:aws:iam::123456789012:role/?orker"), "iam:PassRole"),
    (allow("sqs:Send?essage", "*"), "support resource-level permissions"),
    (allow("sqs:?*", Q), "every action of a service"),
    (allow("*:*", Q), "every action of a service"),
    (allow("s?s:SendMessage", Q), "every action of a service"),
    (allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:orders\n"), ""),
    # a mapping's UUID is assigned at creation: a read AWS gives no lambda:FunctionArn key for may name them all
    (allow("lambda:ListTags", f"{ESM}*"), ""),
    (allow("lambda:List*", f"{ESM}*"), "support resource-level permissions"),
    (allow("lambda:GetEventSourceMapping", f"{ESM}*"), "support resource-level permissions"),
    (allow("lambda:TagResource", f"{ESM}*"), "support resource-level permissions"),
    (allow("lambda:DeleteEventSourceMapping", f"{ESM}*"), "support resource-level permissions"),
    (allow("lambda:ListTags", "arn:aws:lambda:us-east-1:123456789012:function:*"), "support resource-level"),
]




# ARN formats as AWS defines them per service and resource type; (statement, expected)
ARN_FORMATS = [
    (allow(["apigateway:DELETE", "apigateway:PATCH"], "arn:aws:apigateway:us-east-1::/restapis/*"),
     "wildcard resource name '/restapis/*'"),
    (allow("apigateway:PATCH", "arn:aws:apigateway:us-east-1::/restapis/a1b2c3/*"), ""),
    (allow("apigateway:GET", "arn:aws:apigateway:us-east-1::/apis/*/routes/*"), "wildcard resource name"),
    (allow("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/prod/*"), "wildcard resource name"),
    (allow("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/prod/db/url"), ""),
    (allow("ssm:GetParameter", "arn:aws:ssm:us-east-1::parameter/aws/service/powertools/python/*"), ""),
    (allow("ecr:BatchGetImage", "arn:aws:ecr:us-east-1:123456789012:repository/platform/*"), "wildcard resource"),
    (allow("ecr:BatchGetImage", "arn:aws:ecr:us-east-1:123456789012:repository/platform/api"), ""),
    (allow("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/${aws:PrincipalTag/table}"),
     "wildcard resource name"),
    (allow("s3:GetObject", "arn:aws:s3:*:123456789012:accesspoint/orders"), "wildcard region"),
    (allow("s3:GetObject", "arn:aws:s3:us-east-1:123456789012:accesspoint/orders/object/*"), ""),
    (allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????"), ""),
    (allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-*"),
     "wildcard resource name"),
    (allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/*-??????"),
     "wildcard resource name"),
    (allow("kinesis:GetRecords", "arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/*"), ""),
    (allow("kinesis:GetRecords", "arn:aws:kinesis:us-east-1:123456789012:stream/ord*"), "wildcard resource name"),
    (allow("sns:Publish", "arn:aws:sns:us-east-1:123456789012:alerts-${aws:username}"), "wildcard resource name"),
    (allow("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:worker:*"), ""),
    (allow("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:work*"), "resource name"),
]
# Patterns judged by the actions they match; unknown actions; documented created-id resources
PATTERNS = [
    (allow("sqs:*a*", Q), "change permissions (sqs:addpermission"),
    (allow("iam:*Policy*", "arn:aws:iam::123456789012:role/worker"), "change permissions (iam:attachgrouppolicy"),
    (allow("kms:*Grant*", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
     "kms:creategrant"),
    (allow("s3:Put*", "arn:aws:s3:::orders-bucket"), "change permissions"),
    (allow("sqs:Receive*", Q), ""),
    (allow("codecommit:" + "*?" * 21 + "X", "arn:aws:codecommit:us-east-1:123456789012:repo"), ""),
    (allow("state:SendTaskSuccess", "*"), "an action AWS's action database does not define"),
    (allow("states:SendTaskSucess", "*"), "does not define"),
    (allow("state:SendTaskSuccess", "arn:aws:states:us-east-1:123456789012:stateMachine:m"), ""),
    (allow("ec2:CreateNetworkInterface", ["arn:aws:ec2:us-east-1:123456789012:network-interface/*",
                                          "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0a1b2c3d"]), ""),
    (allow("ec2:DeleteNetworkInterface", "arn:aws:ec2:us-east-1:123456789012:network-interface/*",
           Condition={"ArnEquals": {"ec2:Vpc": "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0a1b2c3d"}}), ""),
    (allow("ec2:DeleteNetworkInterface", "arn:aws:ec2:us-east-1:123456789012:network-interface/*"),
     "support resource-level permissions"),
    (allow("ec2:TerminateInstances", "arn:aws:ec2:us-east-1:123456789012:instance/*"), "resource-level"),
    (allow(["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], "*"), ""),
]
TYPES = ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy",
         "aws:iam/groupPolicy:GroupPolicy", "aws:iam/role:Role"]


@pytest.mark.parametrize(("statement", "expected"), IAM_CASES + ARN_FORMATS + PATTERNS)
@pytest.mark.parametrize("as_string", [True, False], ids=["json-string", "object"])
@pytest.mark.parametrize("typ", TYPES)
def test_iam_scoping(typ: str, as_string: bool, statement: dict[str, Any], expected: str) -> None:
    document: Any = doc(statement)
    document = json.dumps(document) if as_string else document
    props = {"inlinePolicies": [{"name": "inline", "policy": document}]} if typ == "aws:iam/role:Role" \
        else {"policy": document}
    found = check(IAM_SCOPING, typ, props)
    if expected:
        assert any(expected in m for m in found), found
        assert all(m.startswith("res:") and "Fix:" in m for m in found)
    else:
        assert found == []


URN = "urn:pulumi:dev::orderflow::aws:iam/rolePolicy:RolePolicy::res"
# (allowlist entry's resource, exempts the resource "res" at the top of the stack)
ALLOWLIST = [
    (URN, True),
    ("aws:iam/rolePolicy:RolePolicy::res", True),
    ("orderflow:index:CallbackWorker$aws:iam/rolePolicy:RolePolicy::res", False),
    ("urn:pulumi:prod::orderflow::aws:iam/rolePolicy:RolePolicy::res", False),
    ("aws:iam/policy:Policy::res", False),
]


@pytest.mark.parametrize(("entry", "exempt"), ALLOWLIST)
def test_allowlist_names_one_resource_and_needs_a_reason(entry: str, exempt: bool) -> None:
    props = {"policy": doc(allow("sqs:SendMessage", "*"))}
    found = check(IAM_SCOPING, "aws:iam/rolePolicy:RolePolicy", props,
                  {"allowlist": [{"resource": entry, "reason": "legacy fan-out, ticket 12"}]})
    assert (found == []) is exempt
    assert check(IAM_SCOPING, "aws:iam/rolePolicy:RolePolicy", props,
                 {"allowlist": [{"resource": entry, "reason": ""}]}) != []


def test_a_principal_does_not_move_an_identity_policy_out_of_sight() -> None:
    """IAM refuses a Principal in an identity policy; the pack judges it as the identity policy it is."""
    statement = allow("sqs:SendMessage", "*", Principal={"AWS": "arn:aws:iam::123456789012:root"})
    for typ in ("aws:iam/rolePolicy:RolePolicy", "aws-native:iam:ManagedPolicy"):
        key = "policyDocument" if typ.startswith("aws-native") else "policy"
        (found,) = check(IAM_SCOPING, typ, {key: doc(statement)})
        assert "support resource-level permissions" in found
