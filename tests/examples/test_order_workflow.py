"""The order workflow example (examples/order-workflow): its own project on the library's public API, synthesized
from its stack file, passing the pack; the orchestrating machine's role sends to exactly the two queues; each
worker touches only its own queue and table, with exactly the ledger's DynamoDB actions; the definition's states
and transitions; the stop-compensation rule, its targets and the queue policies letting it in; and the CI roles
`make roles PROGRAM=examples/order-workflow` writes for it."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from policy.audit import evaluate
from tests.examples.test_examples import named, resources
from tools.synth import synthesize

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "examples" / "order-workflow"
ARN = "arn:aws:{}:us-east-1:123456789012:{}"
BASE = "order-workflow-dev"
QUEUES = {s: ARN.format("sqs", f"{BASE}-{s}-queue") for s in ("inventory", "payment")}
TABLES = {s: ARN.format("dynamodb", f"table/{BASE}-{s}") for s in ("inventory", "payment")}
MACHINE = ARN.format("states", f"stateMachine:{BASE}-orders")
EXECUTIONS = [ARN.format("states", f"execution:{BASE}-orders:*"), ARN.format("states", f"express:{BASE}-orders:*:*")]
RULE = ARN.format("events", f"rule/{BASE}-orders-stopped")
FORBIDDEN = ("components.inventory_service", "from components", "import components", "tools.", "handlers.")
DYNAMODB_CALLS = {"get_item": "GetItem", "put_item": "PutItem", "update_item": "UpdateItem",
                  "delete_item": "DeleteItem", "query": "Query", "scan": "Scan", "batch_get_item": "BatchGetItem",
                  "batch_write_item": "BatchWriteItem", "transact_get_items": "TransactGetItems"}
TRANSACT_ITEMS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                  "ConditionCheck": "ConditionCheckItem"}
"""IAM authorizes TransactWriteItems per item action
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html)."""
TOOL_SIDE = {"seed", "read"}
"""Ledger functions the tools call to seed and read a table (issue 21's interfaces, section 1), never a worker."""


@pytest.fixture(scope="module")
def export() -> dict[str, Any]:
    return synthesize("dev", program=PROGRAM, stack_file=PROGRAM / "Pulumi.dev.yaml")


def statements_of_role(export: dict[str, Any], role: str) -> list[dict[str, Any]]:
    found = [st for r in resources(export, "aws:iam/rolePolicy:RolePolicy") if r["inputs"]["role"] == role
             for st in json.loads(r["inputs"]["policy"])["Statement"]]
    return sorted(found, key=lambda st: (st["Sid"], json.dumps(st["Resource"])))


def allow(sid: str, actions: list[str], resource: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}


def definition(export: dict[str, Any]) -> dict[str, Any]:
    machine = named(export, "aws:sfn/stateMachine:StateMachine", "orders-state-machine")
    return dict(json.loads(machine["inputs"]["definition"]))


def example_module() -> Any:
    """The program's module constants without running it (its top level registers resources)."""
    tree = ast.parse((PROGRAM / "__main__.py").read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id.isupper():
            found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def test_the_program_uses_only_the_public_api_and_the_repositorys_handlers() -> None:
    text = (PROGRAM / "__main__.py").read_text()
    assert [word for word in FORBIDDEN if word in text] == []
    assert '"../../handlers"' in text
    for handler in ("inventory.app.lambda_handler", "payment.app.lambda_handler"):
        assert f'"{handler}"' in text


def test_it_is_its_own_project_and_passes_the_pack(export: dict[str, Any]) -> None:
    (stack,) = resources(export, "pulumi:pulumi:Stack")
    assert stack["urn"] == "urn:pulumi:dev::order-workflow::pulumi:pulumi:Stack::order-workflow-dev"
    assert [(v.rule, v.level, v.message) for v in evaluate(export)] == []


def test_the_workers_have_no_state_machine_of_their_own(export: dict[str, Any]) -> None:
    machines = resources(export, "aws:sfn/stateMachine:StateMachine")
    assert [m["inputs"]["name"] for m in machines] == [f"{BASE}-orders"]
    roles = sorted(r["inputs"]["name"] for r in resources(export, "aws:iam/role:Role"))
    assert roles == [f"{BASE}-inventory-worker-role", f"{BASE}-orders-role", f"{BASE}-payment-worker-role"]
    alarms = sorted(a["inputs"]["name"] for a in resources(export, "aws:cloudwatch/metricAlarm:MetricAlarm"))
    per_worker = ["dlq-new-letters", "oldest-message", "worker-errors", "worker-throttles"]
    assert alarms == sorted([f"{BASE}-{s}-{a}" for s in ("inventory", "payment") for a in per_worker]
                            + [f"{BASE}-orders-executions-{a}" for a in ("aborted", "failed", "timed-out")])
    for service in ("inventory", "payment"):
        function = named(export, "aws:lambda/function:Function", f"{service}-worker")
        env = function["inputs"]["environment"]["variables"]
        assert (env["TABLE_NAME"], env["KEPT_STATUSES"]) == (f"{BASE}-{service}", "COMPLETED")
        assert function["inputs"]["handler"] == f"{service}.app.lambda_handler"


def test_the_tables(export: dict[str, Any]) -> None:
    for service in ("inventory", "payment"):
        table = named(export, "aws:dynamodb/table:Table", f"{service}-table")
        inputs = table["inputs"]
        assert (inputs["name"], inputs["billingMode"], inputs["hashKey"]) == (f"{BASE}-{service}",
                                                                             "PAY_PER_REQUEST", "pk")
        assert inputs["attributes"] == [{"name": "pk", "type": "S"}]
        assert inputs["serverSideEncryption"]["enabled"] is True
        assert inputs["pointInTimeRecovery"]["enabled"] is True
        assert table["outputs"]["arn"] == TABLES[service]


def test_the_machines_role_sends_to_exactly_the_two_queues(export: dict[str, Any]) -> None:
    delivery = sorted(f"logs:{a}" for a in ("CreateLogDelivery", "DeleteLogDelivery", "DescribeLogGroups",
                                            "DescribeResourcePolicies", "GetLogDelivery", "ListLogDeliveries",
                                            "PutResourcePolicy", "UpdateLogDelivery"))
    assert statements_of_role(export, f"{BASE}-orders-role") == [
        allow("DeliverLogs", delivery, "*"),
        allow("SendToQueue", ["sqs:SendMessage"], [QUEUES["inventory"]]),
        allow("SendToQueue", ["sqs:SendMessage"], [QUEUES["payment"]]),
        allow("WriteTraces", ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords",
                              "xray:PutTraceSegments"], "*"),
    ]
    role = named(export, "aws:iam/role:Role", "orders-role")
    trust = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "states.amazonaws.com"}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"] == [MACHINE, f"{MACHINE}:*"]


@pytest.mark.parametrize("service", ["inventory", "payment"])
def test_each_worker_touches_only_its_own_queue_and_table(export: dict[str, Any], service: str) -> None:
    log_group = ARN.format("logs", f"log-group:/aws/lambda/{BASE}-{service}-worker:*")
    assert statements_of_role(export, f"{BASE}-{service}-worker-role") == [
        allow("AnswerTaskTokens", ["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"],
              "*"),
        allow("ConsumeQueue", ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
              [QUEUES[service]]),
        allow("DescribeExecutions", ["states:DescribeExecution"], EXECUTIONS),
        allow("Ledger", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [TABLES[service]]),
        allow("WriteLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [log_group]),
        allow("WriteTraces", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*"),
    ]


def worker_dynamodb_actions() -> set[str]:
    """The DynamoDB IAM actions the worker code under handlers/ calls (tool-side seed/read left out)."""
    found: set[str] = set()
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        tree = ast.parse(path.read_text())
        skip = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name in TOOL_SIDE
                for n in ast.walk(f)}
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in DYNAMODB_CALLS:
                    found.add(f"dynamodb:{DYNAMODB_CALLS[node.func.attr]}")
                if node.func.attr == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
                    found.add(f"dynamodb:{DYNAMODB_CALLS.get(str(node.args[0].value), node.args[0].value)}")
            if isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value in TRANSACT_ITEMS
                                                  for k in node.keys) and "transact_write_items" in path.read_text():
                found |= {f"dynamodb:{TRANSACT_ITEMS[k.value]}" for k in node.keys
                          if isinstance(k, ast.Constant) and k.value in TRANSACT_ITEMS}
    return found


def test_the_ledger_grant_is_exactly_what_the_worker_code_calls() -> None:
    assert example_module()["LEDGER_ACTIONS"] == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    assert worker_dynamodb_actions() == set(example_module()["LEDGER_ACTIONS"])


def test_the_definitions_states_and_transitions(export: dict[str, Any]) -> None:
    d = definition(export)
    states = d["States"]
    assert d["StartAt"] == "Reserve Inventory"
    assert sorted(states) == sorted(["Reserve Inventory", "Authorize Payment", "Order Completed",
                                     "Order Rejected", "Release Reservation", "Void Authorization",
                                     "Release Stock", "Order Failed"])
    url = {s: named(export, "aws:sqs/queue:Queue", f"{s}-queue")["outputs"]["url"] for s in QUEUES}
    reserve, authorize = states["Reserve Inventory"], states["Authorize Payment"]
    for state, service in ((reserve, "inventory"), (authorize, "payment")):
        assert state["Resource"] == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
        assert state["Parameters"]["QueueUrl"] == url[service]
        assert state["Parameters"]["MessageBody"] == {"order.$": "$", "taskToken.$": "$$.Task.Token",
                                                      "execution.$": "$$.Execution.Id"}
        assert state["TimeoutSeconds"] > state["HeartbeatSeconds"] > 0
    timeouts = ["States.Timeout", "States.HeartbeatTimeout"]
    assert (reserve["ResultPath"], reserve["Next"]) == ("$.reservation", "Authorize Payment")
    assert reserve["Catch"] == [
        {"ErrorEquals": ["OutOfStock", "UnknownSku", "InvalidOrder"], "ResultPath": "$.rejection",
         "Next": "Order Rejected"},
        {"ErrorEquals": timeouts, "ResultPath": "$.failure", "Next": "Release Stock"},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Release Stock"}]
    assert (authorize["ResultPath"], authorize["Next"]) == ("$.authorization", "Order Completed")
    assert authorize["Catch"] == [
        {"ErrorEquals": ["PaymentDeclined", "UnknownCustomer", "InvalidPayment"], "ResultPath": "$.rejection",
         "Next": "Release Reservation"},
        {"ErrorEquals": timeouts, "ResultPath": "$.failure", "Next": "Void Authorization"},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Void Authorization"}]
    assert states["Order Completed"] == {"Type": "Pass", "End": True, "Parameters": {
        "orderId.$": "$.orderId", "status": "COMPLETED", "reservation.$": "$.reservation",
        "authorization.$": "$.authorization"}}
    assert states["Order Rejected"] == {"Type": "Pass", "End": True, "Parameters": {
        "status": "REJECTED", "reason.$": "$.rejection.Error", "cause.$": "$.rejection.Cause",
        "execution.$": "$$.Execution.Name"}}
    assert states["Order Failed"] == {"Type": "Fail", "Error": "OrderFailed", "CausePath": "$.failure.Error"}
    sends = {"Release Reservation": ("inventory", "release", "Order Rejected", "Order Failed", "$.failure"),
             "Void Authorization": ("payment", "void", "Release Stock", "Release Stock", "$.voidError"),
             "Release Stock": ("inventory", "release", "Order Failed", "Order Failed", "$.releaseError")}
    for name, (service, action, after, on_error, error_path) in sends.items():
        state = states[name]
        assert state["Resource"] == "arn:aws:states:::sqs:sendMessage"
        assert state["Parameters"] == {"QueueUrl": url[service], "MessageBody": {
            "action": action, "order.$": "$$.Execution.Input", "execution.$": "$$.Execution.Id"}}
        assert state["ResultPath"] is None  # the rejection reason (and the failure) survive the send
        assert (state["Next"], state["Catch"]) == (after, [
            {"ErrorEquals": ["States.ALL"], "ResultPath": error_path, "Next": on_error}])
    machine = named(export, "aws:sfn/stateMachine:StateMachine", "orders-state-machine")["inputs"]
    assert (machine["type"], machine["tracingConfiguration"]) == ("STANDARD", {"enabled": True})
    assert machine["loggingConfiguration"]["logDestination"] == ARN.format(
        "logs", f"log-group:/aws/vendedlogs/states/{BASE}-orders:*")


def test_the_stop_rule_its_targets_and_the_queue_policies(export: dict[str, Any]) -> None:
    rule = named(export, "aws:cloudwatch/eventRule:EventRule", "orders-stopped")["inputs"]
    assert rule["name"] == f"{BASE}-orders-stopped"
    assert json.loads(rule["eventPattern"]) == {
        "source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["ABORTED", "TIMED_OUT"], "stateMachineArn": [MACHINE]}}
    for service, action in (("inventory", "release"), ("payment", "void")):
        target = named(export, "aws:cloudwatch/eventTarget:EventTarget", f"orders-stopped-{service}")["inputs"]
        assert (target["rule"], target["arn"], target["targetId"]) == (rule["name"], QUEUES[service], service)
        transformer = target["inputTransformer"]
        assert transformer["inputPaths"] == {"input": "$.detail.input", "execution": "$.detail.executionArn"}
        filled = transformer["inputTemplate"].replace("<input>", '{\\"orderId\\": \\"o-1\\"}').replace(
            "<execution>", "arn:x")
        assert json.loads(filled) == {"action": action, "order": '{"orderId": "o-1"}', "execution": "arn:x"}
        policy = named(export, "aws:sqs/queuePolicy:QueuePolicy", f"{service}-queue-policy")["inputs"]
        assert json.loads(policy["policy"])["Statement"] == [
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
             "Resource": QUEUES[service], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "SendFromRules", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
             "Action": "sqs:SendMessage", "Resource": QUEUES[service],
             "Condition": {"ArnEquals": {"aws:SourceArn": [RULE]}}}]


def test_make_roles_writes_the_programs_ci_roles(tmp_path: Path) -> None:
    out = tmp_path / "roles"
    done = subprocess.run(["make", "-s", "roles", "PROGRAM=examples/order-workflow", "STACK=dev", f"OUT={out}"],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "make roles PROGRAM=examples/order-workflow STACK=dev ACCOUNT=<12 digits>" in done.stderr
    assert "note: no smoke role for PROGRAM=examples/order-workflow: make smoke runs the root program's" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["deploy-policy.json", "preview-policy.json"]
    deploy = json.loads((out / "deploy-policy.json").read_text())
    preview = json.loads((out / "preview-policy.json").read_text())
    on_rule = {a for st in deploy["Statement"] if st["Resource"] == [RULE] for a in st["Action"]}
    assert on_rule == {"events:DeleteRule", "events:DescribeRule", "events:DisableRule", "events:EnableRule",
                       "events:ListTagsForResource", "events:ListTargetsByRule", "events:PutRule",
                       "events:PutTargets", "events:RemoveTargets", "events:TagResource", "events:UntagResource"}
    assert {a for st in preview["Statement"] if st["Resource"] == [RULE] for a in st["Action"]} == {
        "events:DescribeRule", "events:ListTagsForResource", "events:ListTargetsByRule"}
    machines = [st for st in deploy["Statement"] if "states:CreateStateMachine" in st["Action"]]
    assert [st["Resource"] for st in machines] == [[MACHINE]]
    passed = sorted(st["Resource"][0] for st in deploy["Statement"] if st["Action"] == ["iam:PassRole"])
    assert passed == sorted(f"arn:aws:iam::123456789012:role/{BASE}-{r}" for r in
                            ("inventory-worker-role", "orders-role", "payment-worker-role"))


def test_the_samples_parse_and_cover_every_outcome() -> None:
    orders = json.loads((PROGRAM / "samples" / "orders.json").read_text())
    stock = json.loads((PROGRAM / "samples" / "inventory.json").read_text())
    credit = json.loads((PROGRAM / "samples" / "accounts.json").read_text())
    assert 10 <= len(orders) <= 14 and len({o["orderId"] for o in orders}) == len(orders)
    declined = [o for o in orders if o.get("customerId") in credit and isinstance(o.get("amountCents"), int)
                and o["amountCents"] > credit[o["customerId"]]]
    unknown = [o for o in orders if isinstance(o.get("customerId"), str) and o["customerId"] not in credit]
    invalid = [o for o in orders if not isinstance(o.get("amountCents"), int) or "customerId" not in o]
    out_of_stock = [o for o in orders if any(stock.get(i["sku"]) == 0 for i in o["items"])]
    assert declined and unknown and invalid and out_of_stock


@pytest.mark.parametrize(("stack", "program", "folder"), [
    ("dev", None, "build/roles-dev"), ("ORG/prod", None, "build/roles-prod"),
    ("dev", Path("examples/order-workflow"), "build/roles-order-workflow-dev"),
    ("ORG/dev", Path("examples/order-workflow/"), "build/roles-order-workflow-dev"),
])
def test_a_programs_roles_never_overwrite_the_root_programs(stack: str, program: Path | None, folder: str) -> None:
    from tools.roles import default_out

    assert default_out(stack, program) == folder



@pytest.mark.parametrize("reverse", [False, True])
def test_workers_are_in_the_order_the_definition_names_their_queues(export: dict[str, Any], reverse: bool) -> None:
    """The export's registration order is not stable between synths: the run's workers (and so its invariants'
    names, `per order inventory and payment ...`) follow the definition instead."""
    import boto3
    from moto import mock_aws

    from tools.emulator.deploy import deploy

    shuffled = json.loads(json.dumps(export))
    resources = shuffled["deployment"]["resources"]
    at = [i for i, r in enumerate(resources) if r["type"] == "aws:lambda/eventSourceMapping:EventSourceMapping"]
    assert len(at) == 2
    if reverse:  # the payment worker's trigger registered first
        resources[at[0]], resources[at[1]] = resources[at[1]], resources[at[0]]
    with mock_aws():
        d = deploy(shuffled, PROGRAM)
        names = [w.name for w in d.workers()]
        boto3.client("sqs", region_name="us-east-1")  # the mock stays active until here
    assert names == [f"{BASE}-inventory-worker", f"{BASE}-payment-worker"]
