"""Lambda's SQS poller, played in process: batches by the mapping's size and window, up to its maximum
concurrency, the real handler invoked through its configured handler string and environment.

As Lambda does (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html, "Reporting batch
item failures": success and failure conditions; https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html,
"Batching behavior"):

- a batch is gathered until it holds ``BatchSize`` records or ``MaximumBatchingWindowInSeconds`` has passed since
  its first record arrived (a window of 0 invokes with what one receive returns);
- a function error (the invocation raises, or outlives the function timeout) returns the whole batch to the queue,
  with or without ``ReportBatchItemFailures``;
- without ``ReportBatchItemFailures`` on the mapping, the response is not read: an invocation that returns
  normally is a success and every message of the batch is deleted, whatever ``batchItemFailures`` it lists (a
  record the function reports failed is lost, never retried, never dead-lettered);
- with it, a partial-batch response counts as written only when every ``itemIdentifier`` is a non-empty string
  naming a message of the batch; an empty or null identifier, a missing key or an unknown id fails the whole batch.
  An empty or null response, or an empty or null ``batchItemFailures``, is full success; the listed records return
  to the queue and the rest are deleted;
- a poller survives any error of one receive or one invocation: it counts it (``receiveErrors``,
  ``invokeErrors``) and goes on.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.client import BaseClient

from tools.emulator.deploy import REGION, FunctionSpec, MappingSpec

ROOT = Path(__file__).resolve().parents[2]
_instances = itertools.count()
_import_lock = threading.Lock()


@dataclass
class LambdaContext:
    """The fields of Lambda's context object the handler and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "emulated"
    _deadline: float = field(default_factory=time.time)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"  # the emulated region

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline + self.timeout_seconds - time.time()) * 1000))


def load_handler(spec: FunctionSpec) -> tuple[ModuleType, Callable[[dict[str, Any], Any], Any]]:
    """Import the handler module as a fresh execution environment (its own globals, clients, cold start). The
    function's environment variables are set for the import (where the worker reads its settings) and put back
    after it, so one function's variables never reach another function loaded later in the same process."""
    module_name, _, function = spec.handler.rpartition(".")
    code_root = (ROOT / spec.code_path).resolve()
    with _import_lock:
        saved = {name: os.environ.get(name) for name in (*spec.environment, "AWS_DEFAULT_REGION")}
        os.environ.update(spec.environment)
        os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
        try:
            return _import_fresh(module_name, function, code_root)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _import_fresh(module_name: str, function: str,
                  code_root: Path) -> tuple[ModuleType, Callable[[dict[str, Any], Any], Any]]:
    """Load ``module_name`` from ``code_root`` under a name of its own (``<module>__env<n>``)."""
    if str(code_root) not in sys.path:
        sys.path.insert(0, str(code_root))
    path = code_root / (module_name.replace(".", "/") + ".py")
    unique = f"{module_name}__env{next(_instances)}"
    module_spec = importlib.util.spec_from_file_location(unique, path)
    assert module_spec and module_spec.loader
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[unique] = module
    module_spec.loader.exec_module(module)
    return module, getattr(module, function)


def worker_clients(module: ModuleType) -> list[tuple[str, Any]]:
    """The worker's AWS clients with their botocore event-name service ids (``sfn``, ``dynamodb``): where
    the emulator and the benchmark hook faults, latency and counters. The app module's ``clients`` (a tuple of
    botocore clients: Step Functions first, then the service's own); a module without one: every botocore client
    among its globals and their attributes, each once."""
    clients = getattr(module, "clients", None)
    if clients is None:
        found: dict[int, BaseClient] = {}
        for value in list(vars(module).values()):
            for candidate in (value, *_attributes(value)):
                if isinstance(candidate, BaseClient):
                    found.setdefault(id(candidate), candidate)
        clients = tuple(found.values())
    return [(c.meta.service_model.service_id.hyphenize(), c) for c in clients]


def worker_logger(module: ModuleType) -> Any:
    """The worker's Powertools logger: the module's ``logger``, else its ``runtime``'s; None when neither."""
    logger = getattr(module, "logger", None) or getattr(getattr(module, "runtime", None), "logger", None)
    return logger if hasattr(logger, "registered_handler") else None


def _attributes(value: Any) -> list[Any]:
    if isinstance(value, ModuleType | type) or not hasattr(value, "__dict__"):
        return []
    return list(vars(value).values())


@dataclass
class PollerStats:
    invocations: int = 0
    records: int = 0
    failures: int = 0
    deleted: int = 0
    timeouts: int = 0
    """Invocations that outlived the function timeout: Lambda counts them failed, whatever they did."""
    malformedResponses: int = 0
    """Invocations whose partial-batch response Lambda could not use: the whole batch failed."""
    receiveErrors: int = 0
    invokeErrors: int = 0
    """Errors of the emulated poller itself (a receive, a delete, a hook), each survived."""


InvokeHook = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


class Poller:
    """Polls the mapping's queue with up to ``max_concurrency`` environments until stopped."""

    def __init__(self, function: FunctionSpec, mapping: MappingSpec, queue_url: str,
                 on_environment: Callable[[ModuleType], None] | None = None,
                 before_invoke: InvokeHook | None = None) -> None:
        self.function = function
        self.mapping = mapping
        self.queue_url = queue_url
        self.stats = PollerStats()
        self._on_environment = on_environment
        self._before_invoke = before_invoke
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._busy = 0
        self.environments: list[ModuleType] = []

    @property
    def busy(self) -> int:
        """Invocations running now (a stalled one included)."""
        with self._lock:
            return self._busy

    def start(self) -> Poller:
        for n in range(self.mapping.max_concurrency):
            module, handler = load_handler(self.function)
            if self._on_environment:
                self._on_environment(module)
            self.environments.append(module)
            thread = threading.Thread(target=self._loop, args=(handler,), name=f"poller-{n}", daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.function.timeout + 30)

    def _receive_batch(self, sqs: Any) -> list[dict[str, Any]]:
        """Wait for a first record, then gather until the batch is full or the window has passed."""
        batch: list[dict[str, Any]] = []
        deadline: float | None = None
        while len(batch) < self.mapping.batch_size and not self._stop.is_set():
            got = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.mapping.batch_size - len(batch)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if got and deadline is None:
                deadline = time.time() + self.mapping.window_seconds
            batch.extend(got)
            if deadline is None:
                if not got:
                    return batch  # nothing on the queue: poll again later
                continue
            if time.time() >= deadline:
                break
            if not got:
                time.sleep(min(0.05, max(0.0, deadline - time.time())))
        return batch

    def _loop(self, handler: Callable[[dict[str, Any], Any], Any]) -> None:
        sqs = boto3.client("sqs", region_name=self.mapping.queue_arn.split(":")[3])
        while not self._stop.is_set():
            try:
                messages = self._receive_batch(sqs)
            except Exception:  # one failed receive must not end the poller
                self._add(receiveErrors=1)
                time.sleep(0.05)
                continue
            if not messages:
                time.sleep(0.05)
                continue
            try:
                self._invoke(sqs, handler, messages)
            except Exception:  # the poller's own fault, after or around an invocation
                self._add(invokeErrors=1)

    def _add(self, **counts: int) -> None:
        with self._lock:
            for key, n in counts.items():
                setattr(self.stats, key, getattr(self.stats, key) + n)

    def _invoke(self, sqs: Any, handler: Callable[[dict[str, Any], Any], Any],
                messages: list[dict[str, Any]]) -> None:
        records = [_record(m, self.mapping.queue_arn) for m in messages]
        if self._before_invoke:
            records = self._before_invoke(records)
        context = LambdaContext(self.function.name, self.function.memory_mb, self.function.timeout)
        everything = {r["messageId"] for r in records}
        malformed = False
        with self._lock:
            self._busy += 1
        started = time.time()
        try:
            response = handler({"Records": records}, context)
            if self.mapping.report_batch_item_failures:
                failed = failed_ids(response, everything)
                malformed = failed is None
                if failed is None:
                    failed = everything
            else:  # the response is not read: a normal return deletes the whole batch
                failed = set()
        except Exception:  # a function error: every record comes back
            failed = everything
        finally:
            with self._lock:
                self._busy -= 1
        timed_out = time.time() - started > self.function.timeout
        if timed_out:  # Lambda would have ended it and reported the batch failed
            failed = everything
        done = {r["messageId"]: r["receiptHandle"] for r in records if r["messageId"] not in failed}
        for receipt in set(done.values()):
            sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)
        self._add(invocations=1, records=len(records), failures=len(failed), deleted=len(done),
                  timeouts=int(timed_out), malformedResponses=int(malformed))


def failed_ids(response: Any, batch: set[str]) -> set[str] | None:
    """The message ids a partial-batch response reports failed; None when Lambda would fail the whole batch."""
    if response is None or response == {}:
        return set()
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    ids: set[str] = set()
    for failure in failures:
        ident = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(ident, str) or not ident or ident not in batch:
            return None
        ids.add(ident)
    return ids


def _record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message in the shape Lambda hands to the function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {name: _attribute(value) for name, value in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }



def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as Lambda hands it over (``stringValue``, ``dataType``, ...;
    https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, "Example standard queue message event")."""
    out: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value.get("DataType", "String")}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = value["BinaryValue"]
    return out
