"""The worker against the services' documented limits, malformed envelopes and failures nobody sees.

Field cases: C04 (sku over DynamoDB's key limit), C05 (quantity over 38 digits), C06 (an order id with a final
newline), C15 (a payload inflated by ASCII escaping), W1 (a malformed execution ARN or token), C20 (a failed
record leaves no log line).
"""

from __future__ import annotations

import io
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Emulated

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "handlers"))
from inventory import limits
from inventory.envelope import UnanswerableMessage, parse_envelope

ARN = "arn:aws:states:us-east-1:123456789012:execution:orderflow-dev-inventory:o-1"


def order(order_id: str, **items: int) -> dict[str, Any]:
    return {"orderId": order_id, "items": [{"sku": s, "quantity": q} for s, q in items.items()]}


def wide_order(count: int) -> dict[str, Any]:
    """C15's shape: ``count`` skus of 2044 UTF-8 bytes each (a 4-byte prefix, then 510 four-byte emoji)."""
    return {"orderId": "o-wide", "items": [{"sku": chr(0x20000 + i) + "\U0001f600" * 510, "quantity": 1}
                                           for i in range(count)]}


# One row per limit: the order, the stock, the answer (status, reason) and a piece of the detail.
LIMIT_CASES = [
    ("C06", {"orderId": "o-1\n", "items": [{"sku": "A", "quantity": 2}]}, {"A": 5}, ("REJECTED", "InvalidOrder"),
     "orderId must be"),
    ("C04", order("o-long-sku", **{"S" * 2100: 1}), {"A": 5}, ("REJECTED", "InvalidOrder"), "at most 2044"),
    ("C04-multibyte", order("o-mb", **{"\u00e9" * 1023: 1}), {"A": 5}, ("REJECTED", "InvalidOrder"), "2046 bytes"),
    ("C04-at-limit", order("o-2044", **{"S" * 2044: 1}), {"S" * 2044: 1}, ("RESERVED", ""), ""),
    ("C05", order("o-huge-qty", A=10**40 + 1), {"A": 5}, ("REJECTED", "InvalidOrder"), "at most 38 digits"),
    ("C05-38-digits", order("o-38", A=10**38 - 1), {"A": 5}, ("REJECTED", "OutOfStock"), "5 left"),
    ("C15", wide_order(99), {item["sku"]: 1 for item in wide_order(99)["items"]}, ("RESERVED", ""), ""),
]


@pytest.mark.parametrize(("case", "the_order", "before", "answer", "detail"), LIMIT_CASES,
                         ids=[row[0] for row in LIMIT_CASES])
def test_limits_are_answered_at_once(emulated: Emulated, monkeypatch: pytest.MonkeyPatch, case: str,
                                     the_order: dict[str, Any], before: dict[str, int], answer: tuple[str, str],
                                     detail: str) -> None:
    # the emulator writes state JSON as UTF-8 text, as Step Functions does (tools/emulator/service_fidelity.py)
    emulated.seed(before)
    outputs: list[str] = []
    causes: list[str] = []
    emulated.module.sfn.meta.events.register("before-parameter-build.sfn.SendTaskSuccess",
                                             lambda params, **_: outputs.append(params["output"]))
    emulated.module.sfn.meta.events.register("before-parameter-build.sfn.SendTaskFailure",
                                             lambda params, **_: causes.append(params["cause"]))
    arn = emulated.start(the_order, case)
    (record,) = emulated.receive()
    assert emulated.invoke([record]) == set()  # answered on the first delivery: nothing to retry
    desc = emulated.wait(arn)
    result = json.loads(desc["output"])
    assert (result["status"], result.get("reason", "")) == answer
    assert len(causes) == (0 if answer[0] == "RESERVED" else 1)
    assert all(detail in cause for cause in causes)
    if answer[0] == "RESERVED":
        assert result == {"orderId": the_order["orderId"], "status": "RESERVED", "items": the_order["items"]}
        (sent,) = outputs
        assert "\\u" not in sent and limits.utf8_bytes(sent) <= limits.PAYLOAD_BYTES
        stored = emulated.reservation(the_order["orderId"])
        assert stored is not None and "\\u" not in stored["items"]["S"]
        assert json.loads(stored["items"]["S"]) == the_order["items"]
    else:
        assert {sku: emulated.stock(sku) for sku in before} == before


def test_c15_output_fits_only_without_ascii_escaping() -> None:
    """C15: ASCII escaping would make the same output 3 times larger and over Step Functions' 256 KiB."""
    items = wide_order(99)["items"]
    output = {"orderId": "o-wide", "status": "RESERVED", "items": items}
    assert limits.utf8_bytes(limits.to_json(output)) <= limits.PAYLOAD_BYTES
    assert len(json.dumps(output).encode()) > limits.PAYLOAD_BYTES


def aws_refuses(client: Any, code: str, reasons: list[dict[str, Any]] | None = None) -> None:
    """DynamoDB refuses every TransactWriteItems: a ValidationException, or a cancellation with ``reasons``."""
    def hook(**_: Any) -> None:
        response: dict[str, Any] = {"Error": {"Code": code, "Message": "One or more parameter values were invalid"}}
        if reasons is not None:
            response["CancellationReasons"] = reasons
        raise ClientError(response, "TransactWriteItems")

    client.meta.events.register("before-call.dynamodb.TransactWriteItems", hook)


@pytest.mark.parametrize(("code", "reasons"), [
    ("ValidationException", None),
    ("TransactionCanceledException", [{"Code": "ValidationError", "Message": "Item size has exceeded the limit"},
                                      {"Code": "None"}]),
])
def test_a_validation_error_from_dynamodb_is_a_rejection(emulated: Emulated, code: str,
                                                         reasons: list[dict[str, Any]] | None) -> None:
    emulated.seed({"A": 5})
    aws_refuses(emulated.module.stock._ddb, code, reasons)
    arn = emulated.start(order("o-refused", A=1), "o-refused")
    assert emulated.invoke(emulated.receive()) == set()
    result = json.loads(emulated.wait(arn)["output"])
    assert (result["status"], result["reason"]) == ("REJECTED", "InvalidOrder")
    assert emulated.stock("A") == 5


# One row per envelope rule (W1): the body and the problem named ("" when the envelope is good).
TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAf+/token=="
ENVELOPES = [
    ({"taskToken": TOKEN, "execution": ARN, "order": {}}, ""),
    ({"action": "release", "execution": ARN, "order": {}}, ""),
    ({"action": "check", "taskToken": "t" * 2048, "execution": ARN}, ""),
    ({"taskToken": TOKEN, "execution": "arn:aws-cn:states:cn-north-1:123456789012:execution:sm:e"}, ""),
    ({"taskToken": TOKEN, "execution": "arn:aws:states:us-east-1:123456789012:execution:"}, "execution"),
    ({"taskToken": TOKEN, "execution": " " + ARN}, "execution"),
    ({"taskToken": TOKEN, "execution": ARN + "\n"}, "execution"),
    ({"taskToken": TOKEN, "execution": ARN + ":extra"}, "execution"),
    ({"taskToken": TOKEN, "execution": ARN[:-3] + "n" * 200}, "execution"),  # name over 80, ARN over 256
    ({"taskToken": TOKEN, "execution": ARN.replace("o-1", "a b")}, "execution"),
    ({"taskToken": TOKEN, "execution": ARN.replace("o-1", "a*")}, "execution"),
    ({"taskToken": TOKEN, "execution": ARN.replace(":execution:", ":stateMachine:")}, "execution"),
    ({"taskToken": TOKEN, "execution": ARN.replace(":execution:", ":express:") + ":id"}, "execution"),
    ({"taskToken": TOKEN, "execution": ARN.replace("123456789012", "12345")}, "execution"),
    ({"taskToken": TOKEN, "execution": ARN.replace(":states:", ":lambda:")}, "execution"),
    ({"taskToken": TOKEN}, "execution"),
    ({"taskToken": "t" * 2049, "execution": ARN}, "taskToken"),
    ({"taskToken": "", "execution": ARN}, "taskToken"),
    ({"taskToken": "tok en", "execution": ARN}, "taskToken"),
    ({"taskToken": TOKEN + "\n", "execution": ARN}, "taskToken"),
    ({"taskToken": 7, "execution": ARN}, "taskToken"),
    ({"execution": ARN}, "taskToken"),
    ({"action": "Check", "taskToken": TOKEN, "execution": ARN}, "action"),
    ({"action": None, "taskToken": TOKEN, "execution": ARN}, "action"),
    ([1, 2], "JSON object"),
]


@pytest.mark.parametrize(("body", "problem"), ENVELOPES)
def test_envelope_rules(body: Any, problem: str) -> None:
    if not problem:
        assert parse_envelope(json.dumps(body)).execution == body["execution"]
        return
    with pytest.raises(UnanswerableMessage, match=problem):
        parse_envelope(json.dumps(body))


def count_calls(emulated: Emulated) -> list[str]:
    calls: list[str] = []
    for client in (emulated.module.sfn, emulated.module.stock._ddb):
        client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    return calls


@pytest.mark.parametrize("execution", [
    "arn:aws:states:us-east-1:123456789012:execution:",
    " arn:aws:states:us-east-1:123456789012:execution:orderflow-dev-inventory:nope",
    "arn:aws:states:us-east-1:123456789012:execution:orderflow-dev-inventory:" + "n" * 200,
], ids=["empty-name", "leading-space", "over-256"])
def test_w1_malformed_envelope_writes_nothing_and_ends_in_the_dlq(emulated: Emulated, execution: str) -> None:
    emulated.seed({"A": 5})
    body = json.dumps({"taskToken": "forged", "execution": execution, "order": order("p-1", A=3)})
    calls = count_calls(emulated)
    emulated.fail_until_dead_lettered(body)
    assert calls == []  # not one AWS call, so not one write
    assert emulated.stock("A") == 5
    assert emulated.reservation("p-1") is None


# Every error meaning "this message can never be answered", wherever it comes: the same treatment.
UNANSWERABLE = [
    ("SendTaskSuccess", "InvalidOutput"),
    ("SendTaskSuccess", "ValidationException"),
    ("DescribeExecution", "InvalidArn"),
    ("DescribeExecution", "ExecutionDoesNotExist"),
    ("DescribeExecution", "AccessDeniedException"),
]


@pytest.mark.parametrize(("operation", "code"), UNANSWERABLE)
def test_unanswerable_errors_release_dead_letter_and_log(emulated: Emulated, operation: str, code: str) -> None:
    emulated.seed({"A": 5})
    arn = emulated.start(order("o-u", A=3), "o-u")
    (record,) = emulated.receive()

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": "refused"}}, operation)

    if operation == "DescribeExecution":  # the token is refused first, as for a forged message
        emulated.module.sfn.meta.events.register(
            "before-call.sfn.SendTaskSuccess",
            lambda **_: (_ for _ in ()).throw(ClientError({"Error": {"Code": "InvalidToken", "Message": "x"}},
                                                          "SendTaskSuccess")))
    emulated.module.sfn.meta.events.register(f"before-call.sfn.{operation}", refuse)
    lines = capture_log(emulated)
    assert emulated.invoke([record]) == {record["messageId"]}
    assert emulated.stock("A") == 5  # what it reserved is given back
    (line,) = [entry for entry in lines() if entry["level"] in ("WARNING", "ERROR", "CRITICAL")]
    assert (line["level"], line["error_class"], line["order_id"], line["execution"]) == (
        "ERROR", "UnanswerableMessage", "o-u", arn)
    assert code in line["error"]
    emulated.sfn.stop_execution(executionArn=arn)


def capture_log(emulated: Emulated) -> Any:
    stream = io.StringIO()
    emulated.module.logger.registered_handler.setStream(stream)
    emulated.module.logger.setLevel("INFO")
    return lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_c20_a_failed_record_logs_one_line_without_the_token(emulated: Emulated) -> None:
    emulated.seed({"A": 5})
    lines = capture_log(emulated)

    def boom(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "TransactWriteItems")

    emulated.module.stock._ddb.meta.events.register("before-call.dynamodb.TransactWriteItems", boom)
    arn = emulated.start(order("o-log", A=1), "o-log")
    (record,) = emulated.receive()
    token = json.loads(record["body"])["taskToken"]
    assert emulated.invoke([record]) == {record["messageId"]}
    (line,) = [entry for entry in lines() if entry["level"] in ("WARNING", "ERROR", "CRITICAL")]
    assert (line["level"], line["order_id"], line["execution"], line["error_class"]) == (
        "WARNING", "o-log", arn, "ClientError")
    assert "InternalServerError" in line["error"] and "injected" in line["error"]
    assert token not in json.dumps(lines())


def test_a_rejection_cause_is_in_the_log(emulated: Emulated) -> None:
    lines = capture_log(emulated)
    emulated.start({"orderId": "o-q", "items": [{"sku": "A", "quantity": "2"}]}, "o-q")
    assert emulated.invoke(emulated.receive()) == set()
    (answered,) = [entry for entry in lines() if entry["message"] == "answered"]
    assert (answered["order_id"], answered["reason"], answered["detail"]) == (
        "o-q", "InvalidOrder", "items[0].quantity must be a JSON integer >= 1")


# One row per measure: the value and what the service counts.
def test_sizes_are_measured_as_the_services_measure_them() -> None:
    assert limits.utf8_bytes("a\u00e9\u20ac\U0001f600") == 1 + 2 + 3 + 4
    assert limits.item_bytes({"pk": {"S": "ORDER#o"}, "n": {"N": "12345"}}) == 2 + 7 + 1 + 4
    assert limits.item_bytes({"\u00e9": {"S": ""}}) == 2  # attribute names count too


@pytest.mark.parametrize(("number", "storable"), [
    ("1", True), ("0", True), ("-5", True),
    ("9" * 38, True), ("9" * 39, False), ("1" + "0" * 40, True),  # trailing zeros are not significant
    ("9.9999999999999999999999999999999999999E+125", True), ("1E+126", False),
    ("1E-130", True), ("1E-131", False), ("NaN", False), ("Infinity", False),
])
def test_dynamodb_number_limits(number: str, storable: bool) -> None:
    assert limits.storable_number(Decimal(number)) is storable


@pytest.mark.parametrize(("limit", "value", "problem"), [
    ("ITEM_BYTES", 100, "reservation record would be"),
    ("PAYLOAD_BYTES", 50, "task output would be"),
])
def test_record_and_output_sizes_are_checked(monkeypatch: pytest.MonkeyPatch, limit: str, value: int,
                                             problem: str) -> None:
    """The record and output checks, with the limit lowered so that a small order crosses it."""
    from inventory.orders import Rejection, parse_order
    the_order = order("o-size", A=1, B=2)
    parse_order(the_order)
    monkeypatch.setattr(limits, limit, value)
    with pytest.raises(Rejection, match=problem):
        parse_order(the_order)
