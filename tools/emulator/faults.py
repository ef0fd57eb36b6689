"""Faults injected into an emulator run, each counted, through the seams Lambda and the SDK really have.

- ``crash=P``: a delivery of a check fails with probability P, half the time right before the reserving
  transaction and half the time after it, right before the answer (an order that never reserves, an
  invalid one, can only crash before its answer). The reserving transaction is the one that puts a record of the
  worker's ledger (its service's ``Layout.record_prefix``, ``services``); a worker of no known service can only crash
  before its answer;
- ``duplicate=P``: a message is delivered twice with probability P, half the time as a twin in the same
  batch (handled concurrently) and half the time as a second copy on the queue (a later delivery);
- ``throttle=P``: each HTTP attempt of a Step Functions or DynamoDB call of the worker is answered with
  ThrottlingException with probability P, and is NOT carried out (the request never reaches moto, as a throttled
  request never reaches the service); the SDK's own retry policy sees it, as on AWS;
- ``poison=N``: N messages that are not orders, or carry no token, are put on every work queue first;
- ``stop=P``: the execution of a check is stopped (StopExecution, as a customer's cancel) with probability P while
  its message waits: right before the message's first delivery, which then reaches the worker with a dead token;
- ``timeout=P``: a check's first delivery is held back with probability P for HeartbeatSeconds + 2 s (its
  visibility is extended, and it leaves the batch), so its task times out while the message waits: the execution
  takes its failure path (Release Reservation -> Order Failed) and the late check races the release message;
- ``stall=N``: N times in the run (at the 10th reserving check, then at the next one after the previous
  freeze ended, so one environment is frozen at a time), the environment handling a check freezes (every call
  it makes, heartbeats included, waits) for longer than HeartbeatSeconds, as a paused sandbox would. It
  outlives its heartbeat and its function timeout, and comes back to finish its work late. A count, not a
  probability: one freeze stops a whole environment (a whole batch), and the dev stack has two.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, fields
from types import ModuleType
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse

from tools.emulator.deploy import REGION
from tools.emulator.moto_fixes import NOT_SENT_HEADER
from tools.emulator.poller import worker_clients
from tools.emulator.services import service_of

STALL_FIRST = 10
"""The 10th reserving check is the first to stall: early in any run, so certain to happen."""


class FaultsError(ValueError):
    """FAULTS cannot be used; raised before anything starts."""


@dataclass(frozen=True)
class Faults:
    """What to inject; probabilities per delivery, call attempt or message as described above."""

    crash: float = 0.0
    duplicate: float = 0.0
    throttle: float = 0.0
    poison: int = 0
    stall: int = 0
    stop: float = 0.0
    timeout: float = 0.0
    seed: int = 1
    """Seed of the injector's random draws (thread scheduling still varies from run to run)."""

    LIMITS = {"crash": (0.0, 0.5), "duplicate": (0.0, 1.0), "throttle": (0.0, 0.5), "poison": (0, 1000),
              "stall": (0, 100), "stop": (0.0, 0.5), "timeout": (0.0, 0.5), "seed": (0, 2**31 - 1)}

    @classmethod
    def parse(cls, text: str) -> Faults:
        """``"crash=0.2,duplicate=0.3,throttle=0.1,poison=7,stall=1,stop=0.05,timeout=0.02"``; every key is
        optional."""
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, raw = part.partition("=")
            key = key.strip()
            if key not in cls.LIMITS:
                raise FaultsError(f"FAULTS: unknown key {key!r}; known keys: {', '.join(cls.LIMITS)}")
            low, high = cls.LIMITS[key]
            integer = types[key] == "int"
            try:
                value: float = int(raw) if integer else float(raw)
            except ValueError:
                value = float("nan")
            if not sep or not low <= value <= high:
                kind = "an integer" if integer else "a number"
                raise FaultsError(f"FAULTS: {key} must be {kind} from {low} to {high}, got {raw.strip()!r}")
            values[key] = value
        return cls(**values)

    def requested(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def poison_bodies(count: int) -> list[str]:
    """Messages no worker can answer, each distinct so the dead-letter queue can be checked body by body."""
    execution = f"arn:aws:states:{REGION}:123456789012:execution:poison:p"
    kinds = [
        lambda i: f"not json #{i}",
        lambda i: json.dumps(["an array, not an order", i]),
        lambda i: json.dumps({"order": {"orderId": f"poison-{i}", "items": [{"sku": "X", "quantity": 1}]}}),
        lambda i: json.dumps({"taskToken": "", "execution": execution, "order": {"orderId": f"poison-{i}"}}),
        lambda i: json.dumps({"taskToken": f"poison-{i}", "order": {"orderId": f"poison-{i}"}}),
        lambda i: json.dumps({"action": "release", "order": {"orderId": f"poison-{i}"}}),
    ]
    return [kinds[i % len(kinds)](i) for i in range(count)]


class _Environment:
    """One execution environment's freeze: while frozen, every call it makes waits."""

    def __init__(self) -> None:
        self.frozen_until = 0.0
        self.record_prefix: str | None = None
        """The record prefix of the environment's ledger: its reserving transaction puts such a record."""

    def wait(self) -> None:
        while (left := self.frozen_until - time.time()) > 0:
            time.sleep(left)


class Injector:
    """Draws and counts the faults of one run; hands the poller its hooks."""

    def __init__(self, faults: Faults, queue_url: str, heartbeat_seconds: int,
                 queues: list[str] | None = None) -> None:
        """``queues``: every work queue URL (default ``[queue_url]``); every fault is injected on each."""
        self.faults = faults
        self.queue_url = queue_url
        self.queues = list(queues or [queue_url])
        self._by_arn = {queue_arn(url): url for url in self.queues}
        self.stall_seconds = heartbeat_seconds + 2
        self.poison = poison_bodies(faults.poison) * len(self.queues)
        self.counts: Counter[str] = Counter()
        self._poison = set(self.poison)
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._decided: set[str] = set()
        self._reserving = 0
        region = queue_url.split(".")[1]  # https://sqs.<region>.amazonaws.com/
        self._sqs = boto3.client("sqs", region_name=region)
        self._sfn = boto3.client("stepfunctions", region_name=region)
        self._thaw = 0.0

    def injected(self) -> dict[str, int]:
        keys = ("crashBeforeReserve", "crashBeforeAnswer", "duplicateInBatch", "duplicateOnQueue", "throttle",
                "poison", "stall", "stopWhileWaiting", "timeoutWhileWaiting")
        return {key: self.counts[key] for key in keys}

    def _chance(self, p: float) -> float | None:
        """A uniform draw when it falls under ``p``, else None."""
        if p <= 0:
            return None
        with self._lock:
            u = self._rng.random()
        return u if u < p else None

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    # -- poison -------------------------------------------------------------------------------------------
    def put_poison(self) -> None:
        for url in self.queues:
            for body in poison_bodies(self.faults.poison):
                self._sqs.send_message(QueueUrl=url, MessageBody=body)
                self._count("poison")

    def _queue_of(self, record: dict[str, Any]) -> str:
        """The URL of the queue a record came from."""
        return self._by_arn.get(str(record.get("eventSourceARN")), self.queue_url)

    # -- stop, timeout, duplicate (the poller's before_invoke hook) ----------------------------------------------
    def before_invoke(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = list(records)
        for record in records:
            with self._lock:
                first = record["messageId"] not in self._decided
                self._decided.add(record["messageId"])
            if not first or record["body"] in self._poison:
                continue
            execution = _check_of(record["body"])
            if execution and self._chance(self.faults.stop) is not None:
                self._sfn.stop_execution(executionArn=execution, error="CustomerCancelled",
                                         cause="stopped while its check waited on the queue (FAULTS stop)")
                self._count("stopWhileWaiting")
            elif execution and self._chance(self.faults.timeout) is not None:
                self._sqs.change_message_visibility(QueueUrl=self._queue_of(record),
                                                    ReceiptHandle=record["receiptHandle"],
                                                    VisibilityTimeout=self.stall_seconds)
                out.remove(record)
                self._count("timeoutWhileWaiting")
                continue
            u = self._chance(self.faults.duplicate)
            if u is None:
                continue
            if u < self.faults.duplicate / 2:
                out.append({**record, "messageId": f"{record['messageId']}-twin"})
                self._count("duplicateInBatch")
            else:
                copy = self._sqs.send_message(QueueUrl=self._queue_of(record), MessageBody=record["body"],
                                              **_attributes_of(record))["MessageId"]
                with self._lock:
                    self._decided.add(copy)
                self._count("duplicateOnQueue")
        return out

    # -- crash, stall, throttle (hooks on each environment's clients) --------------------------------------------
    def on_environment(self, module: ModuleType) -> None:
        env = _Environment()
        known = service_of(module.__name__)  # a fresh environment is named <handler module>__env<n>
        env.record_prefix = known.layout.record_prefix if known else None
        for service, client in worker_clients(module):
            client.meta.events.register_first(f"before-send.{service}", self._throttle)
            client.meta.events.register(f"before-parameter-build.{service}",
                                        lambda model, params, _env=env, **_: self._before_call(_env, model.name,
                                                                                               params))

    def _throttle(self, request: Any, **_: Any) -> AWSResponse | None:
        if self._chance(self.faults.throttle) is None:
            return None
        self._count("throttle")
        request.headers[NOT_SENT_HEADER] = "1"
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded (injected)"}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "injected-throttle"}
        return AWSResponse(request.url, 400, headers, MockRawResponse(body))

    def _stall(self) -> float | None:
        """Until when the calling environment freezes, or None."""
        with self._lock:
            self._reserving += 1
            now = time.time()
            if self.counts["stall"] >= self.faults.stall or self._reserving < STALL_FIRST or now < self._thaw:
                return None
            self.counts["stall"] += 1
            self._thaw = now + self.stall_seconds
            return self._thaw

    def _before_call(self, env: _Environment, operation: str, params: dict[str, Any]) -> None:
        env.wait()
        local = self._local
        if operation == "TransactWriteItems" and env.record_prefix and _reserves(params, env.record_prefix):
            until = self._stall()
            if until:
                env.frozen_until = until
                env.wait()
            u = self._chance(self.faults.crash)
            local.crash_at_answer = u is not None and u >= self.faults.crash / 2
            local.drawn = True
            if u is not None and not local.crash_at_answer:
                local.drawn = False
                self._count("crashBeforeReserve")
                raise RuntimeError("injected crash before reserving")
        elif operation in ("SendTaskSuccess", "SendTaskFailure"):
            if getattr(local, "drawn", False):
                crash = local.crash_at_answer
            else:  # nothing to reserve for this order: its one crash point is before the answer
                crash = self._chance(self.faults.crash) is not None
            local.drawn = local.crash_at_answer = False
            if crash:
                self._count("crashBeforeAnswer")
                raise RuntimeError("injected crash before answering")


def _check_of(body: str) -> str | None:
    """The execution ARN of a check message (not a release, not a poison message), else None."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("action", "check") != "check" or not data.get("taskToken"):
        return None
    execution = data.get("execution")
    return execution if isinstance(execution, str) else None


def _reserves(params: dict[str, Any], record_prefix: str) -> bool:
    """The reserving transaction is the one that puts the work item's record (``pk`` starts with the prefix)."""
    return any("Put" in item and item["Put"]["Item"].get("pk", {}).get("S", "").startswith(record_prefix)
               for item in params.get("TransactItems", []))


def queue_arn(url: str) -> str:
    """The ARN of a queue URL ``https://sqs.<region>.amazonaws.com/<account>/<name>``."""
    host, account, name = url.split("/")[2:5]
    return f"arn:aws:sqs:{host.split('.')[1]}:{account}:{name}"


def _attributes_of(record: dict[str, Any]) -> dict[str, Any]:
    """SendMessage arguments that give a copy the record's trace header and message attributes (a redelivery of
    the same message has them)."""
    out: dict[str, Any] = {}
    header = (record.get("attributes") or {}).get("AWSTraceHeader")
    if header:
        out["MessageSystemAttributes"] = {"AWSTraceHeader": {"DataType": "String", "StringValue": header}}
    attributes = {name: {"DataType": a.get("dataType", "String"), "StringValue": a["stringValue"]}
                  for name, a in (record.get("messageAttributes") or {}).items() if "stringValue" in a}
    if attributes:
        out["MessageAttributes"] = attributes
    return out
