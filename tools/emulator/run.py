"""Run orders through the emulated stack: seed, start one execution per order, play the poller, summarize."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import IO, Any

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.emulator import dynamodb_contention, invariants, quotas
from tools.emulator.deploy import Deployment, deploy
from tools.emulator.faults import Faults, Injector
from tools.emulator.inputs import InputError
from tools.emulator.invariants import Ended, Invariant
from tools.emulator.least_privilege import Check, prove
from tools.emulator.poller import Poller

EXECUTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
"""A name Step Functions accepts, matched against the whole string (``fullmatch``)."""


@dataclass
class OrderRun:
    index: int
    order: Any
    order_id: str | None
    execution: str
    arn: str | None = None
    status: str = "NOT_STARTED"
    result: str = "FAILED"
    reason: str | None = None
    duration: float | None = None
    output: Any = None


@dataclass
class RunResult:
    deployment: Deployment
    runs: list[OrderRun]
    inventory: dict[str, int]
    dead_letters: int
    histories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    least_privilege: list[Check] = field(default_factory=list)
    poller_stats: dict[str, int] = field(default_factory=dict)
    invariants: list[Invariant] = field(default_factory=list)
    injected: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    """From the first execution started to the end of the run."""
    contention: dict[str, Any] = field(default_factory=dict)
    """``{"transactionConflicts": n, "conflictRetries": n, "throttled": {<api>: n}}``: conflicts and retries counted
    at the emulated DynamoDB (``dynamodb_contention``), calls refused by an API quota (``quotas``)."""

    @property
    def reserved_share(self) -> tuple[int, int]:
        """(reserved orders, orders the stock allowed): see ``invariants.reserved_share``."""
        return invariants.reserved_share([(r.order, r.result, r.status) for r in self.runs])


def _execution_name(order: Any, index: int, taken: set[str]) -> tuple[str | None, str]:
    """(order id, execution name): the order id when it is a valid name, else ``order-NNNNN`` made unique against
    ``taken`` (the run's usable order ids and the fallback names already given), which it joins."""
    order_id = order.get("orderId") if isinstance(order, dict) else None
    order_id = order_id if isinstance(order_id, str) else None
    if order_id and EXECUTION_NAME.fullmatch(order_id):
        return order_id, order_id
    name = f"order-{index:05d}"
    while name in taken:
        name += "_"
    taken.add(name)
    return order_id, name


def execution_names(orders: list[Any]) -> list[tuple[str | None, str]]:
    """Every order's (order id, execution name); a fallback name never equals an order id of the run."""
    taken = {o["orderId"] for o in orders if isinstance(o, dict) and isinstance(o.get("orderId"), str)
             and EXECUTION_NAME.fullmatch(o["orderId"])}
    return [_execution_name(order, i, taken) for i, order in enumerate(orders)]


def _start_one(sfn: Any, sm_arn: str, name: str, text: str) -> str:
    """StartExecution, waiting out throttling as an order intake would (the SDK's own retries come first)."""
    pause = 0.1
    while True:
        try:
            return str(sfn.start_execution(stateMachineArn=sm_arn, name=name, input=text)["executionArn"])
        except ClientError as error:
            if error.response["Error"]["Code"] != "ThrottlingException":
                raise
            time.sleep(pause)
            pause = min(2.0, pause * 2)


def _input_text(order: Any) -> str:
    """The execution input as a client sends it: UTF-8 JSON, escaped only where UTF-8 cannot hold it (a lone
    surrogate), so its size is what Step Functions counts."""
    text = json.dumps(order, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(order)
    return text


def _start(sfn: Any, sm_arn: str, runs: list[OrderRun], rate: float | None = None) -> None:
    started: dict[str, OrderRun] = {}
    began = time.time()
    for n, run in enumerate(runs):
        if rate:  # orders arrive over time, not all at once
            time.sleep(max(0.0, began + n / rate - time.time()))
        text = _input_text(run.order)
        try:
            run.arn = _start_one(sfn, sm_arn, run.execution, text)
            started[run.execution] = run
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in ("ValidationException", "InvalidExecutionInput"):  # refused by Step Functions: not started
                run.status, run.result, run.reason = "NOT_STARTED", "FAILED", code
                continue
            if code != "ExecutionAlreadyExists":
                raise
            first = started.get(run.execution)
            # As on AWS: the same name with the same input while it runs is the same execution.
            if first and _input_text(first.order) == text and first.arn and \
                    sfn.describe_execution(executionArn=first.arn)["status"] == "RUNNING":
                run.arn = first.arn
            else:
                run.status, run.result, run.reason = "NOT_STARTED", "FAILED", "ExecutionAlreadyExists"


def _settle(sfn: Any, run: OrderRun) -> None:
    if not run.arn:
        return
    desc = sfn.describe_execution(executionArn=run.arn)
    run.status = desc["status"]
    if "stopDate" in desc:
        run.duration = (desc["stopDate"] - desc["startDate"]).total_seconds()
    output = json.loads(desc["output"]) if desc.get("output") else None
    run.output = output
    if run.status == "SUCCEEDED" and isinstance(output, dict) and output.get("status") in ("RESERVED", "REJECTED"):
        run.result = output["status"]
        run.reason = output.get("reason")
    else:  # the failure path names the underlying error as its cause; an uncaught States.* error is its own
        run.result = "FAILED"  # reason (the emulator's own fault keeps its cause, which says so)
        error, cause = desc.get("error") or "", desc.get("cause") or ""
        own = error.startswith("States.") and not cause.startswith("emulator fault")
        run.reason = error if own else cause or error or run.status


def run_orders(export: dict[str, Any], orders: list[Any], inventory: dict[str, int], *,
               timeout: float | None = None, on_progress: Callable[[int, int, str], None] | None = None,
               prepare: Callable[[Deployment], dict[str, Any]] | None = None,
               check_least_privilege: bool = True, faults: Faults | None = None,
               worker_log: IO[str] | None = None, rate: float | None = None) -> RunResult:
    """Deploy ``export`` into moto and run every order to its end; everything happens in this process.

    The run ends when every execution has ended, the work queue is empty and no invocation is running (a
    stalled one included), or after ``timeout`` seconds (default: the longest an execution and a poison
    message can take). ``prepare`` may return Poller keyword arguments once the stack is deployed;
    ``worker_log`` receives the worker's log lines (else they go to standard output, as in Lambda);
    ``rate`` spreads the orders' arrival (executions started per second; default all at once). ``on_progress``
    gets (executions ended, executions started, what the run waits for: a phrase) every half second.
    """
    logging.getLogger("moto").setLevel(logging.CRITICAL)  # a failed execution is an outcome here, not an error
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        d = deploy(export)
        ddb = boto3.client("dynamodb", region_name=d.region)
        sfn = boto3.client("stepfunctions", region_name=d.region)
        sqs = boto3.client("sqs", region_name=d.region)
        _seed(ddb, d.table, inventory)
        checks = prove(d) if check_least_privilege else []
        runs = [OrderRun(i, order, *names) for i, (order, names) in enumerate(zip(orders, execution_names(orders),
                                                                                  strict=True))]
        dynamodb_contention.reset()
        quotas.reset()
        extra = prepare(d) if prepare else {}
        injector = Injector(faults, d.work_queue_url, _heartbeat(d)) if faults else None
        hooks = [h for h in (extra.pop("on_environment", None), injector and injector.on_environment,
                             worker_log and _log_to(worker_log)) if h]
        extra["on_environment"] = lambda module: [hook(module) for hook in hooks]
        if injector:
            extra.setdefault("before_invoke", injector.before_invoke)
            injector.put_poison()
        poller = Poller(d.function, d.mapping, d.work_queue_url, **extra).start()
        started = time.time()
        try:
            _start(sfn, d.state_machine_arn, runs, rate)
            total = len({r.arn for r in runs if r.arn})
            deadline = started + (timeout or _longest(sqs, d))
            running, idle = total, 0
            waits = Waiting(sqs, d)
            while time.time() < deadline:
                time.sleep(0.5)
                running = _running(sfn, d.state_machine_arn)
                depth, busy = _depth(sqs, d.work_queue_url), poller.busy
                if on_progress:
                    on_progress(total - running, total, waits.line(running, busy))
                quiet = not running and not depth and not busy
                idle = idle + 1 if quiet else 0
                if idle >= 2:  # twice in a row: a message between receive and invocation is seen the second time
                    break
        finally:
            poller.stop()
            if worker_log:  # the logging handler is shared by every copy of the module, and outlives the file
                for module in poller.environments:
                    module.logger.registered_handler.setStream(sys.stdout)
        elapsed = time.time() - started
        for run in runs:
            _settle(sfn, run)
        histories = {}
        for run in runs:
            if run.arn and run.result not in histories:
                histories[run.result] = sfn.get_execution_history(executionArn=run.arn)["events"]
        items = _scan(ddb, d.table)
        stock = {i["pk"]["S"][4:]: int(i["stock"]["N"]) for i in items if i["pk"]["S"].startswith("SKU#")}
        records = {i["pk"]["S"][6:]: {k: v["S"] for k, v in i.items() if "S" in v}
                   for i in items if i["pk"]["S"].startswith("ORDER#")}
        dead = _bodies(sqs, d.dlq_url)
        ended = {r.arn: Ended(r.arn, r.status, r.output, r.order) for r in runs if r.arn}
        found = invariants.check(list(ended.values()), inventory, stock, records, dead,
                                 injector.poison if injector else [])
        stats = vars(poller.stats).copy()
        contention = {**dynamodb_contention.snapshot(), "throttled": quotas.throttled()}
        stop_running(d.state_machine_arn)
    return RunResult(d, runs, stock, len(dead), histories, checks, stats, found,
                     injector.injected() if injector else {}, elapsed, contention)


def _seed(ddb: Any, table: str, inventory: dict[str, int]) -> None:
    """Put each sku's stock (and its empty map of unanswered reservations, ``handlers/inventory/holds.py``); a sku or stock DynamoDB refuses (key over 2,048 bytes, number over 38 digits) is bad
    input, named as such."""
    for sku, quantity in inventory.items():
        try:
            ddb.put_item(TableName=table, Item={"pk": {"S": f"SKU#{sku}"}, "stock": {"N": str(quantity)},
                                                "held": {"M": {}}})
        except ClientError as error:
            if error.response["Error"]["Code"] != "ValidationException":
                raise
            shown = sku if len(sku) <= 40 else sku[:40] + "..."
            raise InputError(f"INVENTORY: sku {shown!r} ({len(sku.encode())} bytes), stock {quantity}: DynamoDB "
                             f"refuses it ({error.response['Error']['Message']}); keep each sku at most 2,044 bytes "
                             "and each stock at most 38 digits") from None


def stop_running(sm_arn: str) -> None:
    """moto runs each execution in a thread that outlives the mock: one left running would later write into
    the next run's resources of the same name (its timeout path sends a message to the queue)."""
    sfn = boto3.client("stepfunctions", region_name=sm_arn.split(":")[3])
    arns = running_executions(sfn, sm_arn)
    quotas.reset(scale=0)  # the emulator's own cleanup is no customer traffic: no quota applies
    try:
        for arn in arns:
            sfn.stop_execution(executionArn=arn, error="EmulatorShutdown")
    finally:
        quotas.reset()


def _log_to(stream: IO[str]) -> Callable[[ModuleType], None]:
    def hook(module: ModuleType) -> None:
        module.logger.registered_handler.setStream(stream)
    return hook


def _heartbeat(d: Deployment) -> int:
    task = next(s for s in d.state_machine_definition["States"].values() if "HeartbeatSeconds" in s)
    return int(task["HeartbeatSeconds"])


def _longest(sqs: Any, d: Deployment) -> int:
    """An execution's own bound, then a poison message's way to the DLQ, plus room to settle."""
    attrs = sqs.get_queue_attributes(QueueUrl=d.work_queue_url, AttributeNames=["VisibilityTimeout", "RedrivePolicy"])
    receives = json.loads(attrs["Attributes"]["RedrivePolicy"])["maxReceiveCount"] + 1
    return int(d.state_machine_definition["TimeoutSeconds"]) + int(attrs["Attributes"]["VisibilityTimeout"]) * \
        receives + 60


class Waiting:
    """What the run waits for, in words, once the executions are counted: the progress line of `make local`."""

    def __init__(self, sqs: Any, d: Deployment) -> None:
        self._sqs, self._d = sqs, d
        attrs = sqs.get_queue_attributes(QueueUrl=d.work_queue_url,
                                         AttributeNames=["VisibilityTimeout", "RedrivePolicy"])["Attributes"]
        self.visibility = int(attrs["VisibilityTimeout"])
        self.receives = int(json.loads(attrs["RedrivePolicy"])["maxReceiveCount"])

    def line(self, running: int, busy: int) -> str:
        """``""`` while executions run (the count says it); then the queue, the dead letters and the invocations."""
        if running:
            return f"waiting for {running} execution(s) to end"
        visible, in_flight = _counts(self._sqs, self._d.work_queue_url)
        dead = sum(_counts(self._sqs, self._d.dlq_url))
        if visible or in_flight:
            return (f"waiting for the work queue to drain: {visible} visible, {in_flight} in flight (a failed "
                    f"delivery comes back after the {self.visibility} s visibility timeout; a message no worker "
                    f"can answer moves to the dead-letter queue once received {self.receives} times "
                    f"(maxReceiveCount); {dead} there now)")
        if busy:
            return f"waiting for {busy} invocation(s) still running"
        return "checking that the queue and the poller stay idle"


def _counts(sqs: Any, url: str) -> tuple[int, int]:
    """(visible and delayed, in flight) messages of a queue."""
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return (int(attrs.get("ApproximateNumberOfMessages", 0)) + int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
            int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)))


def _depth(sqs: Any, url: str) -> int:
    """Messages on the queue. In-flight ones are counted first: one whose visibility timeout ends between the two
    readings is counted twice rather than not at all (one reading counts visible and in-flight at two instants)."""
    total = 0
    for names in (["ApproximateNumberOfMessagesNotVisible"],
                  ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]):
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        total += sum(int(attrs.get(n, 0)) for n in names)
    return total


def _scan(ddb: Any, table: str) -> list[dict[str, Any]]:
    return [item for page in ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
            for item in page["Items"]]


def _bodies(sqs: Any, url: str) -> list[str]:
    """Every message body on the queue (they stay there, hidden for the rest of the run)."""
    bodies: list[str] = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=3600).get("Messages"):
        bodies += [m["Body"] for m in got]
    return bodies


def _running(sfn: Any, sm_arn: str) -> int:
    return len(running_executions(sfn, sm_arn))


def running_executions(sfn: Any, sm_arn: str) -> list[str]:
    """ARNs of the state machine's RUNNING executions. A page token names an execution: when that one ends
    between two pages the token is refused (InvalidToken), and the listing starts over."""
    while True:
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=sm_arn, statusFilter="RUNNING")
        try:
            return [e["executionArn"] for page in pages for e in page["executions"]]
        except ClientError as error:
            if error.response["Error"]["Code"] != "InvalidToken":
                raise
