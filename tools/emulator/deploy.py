"""Deploy a stack export into moto: the one description of the stack is the synth.

Every custom resource of the export is either played (created in moto from its inputs) or listed as not
played, never dropped silently. The function and its event source mapping are not created in moto: the
poller in this package plays them in process (moto's own mapping would try to run the function in Docker).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from tools.emulator import moto_fixes

REGION = "us-east-1"
PLAYED_IN_PROCESS = ("aws:lambda/function:Function", "aws:lambda/eventSourceMapping:EventSourceMapping")


@dataclass
class FunctionSpec:
    """What the poller needs to run the worker as Lambda would."""

    name: str
    handler: str
    code_path: str
    environment: dict[str, str]
    timeout: int
    memory_mb: int


@dataclass
class MappingSpec:
    queue_arn: str
    function_name: str
    batch_size: int
    window_seconds: int
    max_concurrency: int
    report_batch_item_failures: bool


@dataclass
class Deployment:
    """Handles to what was deployed, keyed by the names in the export."""

    queues: dict[str, str] = field(default_factory=dict)
    """Queue URL by physical name."""
    queue_arns: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    """Role ARN by role name."""
    tables: list[str] = field(default_factory=list)
    state_machine_arn: str = ""
    state_machine_definition: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    mappings: list[MappingSpec] = field(default_factory=list)
    played: list[str] = field(default_factory=list)
    in_process: list[str] = field(default_factory=list)
    not_played: list[str] = field(default_factory=list)
    """URN-style names (type::name) of resources the emulator does not play."""

    @property
    def function(self) -> FunctionSpec:
        return next(iter(self.functions.values()))

    @property
    def mapping(self) -> MappingSpec:
        return self.mappings[0]

    def queue_url_by_arn(self, arn: str) -> str:
        name = arn.rsplit(":", 1)[1]
        return self.queues[name]

    @property
    def work_queue_url(self) -> str:
        return self.queue_url_by_arn(self.mapping.queue_arn)

    @property
    def dlq_url(self) -> str:
        queue_name = self.mapping.queue_arn.rsplit(":", 1)[1]
        sqs = boto3.client("sqs", region_name=REGION)
        attrs = sqs.get_queue_attributes(QueueUrl=self.queues[queue_name], AttributeNames=["RedrivePolicy"])
        return self.queue_url_by_arn(json.loads(attrs["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"])

    @property
    def table(self) -> str:
        return self.tables[0]


def _short(resource: dict[str, Any]) -> str:
    return f"{resource['type']}::{resource['urn'].rsplit('::', 1)[1]}"


def deploy(export: dict[str, Any]) -> Deployment:
    """Create the export's resources in the active moto mock; returns what the runner needs."""
    moto_fixes.apply()
    resources = [r for r in export["deployment"]["resources"]
                 if r.get("custom") and not r["type"].startswith("pulumi:providers:")]
    order = {t: i for i, t in enumerate((
        "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy",
        "aws:dynamodb/table:Table", "aws:cloudwatch/logGroup:LogGroup", "aws:sfn/stateMachine:StateMachine",
        "aws:sns/topic:Topic", "aws:cloudwatch/metricAlarm:MetricAlarm",
    ))}
    resources.sort(key=lambda r: order.get(r["type"], len(order)))
    out = Deployment()
    for resource in resources:
        player = PLAYERS.get(resource["type"])
        if resource["type"] in PLAYED_IN_PROCESS:
            _play_in_process(out, resource)
            out.in_process.append(_short(resource))
        elif player is None:
            out.not_played.append(_short(resource))
        else:
            player(out, resource["inputs"], resource.get("outputs", {}))
            out.played.append(_short(resource))
    return out


def _queue(out: Deployment, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
    attrs = {
        "VisibilityTimeout": inputs.get("visibilityTimeoutSeconds"),
        "MessageRetentionPeriod": inputs.get("messageRetentionSeconds"),
        "RedrivePolicy": inputs.get("redrivePolicy"),
        "RedriveAllowPolicy": inputs.get("redriveAllowPolicy"),
        "SqsManagedSseEnabled": inputs.get("sqsManagedSseEnabled"),
        "KmsMasterKeyId": inputs.get("kmsMasterKeyId"),
    }
    attributes = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in attrs.items() if v is not None}
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=inputs["name"], Attributes=attributes)["QueueUrl"]
    out.queues[inputs["name"]] = url
    out.queue_arns[inputs["name"]] = outputs.get("arn", "")


def _queue_policy(out: Deployment, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    boto3.client("sqs", region_name=REGION).set_queue_attributes(
        QueueUrl=inputs["queueUrl"], Attributes={"Policy": inputs["policy"]}
    )


def _role(out: Deployment, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName=inputs["name"], AssumeRolePolicyDocument=inputs["assumeRolePolicy"]
    )
    out.roles[inputs["name"]] = role["Role"]["Arn"]


def _role_policy(out: Deployment, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    boto3.client("iam", region_name=REGION).put_role_policy(
        RoleName=inputs["role"], PolicyName=inputs["name"], PolicyDocument=inputs["policy"]
    )


def _table(out: Deployment, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName=inputs["name"],
        BillingMode=inputs.get("billingMode", "PAY_PER_REQUEST"),
        KeySchema=[{"AttributeName": inputs["hashKey"], "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": a["name"], "AttributeType": a["type"]} for a in inputs["attributes"]],
        SSESpecification={"Enabled": bool(inputs.get("serverSideEncryption", {}).get("enabled"))},
    )
    if inputs.get("pointInTimeRecovery", {}).get("enabled"):
        ddb.update_continuous_backups(
            TableName=inputs["name"], PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    out.tables.append(inputs["name"])


def _log_group(out: Deployment, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName=inputs["name"])
    if inputs.get("retentionInDays"):
        logs.put_retention_policy(logGroupName=inputs["name"], retentionInDays=int(inputs["retentionInDays"]))


def _state_machine(out: Deployment, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    logging_cfg = inputs.get("loggingConfiguration") or {}
    arn = sfn.create_state_machine(
        name=inputs["name"],
        definition=inputs["definition"],
        roleArn=out.roles.get(inputs["roleArn"].rsplit("/", 1)[-1], inputs["roleArn"]),
        type=inputs.get("type", "STANDARD"),
        loggingConfiguration={
            "level": logging_cfg.get("level", "OFF"),
            "includeExecutionData": bool(logging_cfg.get("includeExecutionData")),
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": logging_cfg["logDestination"]}}]
            if logging_cfg.get("logDestination") else [],
        },
        tracingConfiguration={"enabled": bool((inputs.get("tracingConfiguration") or {}).get("enabled"))},
    )["stateMachineArn"]
    out.state_machine_arn = arn
    out.state_machine_definition = json.loads(inputs["definition"])


def _topic(out: Deployment, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    boto3.client("sns", region_name=REGION).create_topic(Name=inputs["name"])


def _alarm(out: Deployment, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    if inputs.get("metricQueries"):  # a metric-math alarm names its metrics in queries
        metric: dict[str, Any] = {"Metrics": [_metric_query(q) for q in inputs["metricQueries"]]}
    else:
        metric = {"Namespace": inputs["namespace"], "MetricName": inputs["metricName"],
                  "Dimensions": [{"Name": k, "Value": str(v)} for k, v in (inputs.get("dimensions") or {}).items()],
                  "Statistic": inputs["statistic"], "Period": int(inputs["period"])}
    boto3.client("cloudwatch", region_name=REGION).put_metric_alarm(
        AlarmName=inputs["name"],
        **metric,
        EvaluationPeriods=int(inputs["evaluationPeriods"]),
        Threshold=float(inputs["threshold"]),
        ComparisonOperator=inputs["comparisonOperator"],
        AlarmActions=list(inputs.get("alarmActions") or []),
    )


def _metric_query(query: dict[str, Any]) -> dict[str, Any]:
    if "expression" in query:
        return {"Id": query["id"], "Expression": query["expression"], "ReturnData": bool(query.get("returnData"))}
    m = query["metric"]
    return {"Id": query["id"], "ReturnData": bool(query.get("returnData")), "MetricStat": {
        "Metric": {"Namespace": m["namespace"], "MetricName": m["metricName"],
                   "Dimensions": [{"Name": k, "Value": str(v)} for k, v in (m.get("dimensions") or {}).items()]},
        "Period": int(m["period"]), "Stat": m["stat"]}}


def _play_in_process(out: Deployment, resource: dict[str, Any]) -> None:
    inputs = resource["inputs"]
    if resource["type"] == "aws:lambda/function:Function":
        code = inputs.get("code") or {}
        out.functions[inputs["name"]] = FunctionSpec(
            name=inputs["name"],
            handler=inputs["handler"],
            code_path=code.get("path", "handlers"),
            environment=dict((inputs.get("environment") or {}).get("variables") or {}),
            timeout=int(inputs.get("timeout", 3)),
            memory_mb=int(inputs.get("memorySize", 128)),
        )
    else:
        out.mappings.append(MappingSpec(
            queue_arn=inputs["eventSourceArn"],
            function_name=inputs["functionName"],
            batch_size=int(inputs.get("batchSize", 10)),
            window_seconds=int(inputs.get("maximumBatchingWindowInSeconds", 0)),
            max_concurrency=int((inputs.get("scalingConfig") or {}).get("maximumConcurrency", 2)),
            report_batch_item_failures="ReportBatchItemFailures" in (inputs.get("functionResponseTypes") or []),
        ))


PLAYERS: dict[str, Callable[[Deployment, dict[str, Any], dict[str, Any]], None]] = {
    "aws:sqs/queue:Queue": _queue,
    "aws:sqs/queuePolicy:QueuePolicy": _queue_policy,
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:dynamodb/table:Table": _table,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:sfn/stateMachine:StateMachine": _state_machine,
    "aws:sns/topic:Topic": _topic,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
}
