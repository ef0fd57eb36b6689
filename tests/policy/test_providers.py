"""Any provider, any wrapper: the same grants judged on aws-native types, CloudFormation templates (JSON and YAML with
short tags), and refused where unreadable (commands, dynamic providers, remote templates, policies declared
elsewhere). One row per shape: the mandatory (rule, resource) pairs the audit reports."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy.audit import evaluate

from .cases import allow, doc, export

ADMIN_DOC = doc(allow("*", "*"))
LAMBDA_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
OPEN_TRUST = doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
CALLBACK = {"StartAt": "Wait", "States": {"Wait": {
    "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": True,
    "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "MessageBody": {
        "token.$": "$$.Task.Token"}}}}}
YAML_TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Worker:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: work
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: !If [IsProd, 'sqs:SendMessage', 'iam:PutRolePolicy']
                Resource: !Sub 'arn:aws:iam::${AWS::AccountId}:role/${Worker}'
"""
CFN_JSON = {"Resources": {"Admin": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": ADMIN_DOC}},
                          "Machine": {"Type": "AWS::StepFunctions::StateMachine",
                                      "Properties": {"Definition": CALLBACK, "StateMachineType": "EXPRESS"}}}}
SAFE_JSON = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q"}},
                           "P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "p", "PolicyDocument": doc(
                               allow("sqs:SendMessage", {"Fn::GetAtt": ["Q", "Arn"]}))}}}}
# (resources: (type, name, inputs), the mandatory (rule, resource name) pairs)
SHAPES: list[tuple[list[tuple[str, str, dict[str, Any]]], set[tuple[str, str]]]] = [
    ([("aws-native:iam:Role", "native", {"assumeRolePolicyDocument": LAMBDA_TRUST, "policies": [
        {"policyName": "all", "policyDocument": ADMIN_DOC}]})],
     {("iam-least-privilege", "native"), ("iam-privilege-escalation", "native")}),
    ([("aws-native:iam:Role", "native", {"assumeRolePolicyDocument": OPEN_TRUST,
                                         "managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]})],
     {("role-trust-policy", "native"), ("no-full-access-managed-policies", "native")}),
    ([("aws-native:iam:RolePolicy", "p", {"roleName": "r", "policyName": "p", "policyDocument": ADMIN_DOC})],
     {("iam-least-privilege", "p"), ("iam-privilege-escalation", "p")}),
    ([("aws-native:iam:ManagedPolicy", "m", {"policyDocument": doc(allow("iam:PassRole", "*"))})],
     {("iam-least-privilege", "m"), ("iam-privilege-escalation", "m")}),
    ([("aws:cloudformation/stack:Stack", "cfn", {"name": "s", "templateBody": json.dumps(CFN_JSON)})],
     {("iam-least-privilege", "cfn"), ("iam-privilege-escalation", "cfn"), ("callback-requires-standard", "cfn"),
      ("callback-task-timeout", "cfn")}),
    ([("aws:cloudformation/stack:Stack", "cfn", {"name": "s", "templateBody": YAML_TEMPLATE})],
     {("iam-privilege-escalation", "cfn")}),
    ([("aws-native:cloudformation:Stack", "cfn", {"stackName": "s", "templateBody": json.dumps(SAFE_JSON)})], set()),
    ([("aws:cloudformation/stack:Stack", "cfn", {"name": "s", "templateUrl": "https://bucket.s3.amazonaws.com/t"})],
     {("access-readable", "cfn")}),
    ([("aws:cloudformation/stack:Stack", "cfn", {"name": "s", "templateBody": "Resources: [unclosed"})],
     {("access-readable", "cfn")}),
    ([("aws:cloudformation/stack:Stack", "nested", {"name": "s", "templateBody": json.dumps({"Resources": {
        "Child": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://b.s3.amazonaws.com/t"}},
        "Hook": {"Type": "Custom::Grant", "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:1:function:g"}}}})})],
     {("access-readable", "nested")}),
    ([("command:local:Command", "grant", {"create": "aws iam put-role-policy --role-name w --policy-name p "
                                                    "--policy-document file://admin.json"})],
     {("access-readable", "grant")}),
    ([("command:remote:Command", "grant", {"create": "echo hello"})], {("access-readable", "grant")}),
    ([("pulumi-python:dynamic:Resource", "dyn", {"__provider": "gASV..."})], {("access-readable", "dyn")}),
    ([("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "att",
       {"role": "r", "policyArn": "arn:aws:iam::123456789012:policy/elsewhere"})], {("access-readable", "att")}),
    ([("aws:iam/policy:Policy", "mine", {"name": "mine", "policy": json.dumps(doc(allow("sqs:SendMessage",
                                                                                         "arn:aws:sqs:us-east-1:1:q")))}),
      ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "att",
       {"role": "r", "policyArn": "arn:aws:iam::123456789012:policy/mine"})], set()),
    ([("aws-native:stepfunctions:StateMachine", "sm", {"definition": CALLBACK, "stateMachineType": "STANDARD"})],
     {("callback-task-timeout", "sm")}),
    ([("aws-native:stepfunctions:StateMachine", "sm", {"definitionString": json.dumps(
        {"StartAt": "Wait", "States": {"Wait": {**CALLBACK["States"]["Wait"], "TimeoutSeconds": 60}}}),
        "stateMachineType": "EXPRESS"})], {("callback-requires-standard", "sm")}),
    ([("aws-native:sqs:Queue", "work", {"queueName": "work"}),
      ("aws-native:lambda:EventSourceMapping", "trigger",
       {"eventSourceArn": "arn:aws:sqs:us-east-1:123456789012:work", "functionName": "f"})],
     {("queue-dead-letter", "work")}),
]


@pytest.mark.parametrize(("resources", "mandatory"), SHAPES)
def test_any_provider_any_wrapper(resources: list[tuple[str, str, dict[str, Any]]],
                                  mandatory: set[tuple[str, str]]) -> None:
    found = {(v.rule, v.resource) for v in evaluate(export(*resources)) if v.level == "mandatory"}
    assert found == mandatory
