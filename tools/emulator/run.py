"""Run orders through the emulated stack: seed, start one execution per order, play the poller, summarize."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.emulator.deploy import REGION, Deployment, deploy
from tools.emulator.least_privilege import Check, prove
from tools.emulator.poller import Poller

EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


class InputError(ValueError):
    """ORDERS or INVENTORY cannot be used; raised before anything starts."""


def check_inputs(orders: Any, inventory: Any) -> None:
    if not isinstance(orders, list):
        raise InputError(f"ORDERS must be a JSON array of orders, got {type(orders).__name__}")
    if not isinstance(inventory, dict) or not all(
        isinstance(k, str) and k and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in inventory.items()
    ):
        raise InputError("INVENTORY must be a JSON object mapping each sku to a stock integer >= 0")


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


def _execution_name(order: Any, index: int) -> tuple[str | None, str]:
    order_id = order.get("orderId") if isinstance(order, dict) else None
    order_id = order_id if isinstance(order_id, str) else None
    name = order_id if order_id and EXECUTION_NAME.match(order_id) else f"order-{index:05d}"
    return order_id, name


def _start(sfn: Any, sm_arn: str, runs: list[OrderRun]) -> None:
    started: dict[str, OrderRun] = {}
    for run in runs:
        text = json.dumps(run.order)
        try:
            run.arn = sfn.start_execution(stateMachineArn=sm_arn, name=run.execution, input=text)["executionArn"]
            started[run.execution] = run
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
            first = started.get(run.execution)
            # As on AWS: the same name with the same input while it runs is the same execution.
            if first and json.dumps(first.order) == text and first.arn and \
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
    else:
        run.result = "FAILED"
        run.reason = desc.get("cause") or desc.get("error") or run.status


def run_orders(export: dict[str, Any], orders: list[Any], inventory: dict[str, int], *,
               timeout: float | None = None, on_progress: Callable[[int, int], None] | None = None,
               prepare: Callable[[Deployment], dict[str, Any]] | None = None,
               check_least_privilege: bool = True) -> RunResult:
    """Deploy ``export`` into moto and run every order to its end; everything happens in this process.

    ``prepare`` may return Poller keyword arguments (fault injection hooks) once the stack is deployed.
    """
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        d = deploy(export)
        ddb = boto3.client("dynamodb", region_name=REGION)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        for sku, quantity in inventory.items():
            ddb.put_item(TableName=d.table, Item={"pk": {"S": f"SKU#{sku}"}, "stock": {"N": str(quantity)}})
        checks = prove(d) if check_least_privilege else []
        runs = [OrderRun(i, order, *_execution_name(order, i)) for i, order in enumerate(orders)]
        extra = prepare(d) if prepare else {}
        poller = Poller(d.function, d.mapping, d.work_queue_url, **extra).start()
        try:
            _start(sfn, d.state_machine_arn, runs)
            arns = sorted({r.arn for r in runs if r.arn})
            limit = timeout or (_task_timeout(d) + 120)
            deadline = time.time() + limit
            running = len(arns)
            while running and time.time() < deadline:
                time.sleep(0.5)
                running = _running(sfn, d.state_machine_arn)
                if on_progress:
                    on_progress(len(arns) - running, len(arns))
            # let any message still in flight settle (a late duplicate, a redelivery) before reading the stock
            _drain(sqs, d, seconds=1.0)
        finally:
            poller.stop()
        for run in runs:
            _settle(sfn, run)
        histories = {}
        for run in runs:
            if run.arn and run.result not in histories:
                histories[run.result] = sfn.get_execution_history(executionArn=run.arn)["events"]
        items = ddb.scan(TableName=d.table)["Items"]
        stock = {i["pk"]["S"][4:]: int(i["stock"]["N"]) for i in items if i["pk"]["S"].startswith("SKU#")}
        dead = int(sqs.get_queue_attributes(QueueUrl=d.dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
                   ["Attributes"]["ApproximateNumberOfMessages"])
        stats = vars(poller.stats).copy()
    return RunResult(d, runs, stock, dead, histories, checks, stats)


def _running(sfn: Any, sm_arn: str) -> int:
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=sm_arn, statusFilter="RUNNING")
    return sum(len(page["executions"]) for page in pages)


def _task_timeout(d: Deployment) -> int:
    task = next(s for s in d.state_machine_definition["States"].values() if "TimeoutSeconds" in s)
    return int(d.state_machine_definition.get("TimeoutSeconds", task["TimeoutSeconds"]))


def _drain(sqs: Any, d: Deployment, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        attrs = sqs.get_queue_attributes(QueueUrl=d.work_queue_url, AttributeNames=["ApproximateNumberOfMessages"])
        if attrs["Attributes"]["ApproximateNumberOfMessages"] == "0":
            return
        time.sleep(0.1)
