"""The emulator's pieces for any program: EventBridge rules played, trace context watched, service adapters, the
judge of a multi-service run, each on made-up inputs with exact expectations."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tools.emulator import eventbridge
from tools.emulator.deploy import Deployment, RuleSpec, RuleTarget
from tools.emulator.invariants import Ended
from tools.emulator.judge import Ledger, judge
from tools.emulator.services import SERVICES, service_of
from tools.emulator.trace import TraceWatch, header_of, new_header, root_of

REGION = "us-east-1"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:order-workflow-dev-orders"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:order-workflow-dev-orders:"
RULE = RuleSpec("stopped", "arn:aws:events:us-east-1:123456789012:rule/stopped",
                {"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
                 "detail": {"status": ["ABORTED", "TIMED_OUT"], "stateMachineArn": [MACHINE]}})
TEMPLATE = '{"action": "release", "order": <input>, "execution": <execution>, "note": "<name> ended <status>"}'
QUOTED = '{"action": "release", "order": "<input>", "execution": "<execution>"}'
"""The order workflow's own template: every variable quoted."""
TRANSFORMER = {"inputPaths": {"input": "$.detail.input", "execution": "$.detail.executionArn",
                              "name": "$.detail.name", "status": "$.detail.status"}, "inputTemplate": TEMPLATE}


def described(status: str, name: str = "o-1", machine: str = MACHINE) -> dict[str, Any]:
    return {"executionArn": EXECUTION + name, "stateMachineArn": machine, "name": name, "status": status,
            "input": json.dumps({"orderId": name, "items": [{"sku": "A", "quantity": 1}]})}


@pytest.mark.parametrize(("status", "machine", "matched"), [
    ("ABORTED", MACHINE, True), ("TIMED_OUT", MACHINE, True), ("FAILED", MACHINE, False),
    ("SUCCEEDED", MACHINE, False), ("ABORTED", MACHINE + "-other", False)])
def test_the_stop_rule_matches_only_stopped_or_timed_out_executions_of_its_machine(
        status: str, machine: str, matched: bool) -> None:
    event = eventbridge.status_change_event(described(status, machine=machine), "123456789012", REGION)
    assert eventbridge.matches(RULE.pattern, event) is matched


def test_the_transformer_inserts_a_string_as_a_json_string_outside_quotes_and_as_text_inside() -> None:
    event = eventbridge.status_change_event(described("ABORTED"), "123456789012", REGION)
    body = json.loads(eventbridge.transform(TRANSFORMER, event, RULE))
    assert body == {"action": "release", "order": json.dumps({"orderId": "o-1", "items": [{"sku": "A", "quantity": 1}]}),
                    "execution": EXECUTION + "o-1", "note": "o-1 ended ABORTED"}
    quoted = json.loads(eventbridge.transform({**TRANSFORMER, "inputTemplate": QUOTED}, event, RULE))
    assert quoted == {"action": "release", "execution": EXECUTION + "o-1",
                      "order": json.dumps({"orderId": "o-1", "items": [{"sku": "A", "quantity": 1}]})}
    assert eventbridge.transform({"inputTemplate": '{"n": <missing>, "r": "<aws.events.rule-name>"}',
                                  "inputPaths": {"missing": "$.detail.nothing"}}, event, RULE) == \
        '{"n": null, "r": "stopped"}'


@pytest.mark.parametrize(("condition", "allowed"), [
    ({"ArnEquals": {"aws:SourceArn": RULE.arn}}, True),
    ({"ArnEquals": {"aws:SourceArn": RULE.arn + "-other"}}, False),
    (None, True)])
def test_a_queue_policy_lets_eventbridge_send_only_for_its_rule(condition: dict[str, Any] | None,
                                                                allowed: bool) -> None:
    queue = "arn:aws:sqs:us-east-1:123456789012:q"
    statement = {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                 "Resource": queue, **({"Condition": condition} if condition else {})}
    policy = json.dumps({"Statement": [statement]})
    assert eventbridge.queue_allows(policy, queue, RULE.arn) is allowed
    assert eventbridge.queue_allows(None, queue, RULE.arn) is False


def test_rules_deliver_once_per_ended_execution_and_only_where_the_policy_allows() -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        open_url = sqs.create_queue(QueueName="open")["QueueUrl"]
        shut_url = sqs.create_queue(QueueName="shut")["QueueUrl"]
        arns = {n: f"arn:aws:sqs:us-east-1:123456789012:{n}" for n in ("open", "shut")}
        sqs.set_queue_attributes(QueueUrl=open_url, Attributes={"Policy": json.dumps({"Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": arns["open"], "Condition": {"ArnEquals": {"aws:SourceArn": RULE.arn}}}]})})
        rule = RuleSpec(RULE.name, RULE.arn, RULE.pattern, [RuleTarget(arns["open"], TRANSFORMER),
                                                            RuleTarget(arns["shut"], TRANSFORMER)])
        d = Deployment(queues={"open": open_url, "shut": shut_url}, rules=[rule])
        rules = eventbridge.Rules(d)
        for status in ("ABORTED", "ABORTED", "SUCCEEDED"):
            rules.ended(described(status, name="o-1" if status == "ABORTED" else "o-2"))
        assert dict(rules.counts) == {"events": 2, "delivered": 1, "refused": 1}
        (message,) = sqs.receive_message(QueueUrl=open_url, MaxNumberOfMessages=10)["Messages"]
        assert json.loads(message["Body"])["execution"] == EXECUTION + "o-1"
        assert rules.played == {EXECUTION + "o-1", EXECUTION + "o-2"}


def record(body: dict[str, Any], header: str | None = None, attribute: str | None = None,
           message_id: str = "m-1", queue: str = "arn:aws:sqs:us-east-1:123456789012:q") -> dict[str, Any]:
    return {"messageId": message_id, "body": json.dumps(body), "eventSourceARN": queue,
            "attributes": {"AWSTraceHeader": header} if header else {},
            "messageAttributes": {"traceHeader": {"stringValue": attribute, "dataType": "String"}} if attribute
            else {}}


def test_a_records_trace_header_is_the_system_attribute_first_then_the_message_attribute() -> None:
    header = new_header()
    assert header_of(record({}, header, "Root=1-00000000-000000000000000000000000")) == header
    assert header_of(record({}, None, header)) == header
    assert header_of(record({})) is None
    assert root_of(header) == header.split(";")[0].removeprefix("Root=")


def test_the_trace_watch_holds_only_when_every_record_of_an_order_carries_its_root() -> None:
    good, bad = new_header(), new_header()
    watch = TraceWatch()
    watch.observe([record({"execution": EXECUTION + "a"}, good, message_id="1"),
                   record({"execution": EXECUTION + "a"}, None, good, message_id="2"),
                   record({"execution": EXECUTION + "b"}, good, message_id="3"),
                   record({"execution": "not started here"}, None, message_id="4")])
    expected = {EXECUTION + "a": root_of(good) or "", EXECUTION + "b": root_of(bad) or ""}
    found = watch.check(expected)
    assert (found.holds, found.detail.split(":")[0]) == (False, "1 of 3 record(s) without their order's trace id")
    assert watch.check({EXECUTION + "a": root_of(good) or ""}).holds
    watch.untraced_by_design.add("5")
    watch.observe([record({"execution": EXECUTION + "a"}, None, message_id="5")])
    assert watch.check({EXECUTION + "a": root_of(good) or ""}).holds and watch.skipped == 1


def test_services_are_known_by_their_handler_package_and_judge_with_their_own_validation() -> None:
    inventory, payment = SERVICES["inventory"], SERVICES["payment"]
    assert service_of("inventory.app.lambda_handler") is inventory
    assert service_of("payment.app.lambda_handler") is payment
    assert service_of("notify.lambda_handler") is None
    assert (inventory.variable, inventory.summary_key, inventory.layout.counter_prefix) == ("INVENTORY", "inventory",
                                                                                         "SKU#")
    assert (payment.variable, payment.summary_key, payment.layout.short_error) == ("ACCOUNTS", "credit",
                                                                                  "PaymentDeclined")
    order = {"orderId": "o-1", "items": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}],
             "customerId": "c-1", "amountCents": 700}
    assert inventory.demand_of(order) == {"A": 2, "B": 1}
    assert inventory.demand_of({**order, "items": [{"sku": "A", "quantity": "2"}]}) is None
    assert payment.demand_of(order) == {"c-1": 700}
    assert payment.demand_of({**order, "amountCents": "7.00"}) is None
    assert payment.refused_yet_covered(order, {"c-1": 700}) and not payment.refused_yet_covered(order, {"c-1": 699})


ORDER = {"orderId": "o", "items": [{"sku": "A", "quantity": 2}], "customerId": "c", "amountCents": 500}
COMPLETED = {"status": "COMPLETED"}


def ledgers(stock: int = 3, credit: int = 500, inventory_held: tuple[str, ...] = ("k",),
            payment_held: tuple[str, ...] = ("k",)) -> list[Ledger]:
    def records(held: tuple[str, ...], status: str) -> dict[str, dict[str, str]]:
        return {name: {"status": status, "execution": EXECUTION + name} for name in held}
    return [Ledger(SERVICES["inventory"], ("COMPLETED",), {"A": 5}, {"A": stock}, records(inventory_held, "RESERVED")),
            Ledger(SERVICES["payment"], ("COMPLETED",), {"c": 1000}, {"c": credit},
                   records(payment_held, "AUTHORIZED"))]


KEPT = Ended(EXECUTION + "k", "SUCCEEDED", COMPLETED, {**ORDER, "orderId": "k"})
DECLINED = Ended(EXECUTION + "d", "SUCCEEDED", {"status": "REJECTED", "reason": "PaymentDeclined"},
                 {**ORDER, "orderId": "d", "amountCents": 600})
STOPPED = Ended(EXECUTION + "s", "ABORTED", None, {**ORDER, "orderId": "s"})


@pytest.mark.parametrize(("change", "broken"), [
    ({}, []),
    ({"stock": 1}, ["final stock = initial - kept"]),
    ({"credit": 400}, ["final credit = initial - kept"]),
    ({"payment_held": ("k", "s")}, ["credit holds (AUTHORIZED) = kept executions",
                                    "per order inventory and payment both kept or neither"]),
    ({"inventory_held": ()}, ["inventory holds (RESERVED) = kept executions",
                              "per order inventory and payment both kept or neither"]),
    ({"credit": 600}, ["final credit = initial - kept",
                       "no PaymentDeclined order whose demand the final credit covers"]),
])
def test_each_workflow_invariant_can_fail(change: dict[str, Any], broken: list[str]) -> None:
    found = judge([KEPT, DECLINED, STOPPED], ledgers(**change), [], [])
    assert [i.name for i in found if not i.holds] == broken
    assert [i.name for i in found][:3] == ["every execution ends", "final stock = initial - kept",
                                            "inventory holds (RESERVED) = kept executions"]
