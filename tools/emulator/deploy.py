"""Deploy a stack export into moto: the one description of the stack is the synth.

Every custom resource of the export is either played (created in moto from its settings) or listed as not
played, never dropped silently. A resource's settings are read from its ``outputs`` first, then its
``inputs``: after ``pulumi up`` the outputs carry the provider's defaults too (an SQS queue's
``maxMessageSize`` of 262,144 bytes when the program leaves it unset), which change what the service
accepts. Everything is created in the region of the export's AWS provider, as ``pulumi up`` would. The function and its event source mapping are not created in moto: the
poller in this package plays them in process (moto's own mapping would try to run the function in Docker).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from tools.emulator import moto_fixes, service_fidelity

REGION = "us-east-1"
"""The region of an export whose AWS provider names none (the provider's own fallback is the environment)."""
PLAYED_IN_PROCESS = ("aws:lambda/function:Function", "aws:lambda/eventSourceMapping:EventSourceMapping",
                     "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget")
CALLBACK = ".waitForTaskToken"
"""How a callback task's Resource ends (``arn:aws:states:::sqs:sendMessage.waitForTaskToken``)."""


@dataclass
class FunctionSpec:
    """What the poller needs to run the worker as Lambda would."""

    name: str
    handler: str
    code_path: str
    environment: dict[str, str]
    timeout: int
    memory_mb: int
    role: str = ""
    """The function's execution role ARN."""


@dataclass
class MappingSpec:
    queue_arn: str
    function_name: str
    batch_size: int
    window_seconds: int
    max_concurrency: int
    report_batch_item_failures: bool


@dataclass
class RuleTarget:
    """An EventBridge target (pulumi-aws ``aws.cloudwatch.EventTarget``): where and what the rule sends."""

    arn: str
    input_transformer: dict[str, Any] | None = None
    """``{"inputPaths": {var: JSON path}, "inputTemplate": str}`` as the program set it."""
    input: str | None = None
    input_path: str | None = None


@dataclass
class RuleSpec:
    """An EventBridge rule on the default bus, played in process (``tools.emulator.eventbridge``)."""

    name: str
    arn: str
    pattern: dict[str, Any]
    targets: list[RuleTarget] = field(default_factory=list)


@dataclass
class StateMachineSpec:
    arn: str
    definition: dict[str, Any]
    tracing: bool = False
    role: str = ""
    """The state machine's role name."""


@dataclass
class WorkerSpec:
    """One worker as the run plays it: its function, its trigger and their queues, and its table."""

    function: FunctionSpec
    mapping: MappingSpec
    queue_url: str
    dlq_url: str | None
    table: str | None
    """The function's ``TABLE_NAME`` (its service's table), when it names one."""

    @property
    def name(self) -> str:
        return self.function.name


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
    """The orchestrating state machine (``orchestrator``): the one executions are started on."""
    state_machine_definition: dict[str, Any] = field(default_factory=dict)
    state_machines: dict[str, StateMachineSpec] = field(default_factory=dict)
    """Every state machine by name."""
    rules: list[RuleSpec] = field(default_factory=list)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    mappings: list[MappingSpec] = field(default_factory=list)
    played: list[str] = field(default_factory=list)
    in_process: list[str] = field(default_factory=list)
    not_played: list[str] = field(default_factory=list)
    """URN-style names (type::name) of resources the emulator does not play."""
    region: str = REGION
    """The region every resource was created in: the export's (see ``export_region``)."""
    project_folder: Path | None = None
    """The folder the program ran in; None: the repository's root."""

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
        sqs = boto3.client("sqs", region_name=self.region)
        attrs = sqs.get_queue_attributes(QueueUrl=self.queues[queue_name], AttributeNames=["RedrivePolicy"])
        return self.queue_url_by_arn(json.loads(attrs["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"])

    @property
    def table(self) -> str:
        return self.tables[0]

    def dlq_of(self, queue_url: str) -> str | None:
        """The dead-letter queue URL of a queue (its redrive policy's target), or None."""
        sqs = boto3.client("sqs", region_name=self.region)
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]
        if not attrs.get("RedrivePolicy"):
            return None
        return self.queue_url_by_arn(json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"])

    def workers(self) -> list[WorkerSpec]:
        """One worker per event source mapping (the mock must be active), in the order the orchestrating state
        machine's definition first names their queues (Reserve Inventory's before Authorize Payment's), then by
        function name: the export's order of registration is not stable from one synth to the next."""
        out = []
        for mapping in self.mappings:
            function = self.functions[mapping.function_name.rsplit(":", 1)[-1]]
            url = self.queue_url_by_arn(mapping.queue_arn)
            out.append(WorkerSpec(function, mapping, url, self.dlq_of(url), function.environment.get("TABLE_NAME")))
        text = json.dumps(self.state_machine_definition)

        def named_at(worker: WorkerSpec) -> tuple[int, str]:
            at = text.find(f"/{worker.mapping.queue_arn.rsplit(':', 1)[-1]}\"")
            return (at if at >= 0 else len(text), worker.name)

        return sorted(out, key=named_at)

    def orchestrate(self) -> None:
        """Make the state machine with the most callback tasks the one runs start (ties: the last created)."""
        if not self.state_machines:
            return
        ranked = sorted(enumerate(self.state_machines.values()),
                        key=lambda pair: (callback_tasks(pair[1].definition), pair[0]))
        chosen = ranked[-1][1]
        self.state_machine_arn, self.state_machine_definition = chosen.arn, chosen.definition


def callback_tasks(definition: dict[str, Any]) -> int:
    """The Task states of a definition (top level) whose Resource waits for a task token."""
    return sum(1 for state in definition.get("States", {}).values()
               if str(state.get("Resource", "")).endswith(CALLBACK))


def _short(resource: dict[str, Any]) -> str:
    return f"{resource['type']}::{resource['urn'].rsplit('::', 1)[1]}"


def export_region(export: dict[str, Any]) -> str:
    """The region of the export's default AWS provider (``pulumi:providers:aws``, ``region`` in its outputs,
    then inputs); ``REGION`` when it names none."""
    for resource in export["deployment"]["resources"]:
        if resource["type"] == "pulumi:providers:aws":
            region = settings(resource).get("region")
            if isinstance(region, str) and region:
                return region
    return REGION


PROVIDER_DEFAULTS: dict[str, dict[str, Any]] = {
    "aws:sqs/queue:Queue": {"maxMessageSize": 262_144},
}
"""Defaults pulumi-aws applies when a property is unset and that change what the service accepts; an export
written after ``pulumi up`` carries them in ``outputs``, one written before (a preview, an older synth) may
not. Source: https://www.pulumi.com/registry/packages/aws/api-docs/sqs/queue/ ("maxMessageSize ... The
default for this attribute is 262144 (256 KiB)")."""


def settings(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's settings: its ``outputs`` first (what the provider reports, defaults included), then
    its ``inputs`` (what the program set), then the provider's defaults (``PROVIDER_DEFAULTS``)."""
    return {**PROVIDER_DEFAULTS.get(resource.get("type", ""), {}), **(resource.get("inputs") or {}),
            **(resource.get("outputs") or {})}


def deploy(export: dict[str, Any], project_folder: Path | None = None) -> Deployment:
    """Create the export's resources in the active moto mock, in the export's region; returns what the
    runner needs. ``project_folder``: where the program ran (its functions' code paths are relative to it; default
    the repository's root, the root program's folder)."""
    moto_fixes.apply()
    moto_fixes.forget_traces()
    service_fidelity.apply()
    resources = [r for r in export["deployment"]["resources"]
                 if r.get("custom") and not r["type"].startswith("pulumi:providers:")]
    order = {t: i for i, t in enumerate((
        "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy",
        "aws:dynamodb/table:Table", "aws:cloudwatch/logGroup:LogGroup", "aws:sfn/stateMachine:StateMachine",
        "aws:sns/topic:Topic", "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/eventRule:EventRule",
        "aws:cloudwatch/eventTarget:EventTarget",
    ))}
    resources.sort(key=lambda r: order.get(r["type"], len(order)))
    out = Deployment(region=export_region(export), project_folder=project_folder)
    for resource in resources:
        player = PLAYERS.get(resource["type"])
        if resource["type"] in PLAYED_IN_PROCESS:
            _play_in_process(out, resource["type"], settings(resource))
            out.in_process.append(_short(resource))
        elif player is None:
            out.not_played.append(_short(resource))
        else:
            player(out, settings(resource), resource.get("outputs") or {})
            out.played.append(_short(resource))
    out.orchestrate()
    return out


QUEUE_ATTRIBUTES = {
    "visibilityTimeoutSeconds": "VisibilityTimeout",
    "messageRetentionSeconds": "MessageRetentionPeriod",
    "maxMessageSize": "MaximumMessageSize",
    "delaySeconds": "DelaySeconds",
    "receiveWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds",
    "redrivePolicy": "RedrivePolicy",
    "redriveAllowPolicy": "RedriveAllowPolicy",
    "sqsManagedSseEnabled": "SqsManagedSseEnabled",
    "kmsMasterKeyId": "KmsMasterKeyId",
    "kmsDataKeyReusePeriodSeconds": "KmsDataKeyReusePeriodSeconds",
}
"""pulumi-aws queue properties and the SQS attribute each sets
(https://www.pulumi.com/registry/packages/aws/api-docs/sqs/queue/)."""


def _queue(out: Deployment, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
    """An empty string is how an export shows an unset attribute (a queue with no redrive policy)."""
    attrs = {attribute: inputs.get(key) for key, attribute in QUEUE_ATTRIBUTES.items()}
    attributes = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in attrs.items()
                  if v is not None and v != ""}
    sqs = boto3.client("sqs", region_name=out.region)
    url = sqs.create_queue(QueueName=inputs["name"], Attributes=attributes)["QueueUrl"]
    out.queues[inputs["name"]] = url
    out.queue_arns[inputs["name"]] = outputs.get("arn", "")


def _queue_policy(out: Deployment, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    boto3.client("sqs", region_name=out.region).set_queue_attributes(
        QueueUrl=inputs["queueUrl"], Attributes={"Policy": inputs["policy"]}
    )


def _role(out: Deployment, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    role = boto3.client("iam", region_name=out.region).create_role(
        RoleName=inputs["name"], AssumeRolePolicyDocument=inputs["assumeRolePolicy"]
    )
    out.roles[inputs["name"]] = role["Role"]["Arn"]


def _role_policy(out: Deployment, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    boto3.client("iam", region_name=out.region).put_role_policy(
        RoleName=inputs["role"], PolicyName=inputs["name"], PolicyDocument=inputs["policy"]
    )


def _table(out: Deployment, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    ddb = boto3.client("dynamodb", region_name=out.region)
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
    logs = boto3.client("logs", region_name=out.region)
    logs.create_log_group(logGroupName=inputs["name"])
    if inputs.get("retentionInDays"):
        logs.put_retention_policy(logGroupName=inputs["name"], retentionInDays=int(inputs["retentionInDays"]))


def _state_machine(out: Deployment, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
    sfn = boto3.client("stepfunctions", region_name=out.region)
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
    definition = json.loads(inputs["definition"])
    out.state_machine_arn, out.state_machine_definition = arn, definition
    out.state_machines[inputs["name"]] = StateMachineSpec(
        arn, definition, bool((inputs.get("tracingConfiguration") or {}).get("enabled")),
        inputs["roleArn"].rsplit("/", 1)[-1])


def _topic(out: Deployment, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    boto3.client("sns", region_name=out.region).create_topic(Name=inputs["name"])


def _alarm(out: Deployment, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    if inputs.get("metricQueries"):  # a metric-math alarm names its metrics in queries
        metric: dict[str, Any] = {"Metrics": [_metric_query(q) for q in inputs["metricQueries"]]}
    else:
        metric = {"Namespace": inputs["namespace"], "MetricName": inputs["metricName"],
                  "Dimensions": [{"Name": k, "Value": str(v)} for k, v in (inputs.get("dimensions") or {}).items()],
                  "Statistic": inputs["statistic"], "Period": int(inputs["period"])}
    boto3.client("cloudwatch", region_name=out.region).put_metric_alarm(
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


def _code_folder(code: dict[str, Any], project_folder: Path | None) -> str:
    """The folder a function's code comes from: a FileArchive's path, or the folder an AssetArchive's files sit
    in (each asset's path ends with its name in the archive), relative to ``project_folder`` when given."""
    folder = code.get("path")
    for name, asset in sorted((code.get("assets") or {}).items()):
        if name.startswith("orderflow_runtime/"):  # the runtime the component adds; it sits elsewhere
            continue
        path = str(asset.get("path", ""))
        if folder is None and path.endswith(name):
            folder = path[: -len(name)].rstrip("/") or "."
    folder = folder or "handlers"
    return str(project_folder / folder) if project_folder is not None else folder


def _play_in_process(out: Deployment, typ: str, inputs: dict[str, Any]) -> None:
    if typ in ("aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget"):
        _rule_part(out, typ, inputs)
    elif typ == "aws:lambda/function:Function":
        code = inputs.get("code") or {}
        out.functions[inputs["name"]] = FunctionSpec(
            name=inputs["name"],
            handler=inputs["handler"],
            code_path=_code_folder(code, out.project_folder),
            # Lambda sets AWS_REGION and AWS_DEFAULT_REGION in every function's environment
            # (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime)
            environment={**dict((inputs.get("environment") or {}).get("variables") or {}),
                         "AWS_REGION": out.region, "AWS_DEFAULT_REGION": out.region},
            timeout=int(inputs.get("timeout", 3)),
            memory_mb=int(inputs.get("memorySize", 128)),
            role=str(inputs.get("role", "")),
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


def _rule_part(out: Deployment, typ: str, inputs: dict[str, Any]) -> None:
    """A rule (its pattern) or one of its targets; rules sort before their targets in the export, as a target's
    ``rule`` input depends on the rule."""
    if typ == "aws:cloudwatch/eventRule:EventRule":
        pattern = inputs.get("eventPattern") or "{}"
        arn = inputs.get("arn") or f"arn:aws:events:{out.region}:123456789012:rule/{inputs['name']}"
        out.rules.append(RuleSpec(inputs["name"], arn, json.loads(pattern) if isinstance(pattern, str) else pattern))
        return
    rule = next(r for r in out.rules if r.name == inputs["rule"])
    rule.targets.append(RuleTarget(inputs["arn"], inputs.get("inputTransformer") or None, inputs.get("input") or None,
                                   inputs.get("inputPath") or None))


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
