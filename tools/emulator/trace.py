"""One trace per order: the run starts each execution with an X-Ray trace header, as an instrumented caller (or API
Gateway) does (StartExecution ``traceHeader``, https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html),
and checks that every record a worker is handed for that execution carries the same trace id.

A record's trace header is read as the worker runtime reads it (``orderflow_runtime.trace``): the
``AWSTraceHeader`` system attribute first (the emulated Step Functions sets it on the messages its SQS integration
sends, ``moto_fixes``), else the ``traceHeader`` message attribute a definition may set. Messages EventBridge sends
for an ended execution (``eventbridge``) carry none: a Step Functions status-change event has no trace context to
pass on; they are counted apart.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict
from typing import Any

from tools.emulator.invariants import Invariant

TRACE_HEADER_ATTRIBUTE = "traceHeader"
"""The message attribute a callback task may set (``orderflow_runtime.contract.TRACE_HEADER_ATTRIBUTE``)."""
NAME = "trace context reaches every worker"


def new_header() -> str:
    """A fresh X-Ray trace header ``Root=1-<8 hex: epoch seconds>-<24 hex>;Sampled=1``
    (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-traceids)."""
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=1"


def root_of(header: str | None) -> str | None:
    """The ``Root=`` value of a trace header, or None."""
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "Root" and value:
            return value
    return None


def header_of(record: dict[str, Any]) -> str | None:
    """A Lambda SQS record's trace header: ``attributes.AWSTraceHeader``, else the message attribute."""
    header = (record.get("attributes") or {}).get("AWSTraceHeader")
    if isinstance(header, str) and header:
        return header
    attribute = (record.get("messageAttributes") or {}).get(TRACE_HEADER_ATTRIBUTE) or {}
    value = attribute.get("stringValue") if isinstance(attribute, dict) else None
    return value if isinstance(value, str) and value else None


def _execution_of(body: str) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    execution = data.get("execution") if isinstance(data, dict) else None
    return execution if isinstance(execution, str) else None


class TraceWatch:
    """Sees every record handed to a worker (the poller's ``before_invoke`` hook, last in the chain)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
        """Execution ARN -> (message id, queue ARN, the record's trace root) per record handed over."""
        self.untraced_by_design: set[str] = set()
        """Message ids sent by EventBridge (no trace context to pass on); judged apart by ``check``."""
        self.skipped = 0

    def observe(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for record in records:
            execution = _execution_of(record["body"])
            if execution is None:
                continue
            with self._lock:
                self.seen[execution].append((record["messageId"].removesuffix("-twin"), record["eventSourceARN"],
                                             root_of(header_of(record))))
        return records

    def check(self, expected: dict[str, str]) -> Invariant:
        """``expected``: execution ARN -> the root it was started with. Every record of such an execution carries
        that root; records of executions the run did not start (poison) are not judged."""
        wrong, records, queues = [], 0, set()
        with self._lock:
            seen = {arn: list(rows) for arn, rows in self.seen.items()}
        self.skipped = 0
        for arn, rows in seen.items():
            if arn not in expected:
                continue
            for message, queue, root in rows:
                if message in self.untraced_by_design:
                    self.skipped += 1
                    continue
                records += 1
                queues.add(queue)
                if root != expected[arn]:
                    wrong.append(f"{arn.rsplit(':', 1)[1]} on {queue.rsplit(':', 1)[1]}: {root or 'none'}")
        apart = f"; {self.skipped} EventBridge compensation record(s) carry none by design" if self.skipped else ""
        if wrong:
            shown = ", ".join(wrong[:5]) + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else "")
            return Invariant(NAME, False, f"{len(wrong)} of {records} record(s) without their order's trace id: "
                                          f"{shown}{apart}")
        return Invariant(NAME, True, f"{records} record(s) of {len([a for a in seen if a in expected])} "
                                     f"execution(s) on {len(queues)} queue(s) carry their order's trace id{apart}")
