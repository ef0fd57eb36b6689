"""The callback runtime with a toy worker (a payments-style one, nothing of the inventory) against moto: the real
callback task (``sqs:sendMessage.waitForTaskToken``) puts the message, the runtime answers it."""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from moto import mock_aws
from orderflow_runtime import contract, trace
from orderflow_runtime.config import ConfigurationError, Settings
from orderflow_runtime.envelope import Envelope
from orderflow_runtime.logs import log_json, new_logger
from orderflow_runtime.runtime import Answer, CallbackRuntime, Rejection, SettleHooks, TransientError, Worker
from orderflow_runtime.tasks import TaskClient, kept_by

from tools.emulator import moto_fixes, service_fidelity
from tools.emulator.poller import LambdaContext, _record
from tools.emulator.run import stop_running

REGION = "us-east-1"
SETTINGS = Settings(heartbeat_seconds=30, visibility_timeout_seconds=15, answer_concurrency=4)
MAX_RECEIVE_COUNT = 2


def definition(queue_url: str) -> str:
    """One callback task: the message's keys are the contract's; no Catch, so a rejection fails the execution with
    the worker's error name and cause."""
    return json.dumps({"StartAt": "Pay", "States": {"Pay": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue_url, "MessageBody": {
            f"{contract.WORK_ITEM}.$": "$", f"{contract.TASK_TOKEN}.$": "$$.Task.Token",
            f"{contract.EXECUTION}.$": "$$.Execution.Id"}},
        "TimeoutSeconds": 120, "HeartbeatSeconds": SETTINGS.heartbeat_seconds, "End": True}}})


@dataclass
class Toy:
    """A payments worker: pays ``amount`` (1..100), declines more, refuses <= 0; ``"transient"`` fails for now.
    Every hook call is recorded."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    hold: threading.Event | None = None
    """When set, ``decide`` waits for it (up to 30 s): work that runs long."""

    def decide(self, envelope: Envelope, deadline: float | None) -> Answer | None:
        item = envelope.work_item
        self.calls.append(("decide", item))
        if self.hold is not None:
            self.hold.wait(30)
        if item.get("transient"):
            raise TransientError("the ledger is busy")
        if item.get("stale"):
            return None
        if item["amount"] <= 0:
            raise Rejection("InvalidAmount", f"amount must be > 0; got {item['amount']}")
        if item["amount"] > 100:
            return Answer.rejection("Declined", "over the limit", held=item["id"])
        return Answer.success({"paid": item["amount"], "id": item["id"]}, held=item["id"])

    def refund(self, envelope: Envelope, deadline: float | None) -> str:
        self.calls.append(("refund", (envelope.execution, envelope.work_item, envelope.token)))
        return "REFUNDED"

    def dead_token(self, envelope: Envelope, answer: Answer, execution: Mapping[str, Any],
                   code: str) -> Mapping[str, Any]:
        self.calls.append(("dead_token", (answer.held, execution["status"], code)))
        return {"refunded": answer.held}

    def worker(self) -> Worker:
        settle = SettleHooks(accepted=lambda e, a: self.calls.append(("accepted", a.held)),
                             unanswerable=lambda e, a: self.calls.append(("unanswerable", a.held)),
                             dead_token=self.dead_token, done=lambda a: self.calls.append(("done", a.held)))
        return Worker(decide=self.decide, compensations={"refund": self.refund}, settle=settle,
                      log_keys=lambda item: {"payment_id": item.get("id") if isinstance(item, dict) else None})

    def hooks(self) -> list[tuple[str, Any]]:
        return [c for c in self.calls if c[0] != "decide"]


@dataclass
class World:
    sfn: Any
    sqs: Any
    queue_url: str
    queue_arn: str
    dlq_url: str
    machine: str
    toy: Toy
    runtime: CallbackRuntime
    log: io.StringIO
    sent: list[str]

    def start(self, item: dict[str, Any]) -> str:
        return str(self.sfn.start_execution(stateMachineArn=self.machine, name=f"x{uuid.uuid4().hex[:12]}",
                                            input=json.dumps(item))["executionArn"])

    def receive(self, count: int = 1) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        deadline = time.time() + 10
        while len(got) < count and time.time() < deadline:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                                MessageSystemAttributeNames=["All"]).get("Messages", [])
            got += [_record(m, self.queue_arn) for m in messages]
            if not messages:
                time.sleep(0.05)
        assert len(got) == count, f"expected {count} messages, got {len(got)}"
        return got

    def invoke(self, records: list[dict[str, Any]]) -> set[str]:
        response = self.runtime.lambda_handler({"Records": records}, LambdaContext("toy", 128, 3))
        return {f["itemIdentifier"] for f in response["batchItemFailures"]}

    def wait(self, arn: str) -> dict[str, Any]:
        deadline = time.time() + 30
        while time.time() < deadline:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return dict(described)
            time.sleep(0.05)
        raise AssertionError(f"{arn} still running")

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.getvalue().splitlines() if line.strip()]

    def problems(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["level"] in ("WARNING", "ERROR", "CRITICAL")]


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        moto_fixes.apply()
        service_fidelity.apply()
        sqs, sfn = boto3.client("sqs", region_name=REGION), boto3.client("stepfunctions", region_name=REGION)
        dlq_url = sqs.create_queue(QueueName="toy-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT})
        url = sqs.create_queue(QueueName="toy", Attributes={"VisibilityTimeout": "15", "RedrivePolicy": redrive})[
            "QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        machine = sfn.create_state_machine(name="toy", definition=definition(url),
                                           roleArn="arn:aws:iam::123456789012:role/toy")["stateMachineArn"]
        sent: list[str] = []
        sfn.meta.events.register("before-call.sfn", lambda model, **_: sent.append(model.name))
        log = io.StringIO()
        logger = Logger(service=f"toy-{uuid.uuid4().hex[:8]}", json_serializer=log_json, level="INFO")
        logger.registered_handler.setStream(log)
        toy = Toy()
        runtime = CallbackRuntime(toy.worker(), settings=SETTINGS, logger=logger, tasks=TaskClient(sfn, logger))
        yield World(sfn, sqs, url, arn, dlq_url, machine, toy, runtime, log, sent)
        stop_running(machine)


def test_success_answers_the_output_and_settles(world: World) -> None:
    arn = world.start({"id": "p-1", "amount": 5})
    (record,) = world.receive()
    world.sent.clear()
    assert world.invoke([record]) == set()
    assert world.sent == ["SendTaskSuccess"]  # the answer alone: a fresh message needs no heartbeat
    described = world.wait(arn)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"paid": 5, "id": "p-1"})
    assert world.toy.hooks() == [("accepted", "p-1"), ("done", "p-1")]
    (answered,) = [line for line in world.lines() if line["message"] == "answered"]
    assert (answered["payment_id"], answered["execution"], answered["status"]) == ("p-1", arn, "SUCCEEDED")


@pytest.mark.parametrize(("item", "error", "cause"), [
    ({"id": "p-2", "amount": 500}, "Declined", "over the limit"),  # returned
    ({"id": "p-3", "amount": 0}, "InvalidAmount", "amount must be > 0; got 0"),  # raised
])
def test_a_business_rejection_fails_the_task_with_its_error_and_cause(world: World, item: dict[str, Any],
                                                                      error: str, cause: str) -> None:
    arn = world.start(item)
    assert world.invoke(world.receive()) == set()
    described = world.wait(arn)
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", error, cause)
    (answered,) = [line for line in world.lines() if line["message"] == "answered"]
    assert (answered["status"], answered["reason"], answered["detail"]) == ("REJECTED", error, cause)
    assert world.problems() == []


def test_a_transient_error_reports_the_record_failed_and_logs_it_without_the_token(world: World) -> None:
    arn = world.start({"id": "p-4", "amount": 5, "transient": True})
    (record,) = world.receive()
    token = json.loads(record["body"])[contract.TASK_TOKEN]
    world.sent.clear()
    assert world.invoke([record]) == {record["messageId"]}
    assert world.sent == []  # no answer: SQS delivers it again
    assert world.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    (line,) = world.problems()
    assert (line["level"], line["error_class"], line["error"], line["payment_id"], line["execution"]) == (
        "WARNING", "TransientError", "the ledger is busy", "p-4", arn)
    assert token not in world.log.getvalue()
    assert world.toy.hooks() == []


def test_a_message_that_can_never_be_answered_reaches_the_dlq_with_no_call(world: World) -> None:
    body = json.dumps({contract.TASK_TOKEN: "forged", contract.EXECUTION: "not an arn",
                       contract.WORK_ITEM: {"id": "p-5", "amount": 5}})
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=body)
    world.sent.clear()
    for _ in range(MAX_RECEIVE_COUNT):
        (record,) = world.receive()
        assert world.invoke([record]) == {record["messageId"]}
        world.sqs.change_message_visibility(QueueUrl=world.queue_url, ReceiptHandle=record["receiptHandle"],
                                            VisibilityTimeout=0)
    assert world.sqs.receive_message(QueueUrl=world.queue_url).get("Messages") is None
    (dead,) = world.sqs.receive_message(QueueUrl=world.dlq_url)["Messages"]
    assert dead["Body"] == body
    assert world.sent == [] and world.toy.calls == []
    assert [(line["level"], line["error_class"], line["payment_id"]) for line in world.problems()] == [
        ("ERROR", "UnanswerableMessage", "p-5")] * MAX_RECEIVE_COUNT
    assert "execution must be a Standard execution ARN" in world.problems()[0]["error"]


def test_an_answer_refused_as_unanswerable_gives_back_and_fails_the_record(world: World) -> None:
    arn = world.start({"id": "p-6", "amount": 5})
    (record,) = world.receive()

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InvalidOutput", "Message": "refused"}}, "SendTaskSuccess")

    world.sfn.meta.events.register("before-call.sfn.SendTaskSuccess", refuse)
    assert world.invoke([record]) == {record["messageId"]}
    assert world.toy.hooks() == [("unanswerable", "p-6"), ("done", "p-6")]
    (line,) = world.problems()
    assert (line["level"], line["error_class"]) == ("ERROR", "UnanswerableMessage")
    assert "InvalidOutput answering the task" in line["error"]
    world.sfn.stop_execution(executionArn=arn)


def test_a_dead_token_settles_from_the_executions_fate_and_deletes_the_message(world: World) -> None:
    arn = world.start({"id": "p-7", "amount": 5})
    (record,) = world.receive()
    world.sfn.stop_execution(executionArn=arn)  # its token dies with it: SendTask* gets TaskTimedOut
    world.sent.clear()
    assert world.invoke([record]) == set()
    assert world.sent == ["SendTaskSuccess", "DescribeExecution"]
    assert world.toy.hooks() == [("dead_token", ("p-7", "ABORTED", "TaskTimedOut")), ("done", "p-7")]
    (line,) = world.problems()
    assert (line["message"], line["error"], line["execution_status"], line["refunded"]) == (
        "task token is dead; message deleted", "TaskTimedOut", "ABORTED", "p-7")


def test_a_dead_token_of_an_execution_that_never_existed_is_unanswerable(world: World) -> None:
    arn = world.start({"id": "p-8", "amount": 5})
    (record,) = world.receive()
    body = json.loads(record["body"])
    world.sfn.stop_execution(executionArn=arn)
    body[contract.EXECUTION] = arn.rsplit(":", 1)[0] + ":never-started"  # a forged message with a dead token
    assert world.invoke([{**record, "body": json.dumps(body)}]) == {record["messageId"]}
    assert world.toy.hooks() == [("unanswerable", "p-8"), ("done", "p-8")]
    (line,) = world.problems()
    assert (line["error_class"], line["level"]) == ("UnanswerableMessage", "ERROR")
    assert line["error"].startswith("ExecutionDoesNotExist: no such execution")


def test_a_compensation_message_runs_its_function_and_answers_nothing(world: World) -> None:
    arn = world.start({"id": "p-9", "amount": 5})
    world.receive()
    item = {"id": "p-9", "amount": 5}
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=json.dumps(
        {contract.ACTION: "refund", contract.EXECUTION: arn, contract.WORK_ITEM: item}))
    (record,) = world.receive()
    world.sent.clear()
    assert world.invoke([record]) == set()
    assert world.toy.calls == [("refund", (arn, item, ""))]
    assert world.sent == []
    world.sfn.stop_execution(executionArn=arn)


def test_an_action_the_worker_does_not_handle_is_unanswerable(world: World) -> None:
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=json.dumps(
        {contract.ACTION: "release", contract.EXECUTION: "arn:aws:states:us-east-1:123456789012:execution:toy:x",
         contract.WORK_ITEM: {"id": "p-10"}}))
    (record,) = world.receive()
    assert world.invoke([record]) == {record["messageId"]}
    (line,) = world.problems()
    assert (line["error_class"], line["action"]) == ("UnanswerableMessage", "release")
    assert "action must be one of check, refund" in line["error"]


def test_a_stale_decision_answers_nothing_and_deletes_the_message(world: World) -> None:
    arn = world.start({"id": "p-11", "amount": 5, "stale": True})
    world.sent.clear()
    assert world.invoke(world.receive()) == set()
    assert world.sent == [] and world.toy.hooks() == []
    world.sfn.stop_execution(executionArn=arn)


@pytest.mark.parametrize(("receive_count", "beats"), [("1", 0), ("2", 1)])
def test_a_redelivery_beats_at_once_and_a_fresh_message_does_not(world: World, receive_count: str,
                                                                  beats: int) -> None:
    arn = world.start({"id": "p-12", "amount": 5})
    (record,) = world.receive()
    record["attributes"]["ApproximateReceiveCount"] = receive_count
    beaten = threading.Event()
    world.sfn.meta.events.register("before-call.sfn.SendTaskHeartbeat", lambda **_: beaten.set())
    world.toy.hold = threading.Event()
    threading.Timer(0.5, world.toy.hold.set).start()  # the decision takes half a second
    world.sent.clear()
    assert world.invoke([record]) == set()
    assert world.sent.count("SendTaskHeartbeat") == beats
    assert world.wait(arn)["status"] == "SUCCEEDED"


def test_work_that_runs_long_beats_while_it_runs(world: World) -> None:
    world.runtime.settings = Settings(heartbeat_seconds=4, visibility_timeout_seconds=2, answer_concurrency=4)
    started = time.time()
    arn = world.start({"id": "p-13", "amount": 5})
    (record,) = world.receive()
    world.toy.hold = threading.Event()  # decide waits for the first beat: (4 - 2) / 2 = 1 s after SentTimestamp
    world.sfn.meta.events.register("before-call.sfn.SendTaskHeartbeat", lambda **_: world.toy.hold.set())
    assert world.invoke([record]) == set()
    assert world.toy.hold.is_set() and time.time() - started >= 0.99  # SentTimestamp is in milliseconds
    assert world.wait(arn)["status"] == "SUCCEEDED"


def test_records_of_a_batch_are_worked_concurrently_and_reported_alone(world: World) -> None:
    arns = [world.start({"id": f"c-{i}", "amount": 5, "transient": i == 2}) for i in range(4)]
    records = world.receive(4)
    barrier = threading.Barrier(4, timeout=10)  # every decision waits for all four: they run at once
    decide = world.toy.decide
    world.toy.decide = lambda envelope, deadline: (barrier.wait(), decide(envelope, deadline))[1]
    world.runtime.worker = world.toy.worker()
    failing = {r["messageId"] for r in records if json.loads(r["body"])[contract.WORK_ITEM]["id"] == "c-2"}
    assert world.invoke(records) == failing
    assert [world.wait(arn)["status"] for i, arn in enumerate(arns) if i != 2] == ["SUCCEEDED"] * 3


@pytest.mark.parametrize("missing", contract.REQUIRED)
def test_a_missing_variable_is_a_configuration_error_naming_it(monkeypatch: pytest.MonkeyPatch,
                                                               missing: str) -> None:
    for name in contract.REQUIRED:
        monkeypatch.setenv(name, "10")
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigurationError, match=f"environment variable {missing} is not set"):
        CallbackRuntime(Toy().worker())


@pytest.mark.parametrize(("value", "shown"), [("", "is not set"), ("0", "got 0"), ("ten", "got 'ten'"),
                                              ("1.5", "got '1.5'")])
def test_a_variable_that_is_not_a_whole_number_is_a_configuration_error(value: str, shown: str) -> None:
    environ = dict.fromkeys(contract.REQUIRED, "10") | {contract.ANSWER_CONCURRENCY: value}
    with pytest.raises(ConfigurationError, match=f"{contract.ANSWER_CONCURRENCY} .*{shown}"):
        Settings.from_environ(environ)


def test_settings_read_from_the_environment() -> None:
    environ = {contract.HEARTBEAT_SECONDS: "36", contract.VISIBILITY_TIMEOUT_SECONDS: "18",
               contract.ANSWER_CONCURRENCY: "10"}
    assert Settings.from_environ(environ) == Settings(36, 18, 10)


@pytest.mark.parametrize("action", ["", contract.TASK_ACTION])
def test_a_compensation_cannot_take_the_tasks_action(action: str) -> None:
    with pytest.raises(ValueError, match="compensation action"):
        CallbackRuntime(Worker(decide=lambda e, d: None, compensations={action: lambda e, d: ""}),
                        settings=SETTINGS, tasks=TaskClient(object(), None))


ROOT_A, ROOT_B, OWN = "1-5759e988-bd862e3fe1be46a994272793", "1-67891233-abcdef012345678912345678", \
    "1-11111111-222222222222222222222222"


def traced_runtime(world: World, monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The world's toy worker on a runtime logging through ``logs.new_logger`` (the workers' own logger)."""
    monkeypatch.setenv(contract.SERVICE_NAME, f"traced-{uuid.uuid4().hex[:8]}")
    logger = new_logger()
    logger.setLevel("INFO")
    log = io.StringIO()
    logger.registered_handler.setStream(log)
    world.runtime = CallbackRuntime(world.toy.worker(), settings=SETTINGS, logger=logger,
                                    tasks=TaskClient(world.sfn, logger))
    return log


def test_each_records_lines_carry_its_executions_trace(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records of one batch, worked at once: the system attribute, else the message attribute, else nothing (the
    function's own trace id, as Powertools logs it)."""
    log = traced_runtime(world, monkeypatch)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={OWN};Parent=53995c3f42cd8ad8;Sampled=1")
    for i in range(3):
        world.start({"id": f"t-{i}", "amount": 5, "transient": i == 0})
    records = sorted(world.receive(3), key=lambda r: json.loads(r["body"])[contract.WORK_ITEM]["id"])
    header_a, header_b = f"Root={ROOT_A};Parent=aaaa000011112222;Sampled=1", f"Root={ROOT_B};Sampled=0"
    records[0]["attributes"]["AWSTraceHeader"] = header_a
    records[0]["messageAttributes"] = {contract.TRACE_HEADER_ATTRIBUTE: {"stringValue": header_b,
                                                                        "dataType": "String"}}  # the system one wins
    records[1]["messageAttributes"] = {contract.TRACE_HEADER_ATTRIBUTE: {"stringValue": header_b,
                                                                        "dataType": "String"}}
    assert world.invoke(records) == {records[0]["messageId"]}
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    seen = {(line["payment_id"], line["message"].split(";")[0], line.get("trace_header"), line["xray_trace_id"],
             line.get("function_xray_trace_id")) for line in lines}
    assert seen == {("t-0", "record failed", header_a, ROOT_A, OWN), ("t-1", "answered", header_b, ROOT_B, OWN),
                    ("t-2", "answered", None, OWN, None)}


@pytest.mark.parametrize(("record", "keys"), [
    ({"attributes": {"AWSTraceHeader": f"Root={ROOT_A}"}}, {"trace_header": f"Root={ROOT_A}", "xray_trace_id": ROOT_A}),
    ({"attributes": {}, "messageAttributes": {contract.TRACE_HEADER_ATTRIBUTE: {"stringValue": f"Root={ROOT_B}"}}},
     {"trace_header": f"Root={ROOT_B}", "xray_trace_id": ROOT_B}),
    ({"attributes": {"AWSTraceHeader": "Root=not-a-trace-id;Sampled=1"}},
     {"trace_header": "Root=not-a-trace-id;Sampled=1"}),
    ({"attributes": {"AWSTraceHeader": ""}, "messageAttributes": {"other": {"stringValue": "x"}}}, {}),
    ({}, {}),
    ({"attributes": {"AWSTraceHeader": "x" * 1000}}, {"trace_header": "x" * trace.TRACE_HEADER_LOG_CHARS}),
])
def test_trace_keys_of_a_record(record: dict[str, Any], keys: dict[str, str]) -> None:
    assert trace.log_keys(record) == keys


def test_a_work_item_given_as_a_json_string_is_decoded(world: World) -> None:
    """EventBridge passes an execution's input as a string (``detail.input``)."""
    arn = world.start({"id": "p-14", "amount": 5})
    world.receive()
    item = {"id": "p-14", "amount": 5}
    for given, decoded in ((json.dumps(item), item), ("not json", "not json"), ("[1]", "[1]")):
        world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=json.dumps(
            {contract.ACTION: "refund", contract.EXECUTION: arn, contract.WORK_ITEM: given}))
        assert world.invoke(world.receive()) == set()
        assert world.toy.calls[-1] == ("refund", (arn, decoded, ""))
    assert world.problems() == []
    world.sfn.stop_execution(executionArn=arn)


def test_kept_statuses_are_read_from_the_environment() -> None:
    environ = {contract.HEARTBEAT_SECONDS: "36", contract.VISIBILITY_TIMEOUT_SECONDS: "18",
               contract.ANSWER_CONCURRENCY: "10"}
    assert Settings.from_environ(environ).kept(("RESERVED",)) == ("RESERVED",)
    settings = Settings.from_environ({**environ, contract.KEPT_STATUSES: " COMPLETED, DONE ,,COMPLETED"})
    assert settings == Settings(36, 18, 10, ("COMPLETED", "DONE"))
    assert settings.kept(("RESERVED",)) == ("COMPLETED", "DONE")
    with pytest.raises(ConfigurationError, match=f"{contract.KEPT_STATUSES} must be comma-separated"):
        Settings.from_environ({**environ, contract.KEPT_STATUSES: " , "})


@pytest.mark.parametrize(("execution", "expected"), [
    ({"status": "SUCCEEDED", "output": '{"status": "COMPLETED"}'}, True),
    ({"status": "SUCCEEDED", "output": '{"status": "RESERVED"}'}, False),
    ({"status": "SUCCEEDED", "output": "[1]"}, False),
    ({"status": "SUCCEEDED", "output": "not json"}, False),
    ({"status": "SUCCEEDED"}, False),
    ({"status": "FAILED", "output": '{"status": "COMPLETED"}'}, False),
])
def test_kept_by_reads_the_output_status_of_a_succeeded_execution(execution: dict[str, Any], expected: bool) -> None:
    assert kept_by(("COMPLETED",))(execution) is expected
