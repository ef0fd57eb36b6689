"""Log lines a worker can always write: Powertools' JSON, with a token never shown and every value escapable."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from orderflow_runtime import trace

REDACTED = "<taskToken>"
"""What a task token becomes in a logged message."""


def log_json(record: dict[str, Any]) -> str:
    """A log line as Powertools writes it (compact JSON, not ASCII-escaped), except that a character UTF-8 cannot
    hold (a lone surrogate: JSON bodies may carry ``"\\ud800"``) is written as its JSON escape, so every line
    can be written on Lambda's UTF-8 stdout and a failed record always leaves its line."""
    text = json.dumps(record, default=str, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")  # "\ud800" inside a JSON string
    return text


def new_logger() -> Logger:
    """A Powertools Logger writing ``log_json`` lines (service and level from ``contract.SERVICE_NAME`` and
    ``contract.LOG_LEVEL``, which Powertools reads itself), each with its record's trace (``with_record_trace``)."""
    return Logger(json_serializer=lambda record: log_json(with_record_trace(record)))


def with_record_trace(record: dict[str, Any]) -> dict[str, Any]:
    """A log line whose record carries a trace header (``trace.HEADER_KEY``, appended per SQS record by the
    runtime) with ``xray_trace_id`` set to that header's Root: Powertools writes its own ``xray_trace_id`` (the
    function's, from ``_X_AMZN_TRACE_ID``) last, over any key of that name, so it is set here again; the function's
    own id, when it differs, stays as ``function_xray_trace_id``. A line without one is returned unchanged."""
    header = record.get(trace.HEADER_KEY)
    root = trace.root_of(header) if isinstance(header, str) else None
    if root is None:
        return record
    own = record.get(trace.ROOT_KEY)
    return {**record, trace.ROOT_KEY: root, **({"function_xray_trace_id": own} if own and own != root else {})}


def redact(text: str, token: str) -> str:
    """``text`` with every occurrence of ``token`` replaced by ``REDACTED`` (unchanged when ``token`` is empty)."""
    return text.replace(token, REDACTED) if token else text


def scalar(value: Any, limit: int) -> str | None:
    """A message field as a log value: a string or a number shortened to ``limit`` characters, None for None, and
    ``<type>`` for anything else (an object or a list is never logged whole)."""
    if value is None:
        return None
    if isinstance(value, str | int | float | bool):
        return str(value)[:limit]
    return f"<{type(value).__name__}>"
