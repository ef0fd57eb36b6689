"""A stack export rendered as a CloudFormation template, for scanners that read CloudFormation (checkov).

    python -m tools.cfn_render EXPORT.json OUT.json

Each resource of the export becomes the CloudFormation resource AWS defines for the same thing, with the
properties a scanner judges, taken from the resource's inputs (completed by its outputs, as the audit does):
queues, queue policies, roles and their inline policies, the function and its trigger, the state machine, log
groups, alarms, the table, the topic and its subscriptions (property names from the CloudFormation resource
reference, https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-template-resource-type-ref.html).
A type not listed here is left out and named on stderr. Exit codes: 0 written; 2 unreadable export.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Props = dict[str, Any]


def _doc(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _queue(p: Props) -> tuple[str, Props]:
    props = {"QueueName": p.get("name"), "VisibilityTimeout": p.get("visibilityTimeoutSeconds"),
             "MessageRetentionPeriod": p.get("messageRetentionSeconds")}
    if p.get("kmsMasterKeyId"):
        props |= {"KmsMasterKeyId": p["kmsMasterKeyId"],
                  "KmsDataKeyReusePeriodSeconds": p.get("kmsDataKeyReusePeriodSeconds")}
    else:
        props["SqsManagedSseEnabled"] = bool(p.get("sqsManagedSseEnabled"))
    if p.get("redrivePolicy"):
        props["RedrivePolicy"] = _doc(p["redrivePolicy"])
    return "AWS::SQS::Queue", props


def _queue_policy(p: Props) -> tuple[str, Props]:
    return "AWS::SQS::QueuePolicy", {"Queues": [p.get("queueUrl")], "PolicyDocument": _doc(p.get("policy"))}


def _role(p: Props) -> tuple[str, Props]:
    return "AWS::IAM::Role", {"RoleName": p.get("name"), "Description": p.get("description"),
                              "AssumeRolePolicyDocument": _doc(p.get("assumeRolePolicy"))}


def _role_policy(p: Props) -> tuple[str, Props]:
    return "AWS::IAM::Policy", {"PolicyName": p.get("name"), "PolicyDocument": _doc(p.get("policy")),
                                "Roles": [p.get("role")]}


def _function(p: Props) -> tuple[str, Props]:
    props = {"FunctionName": p.get("name"), "Runtime": p.get("runtime"), "Handler": p.get("handler"),
             "Role": p.get("role"), "MemorySize": p.get("memorySize"), "Timeout": p.get("timeout"),
             "Architectures": p.get("architectures"), "Layers": p.get("layers"),
             "Code": {"ZipFile": "# the worker's code archive"},
             "TracingConfig": {"Mode": (p.get("tracingConfig") or {}).get("mode")},
             "Environment": {"Variables": (p.get("environment") or {}).get("variables", {})}}
    if (p.get("reservedConcurrentExecutions") or -1) >= 0:
        props["ReservedConcurrentExecutions"] = p["reservedConcurrentExecutions"]
    if p.get("kmsKeyArn"):
        props["KmsKeyArn"] = p["kmsKeyArn"]
    return "AWS::Lambda::Function", props


def _mapping(p: Props) -> tuple[str, Props]:
    return "AWS::Lambda::EventSourceMapping", {
        "EventSourceArn": p.get("eventSourceArn"), "FunctionName": p.get("functionName"),
        "BatchSize": p.get("batchSize"), "MaximumBatchingWindowInSeconds": p.get("maximumBatchingWindowInSeconds"),
        "FunctionResponseTypes": p.get("functionResponseTypes"),
        "ScalingConfig": {"MaximumConcurrency": (p.get("scalingConfig") or {}).get("maximumConcurrency")}}


def _state_machine(p: Props) -> tuple[str, Props]:
    logging = p.get("loggingConfiguration") or {}
    return "AWS::StepFunctions::StateMachine", {
        "StateMachineName": p.get("name"), "StateMachineType": p.get("type"), "RoleArn": p.get("roleArn"),
        "DefinitionString": p.get("definition"),
        "LoggingConfiguration": {"Level": logging.get("level"), "IncludeExecutionData": logging.get(
            "includeExecutionData"), "Destinations": [{"CloudWatchLogsLogGroup": {
                "LogGroupArn": logging.get("logDestination")}}]},
        "TracingConfiguration": {"Enabled": (p.get("tracingConfiguration") or {}).get("enabled")}}


def _log_group(p: Props) -> tuple[str, Props]:
    props = {"LogGroupName": p.get("name"), "RetentionInDays": p.get("retentionInDays")}
    if p.get("kmsKeyId"):
        props["KmsKeyId"] = p["kmsKeyId"]
    return "AWS::Logs::LogGroup", props


def _alarm(p: Props) -> tuple[str, Props]:
    props = {"AlarmName": p.get("name"), "AlarmDescription": p.get("alarmDescription"),
             "ComparisonOperator": p.get("comparisonOperator"), "EvaluationPeriods": p.get("evaluationPeriods"),
             "Threshold": p.get("threshold"), "AlarmActions": p.get("alarmActions") or [],
             "OKActions": p.get("okActions") or [], "TreatMissingData": p.get("treatMissingData")}
    if p.get("metricName"):
        props |= {"Namespace": p.get("namespace"), "MetricName": p["metricName"], "Statistic": p.get("statistic"),
                  "Period": p.get("period"),
                  "Dimensions": [{"Name": k, "Value": v} for k, v in sorted((p.get("dimensions") or {}).items())]}
    return "AWS::CloudWatch::Alarm", props


def _table(p: Props) -> tuple[str, Props]:
    sse = p.get("serverSideEncryption") or {}
    props = {"TableName": p.get("name"), "BillingMode": p.get("billingMode"),
             "KeySchema": [{"AttributeName": p.get("hashKey"), "KeyType": "HASH"}],
             "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]}
                                      for a in p.get("attributes") or []],
             "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": bool(
                 (p.get("pointInTimeRecovery") or {}).get("enabled"))},
             "DeletionProtectionEnabled": bool(p.get("deletionProtectionEnabled"))}
    if sse.get("kmsKeyArn"):
        props["SSESpecification"] = {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": sse["kmsKeyArn"]}
    return "AWS::DynamoDB::Table", props


def _topic(p: Props) -> tuple[str, Props]:
    props = {"TopicName": p.get("name")}
    if p.get("kmsMasterKeyId"):
        props["KmsMasterKeyId"] = p["kmsMasterKeyId"]
    return "AWS::SNS::Topic", props


def _subscription(p: Props) -> tuple[str, Props]:
    return "AWS::SNS::Subscription", {"TopicArn": p.get("topic"), "Protocol": p.get("protocol"),
                                      "Endpoint": p.get("endpoint")}


RENDERERS: dict[str, Callable[[Props], tuple[str, Props]]] = {
    "aws:sqs/queue:Queue": _queue, "aws:sqs/queuePolicy:QueuePolicy": _queue_policy, "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": _role_policy, "aws:lambda/function:Function": _function,
    "aws:lambda/eventSourceMapping:EventSourceMapping": _mapping, "aws:sfn/stateMachine:StateMachine": _state_machine,
    "aws:cloudwatch/logGroup:LogGroup": _log_group, "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:dynamodb/table:Table": _table, "aws:sns/topic:Topic": _topic,
    "aws:sns/topicSubscription:TopicSubscription": _subscription,
}


def render(export: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(the template, the types left out). A resource's logical id is its Pulumi name without punctuation."""
    resources: dict[str, Any] = {}
    skipped: list[str] = []
    for r in export.get("deployment", {}).get("resources", []):
        if not r.get("custom") or r["type"].startswith("pulumi:providers:"):
            continue
        renderer = RENDERERS.get(r["type"])
        if renderer is None:
            skipped.append(r["type"])
            continue
        props = {**(r.get("outputs") or {}), **(r.get("inputs") or {})}
        typ, cfn = renderer(props)
        logical = re.sub(r"[^A-Za-z0-9]", "", r["urn"].rsplit("::", 1)[1].title())
        resources[logical] = {"Type": typ, "Properties": {k: v for k, v in cfn.items() if v is not None}}
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": dict(sorted(resources.items()))}, skipped


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m tools.cfn_render EXPORT.json OUT.json", file=sys.stderr)
        return 2
    try:
        export = json.loads(Path(args[0]).read_text())
    except (OSError, ValueError) as error:
        print(f"error: {args[0]}: not a readable stack export ({error})", file=sys.stderr)
        return 2
    template, skipped = render(export)
    Path(args[1]).parent.mkdir(parents=True, exist_ok=True)
    Path(args[1]).write_text(json.dumps(template, indent=2, sort_keys=True) + "\n")
    for typ in sorted(set(skipped)):
        print(f"note: {typ} has no CloudFormation rendering here; left out", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
