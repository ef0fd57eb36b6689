"""Lambda's SQS poller, played in process: batches by the mapping's size and window, up to its maximum
concurrency, the real handler invoked through its configured handler string and environment."""

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
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline + self.timeout_seconds - time.time()) * 1000))


def load_handler(spec: FunctionSpec) -> tuple[ModuleType, Callable[[dict[str, Any], Any], Any]]:
    """Import the handler module as a fresh execution environment (its own globals, clients, cold start)."""
    module_name, _, function = spec.handler.rpartition(".")
    code_root = (ROOT / spec.code_path).resolve()
    with _import_lock:
        os.environ.update(spec.environment)
        os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
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
    the emulator and the benchmark hook faults, latency and counters."""
    return [(c.meta.service_model.service_id.hyphenize(), c) for c in (module.sfn, module.stock._ddb)]


@dataclass
class PollerStats:
    invocations: int = 0
    records: int = 0
    failures: int = 0
    deleted: int = 0
    timeouts: int = 0
    """Invocations that outlived the function timeout: Lambda counts them failed, whatever they did."""


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
        batch: list[dict[str, Any]] = []
        deadline = time.time() + self.mapping.window_seconds
        while len(batch) < self.mapping.batch_size and not self._stop.is_set():
            got = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.mapping.batch_size - len(batch)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            batch.extend(got)
            if not got and (batch or time.time() >= deadline):
                break
            if not got:
                time.sleep(0.05)
            elif time.time() >= deadline:
                break
        return batch

    def _loop(self, handler: Callable[[dict[str, Any], Any], Any]) -> None:
        sqs = boto3.client("sqs", region_name=self.mapping.queue_arn.split(":")[3])
        queue_arn = self.mapping.queue_arn
        while not self._stop.is_set():
            messages = self._receive_batch(sqs)
            if not messages:
                time.sleep(0.05)
                continue
            records = [_record(m, queue_arn) for m in messages]
            if self._before_invoke:
                records = self._before_invoke(records)
            context = LambdaContext(self.function.name, self.function.memory_mb, self.function.timeout)
            with self._lock:
                self._busy += 1
            started = time.time()
            try:
                response = handler({"Records": records}, context) or {}
                failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
                if not self.mapping.report_batch_item_failures and failed:
                    failed = {r["messageId"] for r in records}
            except Exception:  # the whole invocation failed: every record comes back
                failed = {r["messageId"] for r in records}
            finally:
                with self._lock:
                    self._busy -= 1
            timed_out = time.time() - started > self.function.timeout
            if timed_out:  # Lambda would have ended it and reported the batch failed
                failed = {r["messageId"] for r in records}
            done = {r["messageId"]: r["receiptHandle"] for r in records if r["messageId"] not in failed}
            for receipt in set(done.values()):
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)
            with self._lock:
                self.stats.invocations += 1
                self.stats.records += len(records)
                self.stats.failures += len(failed)
                self.stats.deleted += len(done)
                self.stats.timeouts += timed_out


def _record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message in the shape Lambda hands to the function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }

