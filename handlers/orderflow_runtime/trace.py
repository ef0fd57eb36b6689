"""The execution's trace context, read from an SQS record and logged on every line of that record's processing.

Where it comes from, first found wins:
- the record's ``AWSTraceHeader`` system attribute (``Records[].attributes.AWSTraceHeader``), which SQS sets from
  the sender's X-Ray trace header (https://docs.aws.amazon.com/xray/latest/devguide/xray-services-sqs.html);
- the message attribute ``contract.TRACE_HEADER_ATTRIBUTE`` (``Records[].messageAttributes.<name>.stringValue``,
  https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html), which a callback task can set where the integration
  does not set the system attribute.

A header is ``Root=<trace id>;Parent=<segment id>;Sampled=<0|1>``; a trace id is ``1-<8 hex digits>-<24 hex
digits>`` (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-traceids). Lambda
cannot continue a segment from a message (its segment is made before the function runs), so the context joins the
worker to the order's trace in its logs: ``trace_header`` (the header, shortened) and ``xray_trace_id`` (its
``Root``) on every line of the record, so one order's lines share one trace id across services.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from orderflow_runtime import contract

TRACE_HEADER_LOG_CHARS = 256
"""A trace header is logged up to this many characters (X-Ray's own are under 100)."""
TRACE_ID = re.compile(r"1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}")
HEADER_KEY = "trace_header"
ROOT_KEY = "xray_trace_id"
"""Powertools' own key for the function's trace id (``_X_AMZN_TRACE_ID``); a record's trace id takes it over
(``orderflow_runtime.logs.new_logger``)."""


def header_of(record: Mapping[str, Any]) -> str | None:
    """The trace header of a Lambda SQS record (the raw event record): ``attributes.AWSTraceHeader``, else the
    ``contract.TRACE_HEADER_ATTRIBUTE`` message attribute's ``stringValue``; None when neither is a non-empty
    string."""
    attributes = record.get("attributes")
    header = attributes.get("AWSTraceHeader") if isinstance(attributes, Mapping) else None
    if isinstance(header, str) and header:
        return header
    message_attributes = record.get("messageAttributes")
    attribute = message_attributes.get(contract.TRACE_HEADER_ATTRIBUTE) \
        if isinstance(message_attributes, Mapping) else None
    header = attribute.get("stringValue") if isinstance(attribute, Mapping) else None
    return header if isinstance(header, str) and header else None


def root_of(header: str | None) -> str | None:
    """The ``Root`` trace id of a trace header; None when it has none in X-Ray's format."""
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "Root" and TRACE_ID.fullmatch(value):
            return value
    return None


def log_keys(record: Mapping[str, Any]) -> dict[str, str]:
    """``{"trace_header", "xray_trace_id"}`` of a record (each only when found; the header shortened)."""
    header = header_of(record)
    if header is None:
        return {}
    root = root_of(header)
    return {HEADER_KEY: header[:TRACE_HEADER_LOG_CHARS], **({ROOT_KEY: root} if root else {})}
