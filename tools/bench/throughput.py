"""Handler throughput on a simulated AWS: every call of the worker's clients waits ``latency`` and succeeds.

The stand-in answers at the SDK's send step, so request building, signing and parsing still run, and both
handlers make exactly the calls their code makes. Nothing here depends on moto's speed.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse

from tools.emulator.deploy import FunctionSpec
from tools.emulator.moto_fixes import NOT_SENT_HEADER
from tools.emulator.poller import LambdaContext, load_handler, worker_clients

Handler = Callable[[dict[str, Any], Any], Any]
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:orderflow-bench:"


@dataclass(frozen=True)
class Throughput:
    records_per_second: float
    seconds_per_batch: float
    calls_per_record: float


def simulated_aws(module: ModuleType, latency: float, calls: list[str]) -> None:
    """Answer every call of the worker module's clients after ``latency`` seconds, with success."""
    def answer(request: Any, event_name: str, **_: Any) -> AWSResponse:
        calls.append(event_name)
        request.headers[NOT_SENT_HEADER] = "1"  # answered here: the emulated service must not carry it out
        time.sleep(latency)
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "bench"}
        return AWSResponse(request.url, 200, headers, MockRawResponse(b"{}"))

    for service, client in worker_clients(module):
        client.meta.events.register_first(f"before-send.{service}", answer)


def batches(count: int, size: int, tag: str) -> list[list[dict[str, Any]]]:
    """SQS-shaped records of valid two-item orders, as the state machine sends them."""
    out = []
    for b in range(count):
        records = []
        for r in range(size):
            order_id = f"{tag}-{b}-{r}"
            body = {"order": {"orderId": order_id, "items": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 2}]},
                    "taskToken": f"token-{order_id}", "execution": EXECUTION + order_id}
            records.append({"messageId": order_id, "receiptHandle": order_id, "body": json.dumps(body),
                            "attributes": {"SentTimestamp": str(int(time.time() * 1000)), "ApproximateReceiveCount": "1"},
                            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench", "awsRegion": "us-east-1"})
        out.append(records)
    return out


def environment(spec: FunctionSpec, latency: float, calls: list[str]) -> ModuleType:
    """A fresh copy of the worker, its clients answered by the simulated AWS, its logs discarded."""
    module, _ = load_handler(spec)
    simulated_aws(module, latency, calls)
    module.logger.registered_handler.setStream(Path(os.devnull).open("w"))  # noqa: SIM115 - lives with the module
    return module


def measure(handlers: dict[str, Handler], spec: FunctionSpec, calls: dict[str, list[str]], *, size: int,
            count: int, rounds: int) -> dict[str, Throughput]:
    """Rounds alternate between the handlers, so drift in the machine hits each alike; the median counts."""
    timings: dict[str, list[float]] = {name: [] for name in handlers}
    for name, handler in handlers.items():  # warm: the first invocation pays for lazy imports
        handler({"Records": batches(1, size, f"warm-{name}")[0]}, LambdaContext(spec.name, spec.memory_mb, 900))
    for n in range(rounds):
        for name, handler in handlers.items():
            work = batches(count, size, f"{name}-{n}")
            started = time.perf_counter()
            for batch in work:
                handler({"Records": batch}, LambdaContext(spec.name, spec.memory_mb, 900))
            timings[name].append(time.perf_counter() - started)
    out = {}
    for name, seconds in timings.items():
        median = statistics.median(seconds)
        handled = rounds * count * size + size
        out[name] = Throughput(records_per_second=count * size / median, seconds_per_batch=median / count,
                               calls_per_record=len(calls[name]) / handled)
    return out
