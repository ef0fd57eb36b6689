"""The synthesized stacks: exact IAM per role, queue safety, the state machine, alarms, config errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from orderflow.iam import is_wildcard_only
from orderflow.settings import SettingsError
from parliament import analyze_policy_string

from stack_config import parse_stack_config
from tests.conftest import resources
from tools.synth import synthesize

ACCOUNT = "123456789012"
ARN = f"us-east-1:{ACCOUNT}"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"


def role_policies(export: dict[str, Any], role: str) -> dict[str, list[dict[str, Any]]]:
    """Policy name -> statements, for one role of the export."""
    return {
        r["inputs"]["name"]: json.loads(r["inputs"]["policy"])["Statement"]
        for r in resources(export, "aws:iam/rolePolicy:RolePolicy")
        if r["inputs"]["role"] == role
    }


def grants(export: dict[str, Any], role: str) -> set[tuple[str, str]]:
    """Every (action, resource) pair a role's policies allow."""
    pairs = set()
    for statements in role_policies(export, role).values():
        for st in statements:
            assert st["Effect"] == "Allow"
            res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            pairs |= {(a, r) for a in st["Action"] for r in res}
    return pairs


def test_state_machine_role_grants_exactly(dev_export: dict[str, Any]) -> None:
    log_actions = ["CreateLogDelivery", "GetLogDelivery", "UpdateLogDelivery", "DeleteLogDelivery",
                   "ListLogDeliveries", "PutResourcePolicy", "DescribeResourcePolicies", "DescribeLogGroups"]
    xray = ["PutTraceSegments", "PutTelemetryRecords", "GetSamplingRules", "GetSamplingTargets"]
    assert grants(dev_export, "orderflow-dev-inventory-sm-role") == {
        ("sqs:SendMessage", f"arn:aws:sqs:{ARN}:orderflow-dev-inventory-queue"),
        *{(f"logs:{a}", "*") for a in log_actions},
        *{(f"xray:{a}", "*") for a in xray},
    }


def test_worker_role_grants_exactly(dev_export: dict[str, Any]) -> None:
    queue = f"arn:aws:sqs:{ARN}:orderflow-dev-inventory-queue"
    table = f"arn:aws:dynamodb:{ARN}:table/orderflow-dev-inventory"
    assert grants(dev_export, "orderflow-dev-inventory-worker-role") == {
        ("sqs:ReceiveMessage", queue), ("sqs:DeleteMessage", queue), ("sqs:GetQueueAttributes", queue),
        ("states:SendTaskSuccess", "*"), ("states:SendTaskFailure", "*"), ("states:SendTaskHeartbeat", "*"),
        ("states:DescribeExecution", f"arn:aws:states:{ARN}:execution:orderflow-dev-inventory:*"),
        ("states:DescribeExecution", f"arn:aws:states:{ARN}:express:orderflow-dev-inventory:*:*"),
        ("logs:CreateLogStream", f"arn:aws:logs:{ARN}:log-group:/aws/lambda/orderflow-dev-inventory-worker:*"),
        ("logs:PutLogEvents", f"arn:aws:logs:{ARN}:log-group:/aws/lambda/orderflow-dev-inventory-worker:*"),
        ("xray:PutTraceSegments", "*"), ("xray:PutTelemetryRecords", "*"),
        ("dynamodb:GetItem", table), ("dynamodb:PutItem", table), ("dynamodb:UpdateItem", table),
    }


def test_trust_policies_are_limited(dev_export: dict[str, Any]) -> None:
    roles = {r["inputs"]["name"]: json.loads(r["inputs"]["assumeRolePolicy"])["Statement"]
             for r in resources(dev_export, "aws:iam/role:Role")}
    (sm,) = roles["orderflow-dev-inventory-sm-role"]
    assert sm["Principal"] == {"Service": "states.amazonaws.com"}
    assert sm["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": [f"arn:aws:states:{ARN}:stateMachine:orderflow-dev-inventory",
                                      f"arn:aws:states:{ARN}:stateMachine:orderflow-dev-inventory:*"]},
    }
    (worker,) = roles["orderflow-dev-inventory-worker-role"]
    assert worker["Principal"] == {"Service": "lambda.amazonaws.com"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_wildcard_beyond_wildcard_only_actions_and_parliament_clean(stack: str, request: Any) -> None:
    export = request.getfixturevalue(f"{stack}_export")
    policies = resources(export, "aws:iam/rolePolicy:RolePolicy")
    assert policies
    for policy in policies:
        for st in json.loads(policy["inputs"]["policy"])["Statement"]:
            resources_ = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            for resource in resources_:
                if resource == "*":
                    assert all(is_wildcard_only(a) for a in st["Action"]), st
                else:  # an exact ARN: no wildcard in partition, service, region or account
                    assert "*" not in "".join(resource.split(":")[:5]), resource
            assert not any(a.endswith("*") for a in st["Action"]), st
        findings = analyze_policy_string(policy["inputs"]["policy"]).findings
        assert findings == [], (policy["inputs"]["name"], [f.issue for f in findings])
    assert not resources(export, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert not resources(export, "aws:iam/policyAttachment:PolicyAttachment")
    assert all("managedPolicyArns" not in r["inputs"] for r in resources(export, "aws:iam/role:Role"))


@pytest.mark.parametrize(("stack", "max_receive_count"), [("dev", 10), ("prod", 5)])
def test_queues_are_encrypted_redriven_and_tls_only(stack: str, max_receive_count: int, request: Any) -> None:
    export = request.getfixturevalue(f"{stack}_export")
    queues = {r["inputs"]["name"]: r for r in resources(export, "aws:sqs/queue:Queue")}
    queue, dlq = queues[f"orderflow-{stack}-inventory-queue"], queues[f"orderflow-{stack}-inventory-dlq"]
    for q in (queue, dlq):
        assert q["inputs"]["sqsManagedSseEnabled"] is True
    redrive = json.loads(queue["inputs"]["redrivePolicy"])
    assert redrive == {"deadLetterTargetArn": dlq["outputs"]["arn"], "maxReceiveCount": max_receive_count}
    assert dlq["inputs"]["messageRetentionSeconds"] > queue["inputs"]["messageRetentionSeconds"]
    assert json.loads(dlq["inputs"]["redriveAllowPolicy"]) == {
        "redrivePermission": "byQueue", "sourceQueueArns": [queue["outputs"]["arn"]]}
    policies = {r["inputs"]["queueUrl"]: json.loads(r["inputs"]["policy"])
                for r in resources(export, "aws:sqs/queuePolicy:QueuePolicy")}
    for q in (queue, dlq):
        (deny,) = policies[q["outputs"]["url"]]["Statement"]
        assert deny["Effect"] == "Deny" and deny["Resource"] == q["outputs"]["arn"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    function = resources(export, "aws:lambda/function:Function")[0]["inputs"]
    assert queue["inputs"]["visibilityTimeoutSeconds"] >= 6 * function["timeout"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_state_machine_and_worker(stack: str, request: Any) -> None:
    export = request.getfixturevalue(f"{stack}_export")
    (sm,) = resources(export, "aws:sfn/stateMachine:StateMachine")
    inputs = sm["inputs"]
    assert inputs["type"] == "STANDARD"
    assert inputs["tracingConfiguration"] == {"enabled": True}
    assert inputs["loggingConfiguration"]["logDestination"].startswith(
        f"arn:aws:logs:{ARN}:log-group:/aws/vendedlogs/states/")
    definition = json.loads(inputs["definition"])
    task = definition["States"]["Check Inventory"]
    assert task["Resource"] == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    assert task["Parameters"]["MessageBody"]["taskToken.$"] == "$$.Task.Token"
    assert task["TimeoutSeconds"] > task["HeartbeatSeconds"] > 0
    caught = [e for c in task["Catch"] for e in c["ErrorEquals"]]
    assert {"States.Timeout", "States.HeartbeatTimeout", "States.ALL", "OutOfStock"} <= set(caught)
    (fn,) = resources(export, "aws:lambda/function:Function")
    assert fn["inputs"]["runtime"] == "python3.13"
    assert fn["inputs"]["architectures"] == ["arm64"]
    assert fn["inputs"]["tracingConfig"] == {"mode": "Active"}
    assert "AWSLambdaPowertoolsPythonV3-python313-arm64" in fn["inputs"]["layers"][0]
    (mapping,) = resources(export, "aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mapping["inputs"]["functionResponseTypes"] == ["ReportBatchItemFailures"]
    groups = {r["inputs"]["name"]: r["inputs"]["retentionInDays"]
              for r in resources(export, "aws:cloudwatch/logGroup:LogGroup")}
    assert set(groups) == {f"/aws/lambda/orderflow-{stack}-inventory-worker",
                           f"/aws/vendedlogs/states/orderflow-{stack}-inventory"}
    alarms = {(r["inputs"].get("namespace"), r["inputs"].get("metricName"))
              for r in resources(export, "aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert {(None, None), ("AWS/States", "ExecutionsFailed"), ("AWS/States", "ExecutionsAborted"),
            ("AWS/States", "ExecutionsTimedOut"), ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
            ("AWS/Lambda", "Errors"), ("AWS/Lambda", "Throttles")} == alarms
    (table,) = resources(export, "aws:dynamodb/table:Table")
    assert table["inputs"]["billingMode"] == "PAY_PER_REQUEST"
    assert table["inputs"]["pointInTimeRecovery"] == {"enabled": True}


def test_stacks_differ_where_they_should(dev_export: dict[str, Any], prod_export: dict[str, Any]) -> None:
    def env(export: dict[str, Any]) -> dict[str, str]:
        return resources(export, "aws:lambda/function:Function")[0]["inputs"]["environment"]["variables"]

    assert (env(dev_export)["POWERTOOLS_LOG_LEVEL"], env(prod_export)["POWERTOOLS_LOG_LEVEL"]) == ("DEBUG", "INFO")
    assert not resources(dev_export, "aws:sns/topic:Topic")
    (topic,) = resources(prod_export, "aws:sns/topic:Topic")
    for alarm in resources(prod_export, "aws:cloudwatch/metricAlarm:MetricAlarm"):
        assert alarm["inputs"]["alarmActions"] == [topic["outputs"]["arn"]]
    assert resources(prod_export, "aws:lambda/function:Function")[0]["inputs"]["reservedConcurrentExecutions"] == 25


def test_every_policy_document_is_known_in_a_first_preview() -> None:
    export = synthesize("prod", preview=True, computed=False)
    docs = [r["inputs"]["policy"] for r in resources(export, "aws:iam/rolePolicy:RolePolicy")]
    docs += [r["inputs"]["assumeRolePolicy"] for r in resources(export, "aws:iam/role:Role")]
    docs += [r["inputs"]["policy"] for r in resources(export, "aws:sqs/queuePolicy:QueuePolicy")
             if isinstance(r["inputs"].get("policy"), str)]
    assert len(docs) == 11
    for doc in docs:
        assert isinstance(doc, str)
        json.loads(doc)
        assert "04da6b54-80e4-46f7-96ec-b56ff0331ba9" not in doc  # the engine's unknown sentinel


def test_customer_managed_key_grants_exact_kms_actions() -> None:
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    export = synthesize("dev", config_overrides={"orderflow:kmsKeyArn": key})
    assert ("kms:GenerateDataKey", key) in grants(export, "orderflow-dev-inventory-sm-role")
    assert {g for g in grants(export, "orderflow-dev-inventory-sm-role") if g[0].startswith("kms:")} == {
        ("kms:GenerateDataKey", key), ("kms:Decrypt", key)}
    assert {g for g in grants(export, "orderflow-dev-inventory-worker-role") if g[0].startswith("kms:")} == {
        ("kms:Decrypt", key)}
    for q in resources(export, "aws:sqs/queue:Queue"):
        assert q["inputs"]["kmsMasterKeyId"] == key and "sqsManagedSseEnabled" not in q["inputs"]


# One row per config error: the key and values as given, and what the message must name.
CONFIG_ERRORS = [
    ({"functionTimeoutSeconds": "0"}, "functionTimeoutSeconds=0 is outside the allowed range 1..900"),
    ({"functionTimeoutSeconds": "abc"}, "functionTimeoutSeconds='abc' is not an integer (allowed range 1..900)"),
    ({"batchSize": "10001"}, "batchSize=10001 is outside the allowed range 1..10000"),
    ({"batchSize": "50"}, "batchingWindowSeconds=0 must be >= 1 when batchSize=50 is above 10"),
    ({"maxConcurrency": "1"}, "maxConcurrency=1 is outside the allowed range 2..1000"),
    ({"maxReceiveCount": "3"}, "maxReceiveCount=3 is outside the allowed range 5..1000"),
    ({"visibilityTimeoutSeconds": "100"}, "visibilityTimeoutSeconds=100 must be >= 6 x functionTimeoutSeconds"),
    ({"heartbeatSeconds": "180"}, "heartbeatSeconds=180 must be > visibilityTimeoutSeconds=180"),
    ({"taskTimeoutSeconds": "600"}, "taskTimeoutSeconds=600 must be >= visibilityTimeoutSeconds x maxReceiveCount"),
    ({"messageRetentionSeconds": "1209600"}, "messageRetentionSeconds=1209600 is outside the allowed range"),
    ({"messageRetentionSeconds": "600"}, "messageRetentionSeconds=600 must be >= taskTimeoutSeconds=1080"),
    ({"logRetentionDays": "13"}, "logRetentionDays=13 is not one of {1, 3, 5, 7, 14"),
    ({"logLevel": "TRACE"}, "logLevel='TRACE' is not one of {DEBUG, INFO, WARNING, ERROR}"),
    ({"architecture": "mips"}, "architecture='mips' is not one of {arm64, x86_64}"),
    ({"reservedConcurrency": "3", "maxConcurrency": "5"}, "reservedConcurrency=3 must be >= maxConcurrency=5"),
    ({"alarmTopic": "maybe"}, "alarmTopic='maybe' is not one of {true, false}"),
    ({"kmsKeyArn": "alias/mine"}, "kmsKeyArn='alias/mine' is not a KMS key ARN"),
    ({"batchsize": "10"}, "orderflow:batchsize is not a known key; did you mean `orderflow:batchSize`?"),
    ({"FunctionTimeoutSeconds": "3"},
     "orderflow:FunctionTimeoutSeconds is not a known key; did you mean `orderflow:functionTimeoutSeconds`?"),
    # every pattern matches the whole value: a trailing newline or space is not the same value
    ({"functionTimeoutSeconds": "3\n"}, "functionTimeoutSeconds='3\\n' is not an integer (allowed range 1..900)"),
    ({"functionTimeoutSeconds": "+3"}, "functionTimeoutSeconds='+3' is not an integer"),
    ({"functionTimeoutSeconds": "1_0"}, "functionTimeoutSeconds='1_0' is not an integer"),
    ({"kmsKeyArn": f"{KEY}\n"}, "is not a KMS key ARN"),
    ({"kmsKeyArn": f"x{KEY}"}, "is not a KMS key ARN"),
    ({"kmsKeyArn": KEY.replace("key/", "key/mrk-")}, "is not a KMS key ARN"),  # mrk- then a UUID
    ({"kmsKeyArn": f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/orders"}, "is an alias ARN; give the key ARN"),
    # C08: the batching window counts in the visibility rule
    ({"functionTimeoutSeconds": "3", "batchingWindowSeconds": "60", "visibilityTimeoutSeconds": "77"},
     "visibilityTimeoutSeconds=77 must be >= 6 x functionTimeoutSeconds + batchingWindowSeconds (6 x 3 + 60 = 78)"),
    # derived values say so, and from what
    ({"heartbeatSeconds": "180"}, "heartbeatSeconds=180 must be > visibilityTimeoutSeconds=180 (derived: 6 x "
                                  "functionTimeoutSeconds=30 + batchingWindowSeconds=0)"),
    ({"alarmTopicArn": "arn:aws:sns:us-east-1:123456789012:alarms.fifo"}, "alarmTopicArn='arn:aws:sns:us-east-1:"
     "123456789012:alarms.fifo' is not an SNS topic ARN"),
    ({"alarmTopicArn": "arn:aws:sns:us-east-1:123456789012:a", "alarmTopic": "true"},
     "alarmTopicArn and alarmTopic=true exclude each other"),
    ({"alarmTopic": "true", "alarmEmails": "ops@example.com,nobody"}, "alarmEmails[1]='nobody' is not an email"),
    ({"alarmTopic": "true", "alarmEmails": '["ops@example.com", 3]'}, "is not a list of strings"),
    ({"alarmTopic": "true", "alarmEmails": "a@example.com,b@example.com,a@example.com"},
     "alarmEmails[2]='a@example.com' is listed twice"),
    ({"alarmTopic": "true", "alarmHttpsEndpoints": "http://hooks.example.com/x"},
     "alarmHttpsEndpoints[0]='http://hooks.example.com/x' is not an https:// URL"),
    ({"alarmHttpsEndpoints": "https://hooks.example.com/x"}, "alarmHttpsEndpoints needs alarmTopic=true"),
    ({"development": "yes"}, "development='yes' is not one of {true, false}"),
    ({"protectStatefulResources": "1"}, "protectStatefulResources='1' is not one of {true, false}"),
    ({"powertoolsLayerArn": "arn:aws:lambda:us-east-1:123456789012:layer:powertools"},
     "powertoolsLayerArn='arn:aws:lambda:us-east-1:123456789012:layer:powertools' is not a Lambda layer version ARN"),
]


@pytest.mark.parametrize(("raw", "message"), CONFIG_ERRORS)
def test_config_error_names_key_value_and_range(raw: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        parse_stack_config(raw)
    assert message in str(error.value)


@pytest.mark.parametrize("key", [
    KEY, f"arn:aws:kms:us-east-1:{ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab",  # C07: multi-Region key
    f"arn:aws-cn:kms:cn-north-1:{ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab",
    f"arn:aws-us-gov:kms:us-gov-west-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555",
])
def test_every_documented_key_arn_form_is_accepted_unchanged(key: str) -> None:
    assert parse_stack_config({"kmsKeyArn": key}).kms_key_arn == key


# C08 and its shapes: (functionTimeoutSeconds, batchingWindowSeconds, batchSize) -> visibility, heartbeat, task
@pytest.mark.parametrize(("raw", "derived"), [
    ({"functionTimeoutSeconds": "3", "batchingWindowSeconds": "60"}, (78, 156, 468)),
    ({"functionTimeoutSeconds": "3", "batchingWindowSeconds": "300", "batchSize": "100"}, (318, 636, 1908)),
    ({"functionTimeoutSeconds": "3", "batchingWindowSeconds": "60", "maxReceiveCount": "10"}, (78, 156, 858)),
    ({"functionTimeoutSeconds": "10"}, (60, 120, 360)),
])
def test_timeouts_derive_from_the_function_timeout_and_the_window(raw: dict[str, str],
                                                                  derived: tuple[int, int, int]) -> None:
    s = parse_stack_config(raw).settings
    assert (s.visibility_timeout_seconds, s.heartbeat_seconds, s.task_timeout_seconds) == derived


def test_alarm_lists_read_as_yaml_lists_or_comma_separated() -> None:
    config = parse_stack_config({"alarmTopic": "true", "alarmEmails": '["a@example.com", "b@example.org"]',
                                 "alarmHttpsEndpoints": "https://x.example.com/a, https://y.example.com/b"})
    assert config.alarm_emails == ("a@example.com", "b@example.org")
    assert config.alarm_https_endpoints == ("https://x.example.com/a", "https://y.example.com/b")


def test_valid_config_derives_timeouts_from_the_function_timeout() -> None:
    s = parse_stack_config({"functionTimeoutSeconds": "10"}).settings
    assert (s.visibility_timeout_seconds, s.heartbeat_seconds, s.task_timeout_seconds) == (60, 120, 360)


def test_bad_config_fails_the_program_before_any_resource() -> None:
    with pytest.raises(SettingsError, match="functionTimeoutSeconds=901"):
        synthesize("dev", config_overrides={"orderflow:functionTimeoutSeconds": "901"})
