"""The callback library's public API: the analyzer reads every component, the grant methods' exact policies (with
and without a customer key, with a key that is an Output), the embeddable callback task, the definition's refusal
of a callback task without a timeout, and the generic failure path."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import orderflow
import pytest
from orderflow.callback_worker import failure_path
from orderflow.definition import (
    NO_TIMEOUT,
    CallbackDefinition,
    DefinitionError,
    FailurePath,
    callback_task,
    check_definition,
)
from orderflow.settings import SettingsError, WorkerSettings
from pulumi.provider.experimental.analyzer import Analyzer

from components.inventory_service.service import FAILURE
from components.inventory_service.table import InventoryTable
from tests.conftest import resources
from tools.synth import synthesize

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "components" / "orderflow"
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:orderflow-dev-pay-queue"
URL = "https://sqs.us-east-1.amazonaws.com/123456789012/orderflow-dev-pay-queue"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:orderflow-dev-pay"
EXECUTIONS = ["arn:aws:states:us-east-1:123456789012:execution:orderflow-dev-pay:*",
              "arn:aws:states:us-east-1:123456789012:express:orderflow-dev-pay:*:*"]
SETTINGS = WorkerSettings(function_timeout_seconds=3)  # visibility 18, heartbeat 36, task 108
# A payments team's program: its own role gets every grant of the worker; the key is plain, an Output, or none.
PROGRAM = '''
import pulumi, pulumi_aws as aws
from orderflow import CallbackWorker

KEY = {key!r}
key = aws.sns.Topic("key-source").arn.apply(lambda _: KEY) if {output} else KEY
table = aws.dynamodb.Table("ledger", name="ledger", hash_key="pk", attributes=[{{"name": "pk", "type": "S"}}])
args = {{"code_path": "handlers", "handler": "inventory.app.lambda_handler", "settings": {{"function_timeout_seconds": 3}},
        "environment": {{"LEDGER": table.name}},
        "worker_statements": [{{"sid": "Ledger", "actions": ["dynamodb:PutItem"], "resources": [table.arn]}}]}}
if KEY:
    args["kms_key_arn"] = key
worker = CallbackWorker("pay", args)
api = aws.iam.Role("api", assume_role_policy="{{}}")
worker.queue.grant_send_messages(api)
worker.queue.grant_consume_messages(api)
worker.workflow.grant_start_execution(api)
worker.workflow.grant_read(api)
worker.workflow.grant_task_response(api)
worker.workflow.grant_redrive(api)
'''


def allow(sid: str, actions: list[str], resource: Any) -> dict[str, Any]:
    return {"Action": actions, "Effect": "Allow", "Resource": resource, "Sid": sid}


def grants_of(tmp_path: Path, key: str | None, output: bool = False, preview: bool = False) -> dict[str, Any]:
    program = tmp_path / "payments.py"
    program.write_text(PROGRAM.format(key=key, output=output))
    export = synthesize("dev", program=program, preview=preview, computed=not preview)
    return {r["urn"].rsplit("::", 1)[1]: r["inputs"] for r in resources(export, "aws:iam/rolePolicy:RolePolicy")}


def policy(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(inputs["policy"])["Statement"]


def test_the_analyzer_reads_every_public_component() -> None:
    result = Analyzer("orderflow").analyze([*orderflow.COMPONENTS, InventoryTable])
    components = result["component_definitions"]
    assert sorted(components) == ["CallbackWorker", "InventoryTable"]
    worker = components["CallbackWorker"]
    for prop in [*worker.inputs.values(), *worker.outputs.values(),
                 *(p for t in result["type_definitions"].values() for p in t.properties.values())]:
        assert prop.description, prop
    assert (worker.inputs["codePath"].optional, worker.inputs["handler"].optional) == (False, False)
    # values another resource may give are Inputs (not plain); values the preview checks stay plain
    assert {k for k, p in worker.inputs.items() if not p.plain} == {"kmsKeyArn", "alarmTopicArn",
                                                                    "powertoolsLayerArn"}
    assert worker.inputs["environment"].additional_properties.plain is None
    grant = result["type_definitions"]["WorkerGrantArgs"]
    assert grant.properties["resources"].items.plain is None
    assert sorted(worker.outputs) == ["alarmTopicArn", "dlqArn", "dlqUrl", "functionArn", "functionName",
                                      "queueArn", "queueUrl", "stateMachineArn", "stateMachineRoleArn",
                                      "workerRoleArn"]


def test_every_grant_without_a_key(tmp_path: Path) -> None:
    found = grants_of(tmp_path, None)
    mine = {k: v for k, v in found.items() if k.startswith("pay-api-")}
    assert {k: (v["name"], policy(v)) for k, v in mine.items()} == {
        "pay-api-send-messages": ("orderflow-dev-pay-send-messages",
                                  [allow("SendToQueue", ["sqs:SendMessage"], [QUEUE])]),
        "pay-api-consume-messages": ("orderflow-dev-pay-consume-messages", [allow(
            "ConsumeQueue", ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"], [QUEUE])]),
        "pay-api-start-execution": ("orderflow-dev-pay-start-execution",
                                    [allow("StartExecution", ["states:StartExecution"], [MACHINE])]),
        "pay-api-read": ("orderflow-dev-pay-read", [
            allow("ReadExecutions", ["states:DescribeExecution", "states:GetExecutionHistory"], EXECUTIONS),
            allow("ReadStateMachine", ["states:DescribeStateMachine", "states:ListExecutions"], [MACHINE])]),
        "pay-api-task-response": ("orderflow-dev-pay-task-response", [allow(
            "AnswerTaskTokens", ["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"],
            "*")]),
        "pay-api-redrive": ("orderflow-dev-pay-redrive",
                            [allow("RedriveExecution", ["states:RedriveExecution"], EXECUTIONS)]),
    }
    assert {inputs["role"] for inputs in mine.values()} == {"api"}
    # the worker's own extra statement on an Output ARN, exact
    assert policy(found["pay-work"]) == [allow("Ledger", ["dynamodb:PutItem"],
                                               ["arn:aws:dynamodb:us-east-1:123456789012:table/ledger"])]


@pytest.mark.parametrize("output", [False, True])
def test_queue_grants_with_a_key_add_exactly_its_kms_actions(tmp_path: Path, output: bool) -> None:
    found = grants_of(tmp_path, KEY, output)
    assert policy(found["pay-api-send-messages-key"]) == [
        allow("EncryptMessages", ["kms:Decrypt", "kms:GenerateDataKey"], [KEY])]
    assert policy(found["pay-api-consume-messages-key"]) == [allow("DecryptMessages", ["kms:Decrypt"], [KEY])]
    # the worker's own roles: the same methods, the same layout as before the split
    assert policy(found["pay-encrypt-messages"]) == [
        allow("EncryptMessages", ["kms:Decrypt", "kms:GenerateDataKey"], [KEY])]
    assert policy(found["pay-decrypt-messages"]) == [allow("DecryptMessages", ["kms:Decrypt"], [KEY])]
    assert policy(found["pay-send-to-queue"]) == [allow("SendToQueue", ["sqs:SendMessage"], [QUEUE])]


def test_an_unknown_key_leaves_the_policy_unknown_never_a_wildcard(tmp_path: Path) -> None:
    found = grants_of(tmp_path, KEY, output=True, preview=True)
    assert not isinstance(found["pay-api-send-messages-key"].get("policy"), str)
    assert policy(found["pay-api-send-messages"]) == [allow("SendToQueue", ["sqs:SendMessage"], [QUEUE])]


def test_a_grant_name_is_used_once(tmp_path: Path) -> None:
    program = tmp_path / "twice.py"
    program.write_text(PROGRAM.format(key=None, output=False) + "worker.workflow.grant_read(api)\n")
    with pytest.raises(ValueError, match="grant 'pay-api-read' registered twice"):
        synthesize("dev", program=program)


def test_the_embedded_task_and_its_statements() -> None:
    task = callback_task(URL, QUEUE, SETTINGS, kms_key_arn=KEY, catch=[{"ErrorEquals": ["Declined"], "Next": "No"}],
                         result_path="$.payment", result_selector={"id.$": "$.id"}, next_state="Ship")
    assert task.state == {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": URL, "MessageBody": {
            "order.$": "$", "taskToken.$": "$$.Task.Token", "execution.$": "$$.Execution.Id"}},
        "TimeoutSeconds": 108,
        "HeartbeatSeconds": 36,
        "Retry": [{"ErrorEquals": ["SQS.SdkClientException", "SQS.AmazonSQSException"], "IntervalSeconds": 1,
                   "MaxAttempts": 3, "BackoffRate": 2.0}],
        "Catch": [{"ErrorEquals": ["Declined"], "Next": "No"}],
        "ResultSelector": {"id.$": "$.id"},
        "ResultPath": "$.payment",
        "Next": "Ship",
    }
    assert task.statements == [
        {"Sid": "SendToQueue", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [QUEUE]},
        {"Sid": "EncryptMessages", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": [KEY]}]
    plain = callback_task(URL, QUEUE, SETTINGS)
    assert (plain.state["End"], "Next" in plain.state, "Catch" in plain.state) == (True, False, False)
    assert [st["Sid"] for st in plain.statements] == ["SendToQueue"]


@pytest.mark.parametrize(("state", "message"), [
    ({}, "needs TimeoutSeconds below 99999999 (got None)"),
    ({"TimeoutSeconds": NO_TIMEOUT}, "(got 99999999)"),
    ({"TimeoutSeconds": 60, "HeartbeatSeconds": 60}, "HeartbeatSeconds=60 must be smaller than TimeoutSeconds=60"),
])
def test_a_callback_task_without_a_timeout_is_refused(state: dict[str, Any], message: str) -> None:
    wait = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": True, **state}
    with pytest.raises(DefinitionError, match="state 'Pay'") as error:
        check_definition({"StartAt": "Pay", "States": {"Pay": wait}})
    assert message in str(error.value)
    nested = {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Pay", "States": {"Pay": wait}}]}}}
    with pytest.raises(DefinitionError, match="state 'Pay'"):
        check_definition(nested)


def test_the_component_definition_is_checked_when_built() -> None:
    built = CallbackDefinition(URL, QUEUE, WorkerSettings(function_timeout_seconds=1, heartbeat_seconds=12,
                                                          task_timeout_seconds=36))
    check_definition(built.build())
    task = built.task().state
    task.pop("TimeoutSeconds")
    with pytest.raises(DefinitionError, match="state 'Callback'"):
        check_definition({"StartAt": "Callback", "States": {"Callback": task}})


def test_a_workflow_without_compensation_has_no_compensation_state() -> None:
    definition = CallbackDefinition(URL, QUEUE, SETTINGS, failure=FailurePath(rejection_errors=("Declined",))).build()
    assert list(definition["States"]) == ["Callback", "Rejected", "Failed"]
    assert definition["States"]["Callback"]["Catch"] == [
        {"ErrorEquals": ["Declined"], "Next": "Rejected"},
        {"ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"], "Next": "Failed"},
        {"ErrorEquals": ["States.ALL"], "Next": "Failed"}]
    assert definition["States"]["Failed"] == {"Type": "Fail", "Error": "CallbackFailed", "CausePath": "$.Error"}
    bare = CallbackDefinition(URL, QUEUE, SETTINGS).build()
    assert list(bare["States"]) == ["Callback", "Failed"]
    assert "inventory" not in json.dumps(bare).lower()


def test_rejections_compensation_and_names_come_from_settings() -> None:
    failure = failure_path({"rejection_errors": ["CardDeclined", "Fraud"], "compensation_action": "refund",
                            "task_state": "Charge", "rejection_state": "Declined", "compensation_state": "Refund",
                            "failed_state": "Payment Failed", "failed_error": "PaymentFailed"})
    states = CallbackDefinition(URL, QUEUE, SETTINGS, failure=failure).build()["States"]
    assert list(states) == ["Charge", "Refund", "Declined", "Payment Failed"]
    assert states["Charge"]["Catch"][0] == {"ErrorEquals": ["CardDeclined", "Fraud"], "Next": "Declined"}
    assert states["Refund"]["Parameters"]["MessageBody"] == {
        "action": "refund", "order.$": "$$.Execution.Input", "execution.$": "$$.Execution.Id"}
    assert states["Payment Failed"]["Error"] == "PaymentFailed"


def test_the_inventory_failure_path_is_its_own() -> None:
    states = CallbackDefinition(URL, QUEUE, SETTINGS, failure=failure_path(FAILURE)).build()["States"]
    assert list(states) == ["Check Inventory", "Release Reservation", "Notify Rejection", "Order Failed"]
    assert states["Check Inventory"]["Catch"][0]["ErrorEquals"] == ["OutOfStock", "UnknownSku", "InvalidOrder"]
    assert states["Release Reservation"]["Parameters"]["MessageBody"]["action"] == "release"


@pytest.mark.parametrize(("given", "message"), [
    ({"rejection_erors": ["X"]}, "failure: unknown key 'rejection_erors'"),
    ({"task_state": "Same", "failed_state": "Same"}, "state names must be distinct"),
    ({"failed_error": "States.Timeout"}, "must be non-empty and not a States.* name"),
])
def test_a_bad_failure_path_is_refused(given: dict[str, Any], message: str) -> None:
    with pytest.raises((SettingsError, DefinitionError), match=message.replace("*", r"\*").replace(".", r"\.")):
        failure_path(given)


def test_no_function_of_the_library_is_over_60_lines() -> None:
    long = []
    for path in sorted(LIBRARY.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (node.end_lineno or 0) - node.lineno >= 60:
                long.append(f"{path.name}:{node.name}")
    assert long == []


def test_the_library_names_no_inventory() -> None:
    """No inventory word: its table, stock, SKUs, rejections, release message, state names and error."""
    words = re.compile(r"inventory|\bstock|\bskus?\b|OutOfStock|UnknownSku|InvalidOrder|reserv(e|ation)s? "
                       r"(stock|order)|Release Reservation|\"release\"|Notify Rejection|Order ?Failed", re.IGNORECASE)
    found = [(path.name, m.group(0)) for path in sorted(LIBRARY.glob("*.py")) for m in words.finditer(path.read_text())]
    assert found == []


# A caller's machine over two workers without machines of their own; {extra} replaces parts of the definition/args.
ORCHESTRATED = '''
import pulumi
from orderflow import CallbackStateMachine, CallbackWorker

def worker(name):
    return CallbackWorker(name, {{"code_path": "handlers", "handler": "inventory.app.lambda_handler",
                                 "settings": {{"function_timeout_seconds": 3}}, "state_machine": False}})

pick, pack = worker("pick"), worker("pack")
states = {{
    "Pick": pick.callback_task(next_state="Pack", result_path="$.picked", trace_header_path="$.traceHeader").state,
    "Pack": pack.callback_task(catch=[{{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure",
                                       "Next": "Unpick"}}]).state,
    "Unpick": pick.compensation_task("unpick", next_state="Failed"),
    "Failed": {{"Type": "Fail", "Error": "PackFailed"}},
}}
args = {{"definition": {{"StartAt": "Pick", "States": states}}, "workers": [pick, pack],
        "stop_compensations": [{{"worker": pick, "action": "unpick"}}]}}
{extra}
machine = CallbackStateMachine("flow", args)
'''


def orchestrated(tmp_path: Path, extra: str = "") -> dict[str, Any]:
    program = tmp_path / "flow.py"
    program.write_text(ORCHESTRATED.format(extra=extra))
    return synthesize("dev", program=program)


def test_a_worker_without_a_state_machine_and_the_machine_over_two(tmp_path: Path) -> None:
    export = orchestrated(tmp_path)
    by_name = {r["urn"].rsplit("::", 1)[1]: r for r in export["deployment"]["resources"]}
    assert [n for n, r in by_name.items() if r["type"] == "aws:sfn/stateMachine:StateMachine"] == [
        "flow-state-machine"]
    assert not [n for n in by_name if n.endswith(("-sm-role", "-sm-logs")) or ("executions-" in n and
                not n.startswith("flow-"))]
    answer = json.loads(by_name["pick-answer-tasks"]["inputs"]["policy"])["Statement"]
    assert [st["Sid"] for st in answer] == ["AnswerTaskTokens"]  # DescribeExecution comes from the machine
    flow_executions = ["arn:aws:states:us-east-1:123456789012:execution:orderflow-dev-flow:*",
                       "arn:aws:states:us-east-1:123456789012:express:orderflow-dev-flow:*:*"]
    for worker in ("pick", "pack"):
        grant = by_name[f"flow-{worker}-worker-role-describe-executions"]["inputs"]
        assert (grant["role"], policy(grant)) == (f"orderflow-dev-{worker}-worker-role", [
            allow("DescribeExecutions", ["states:DescribeExecution"], flow_executions)])
        sends = by_name[f"{worker}-flow-role-send-messages"]["inputs"]
        assert (sends["role"], policy(sends)) == ("orderflow-dev-flow-role", [allow(
            "SendToQueue", ["sqs:SendMessage"], [f"arn:aws:sqs:us-east-1:123456789012:orderflow-dev-{worker}-queue"])])
    states = json.loads(by_name["flow-state-machine"]["inputs"]["definition"])["States"]
    assert states["Pick"]["Parameters"]["MessageAttributes"] == {
        "traceHeader": {"DataType": "String", "StringValue.$": "$.traceHeader"}}
    assert "MessageAttributes" not in states["Pack"]["Parameters"]
    pick_policy = json.loads(by_name["pick-queue-policy"]["inputs"]["policy"])["Statement"]
    assert [st["Sid"] for st in pick_policy] == ["DenyInsecureTransport", "SendFromRules"]
    assert pick_policy[1]["Condition"] == {"ArnEquals": {"aws:SourceArn": [
        "arn:aws:events:us-east-1:123456789012:rule/orderflow-dev-flow-stopped"]}}
    pack_policy = json.loads(by_name["pack-queue-policy"]["inputs"]["policy"])["Statement"]
    assert [st["Sid"] for st in pack_policy] == ["DenyInsecureTransport"]  # registered, no rule: not compensating
    assert [n for n, r in by_name.items() if r["type"] == "aws:cloudwatch/eventTarget:EventTarget"] == [
        "flow-stopped-pick"]


@pytest.mark.parametrize(("extra", "message"), [
    ('states["Pack"] = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}',
     "state 'Pack': 'arn:aws:states:::lambda:invoke' is not an SQS send"),
    ('states["Pack"]["Parameters"]["QueueUrl"] = "https://sqs.us-east-1.amazonaws.com/123456789012/other"',
     "state 'Pack': sends to 'https://sqs.us-east-1.amazonaws.com/123456789012/other', no listed worker's queue"),
    ('args["workers"].append(worker("spare"))', "workers \\['spare'\\] are never sent to"),
    ('states["Pack"].pop("TimeoutSeconds")', "state 'Pack': a callback task"),
    ('args["stop_compensations"] = [{"worker": worker("other"), "action": "x"}]', "'other': not one of the workers"),
    ('args["stop_compensations"] = [{"worker": pick, "action": "check"}]', "action 'check': must be non-empty"),
    ('args["log_level"] = "DEBUG"', "log_level='DEBUG'; one of ALL, ERROR, FATAL"),
    ('args["log_retention_days"] = 2', "log_retention_days=2 is not a CloudWatch Logs value"),
])
def test_a_bad_orchestration_is_refused(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises((SettingsError, DefinitionError), match=message):
        orchestrated(tmp_path, extra)


def test_a_rule_is_granted_before_the_queue_policy_is_registered(tmp_path: Path) -> None:
    program = tmp_path / "late.py"
    program.write_text(PROGRAM.format(key=None, output=False)
                       + 'worker.queue.grant_send_from_rule("arn:aws:events:us-east-1:123456789012:rule/r")\n')
    with pytest.raises(ValueError, match="its resource policy is already registered"):
        synthesize("dev", program=program)


def test_a_compensation_state_refuses_the_tasks_own_action() -> None:
    from orderflow import compensation_state

    with pytest.raises(DefinitionError, match="compensation action 'check'"):
        compensation_state(URL, "check", next_state="X", catch_next="X", error_path="$.e")
    with pytest.raises(DefinitionError, match="compensation action ''"):
        compensation_state(URL, "", next_state="X", catch_next="X", error_path="$.e")
