"""Property-based fuzz of the inventory worker (hypothesis), driven as Lambda drives it: SQS-shaped batches of 1-10
records against the dev stack deployed into moto, the real handler module, its log on a strict UTF-8 stream.

Each example works on its own skus and order ids (a fresh prefix), so one deployment serves every example. The
example counts are bounded for `make test`; ``FUZZ_EXAMPLES=200`` (and ``FUZZ_PURE_EXAMPLES``) searches longer.
Properties, per batch:
- P1 the handler returns a partial-batch response and never raises; every reported id is one of the batch;
- P2 a record whose envelope is malformed (``parse_envelope`` refuses it) is reported failed;
- P3 no sku's stock is negative; stock + quantities held by RESERVED order records == initial stock, per sku;
- P5 SendTaskSuccess is only sent for a record whose order is valid, with that order's id;
- P6 no task token (8 characters or longer) appears in any log line;
- P7 every failed record leaves a WARNING-or-above log line naming its message id; the log is UTF-8 JSON lines and
  the logging module reported no error while writing it (field case Z1).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from tests.conftest import Emulated, _emulate
from tools.emulator.poller import LambdaContext
from tools.synth import synthesize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "handlers"))
from inventory.envelope import UnanswerableMessage, parse_envelope
from inventory.orders import Rejection, parse_order

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
PURE_EXAMPLES = int(os.environ.get("FUZZ_PURE_EXAMPLES", "300"))
REGION, ACCOUNT = "us-east-1", "123456789012"
_prefix = itertools.count()

ODD = ["\x00", "\n", " ", "\u00e9", "e\u0301", "\u2028", "\ufeff", "\uffff", "\U0001f600", "#", "/", ":", "\\", '"',
       "\u0130", "\u212a", "\ud800", "\udfff"]
odd_text = st.one_of(st.text(max_size=20), st.lists(st.sampled_from(ODD), min_size=1, max_size=8).map("".join),
                     st.builds(lambda c, n: c * n, st.sampled_from(["a", "\u00e9", "\ud800"]),
                               st.sampled_from([81, 300, 2049])))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**40, 10**40),
                    st.floats(allow_nan=False, allow_infinity=False), odd_text)
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                            st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                           max_leaves=6)


def arn_of(name: str, machine: str = "orderflow-dev-inventory", region: str = REGION) -> str:
    return f"arn:aws:states:{region}:{ACCOUNT}:execution:{machine}:{name}"


forged_arns = st.one_of(
    st.builds(arn_of, st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)),
    st.just(arn_of("o1", machine="other-machine")), st.just(arn_of("o1", region="eu-west-1")),
    st.sampled_from([arn_of("caf\u00e9"), arn_of("\ud800"), arn_of("a" * 81), arn_of("x") + "\n", "", "arn"]),
    odd_text)
tokens = st.one_of(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e), min_size=1, max_size=64),
                   st.sampled_from(["", " ", "t" * 2049, "tok\n", "\ud800" * 3]), st.integers(), st.none())


def valid_order(p: str) -> st.SearchStrategy[dict[str, Any]]:
    skus = [f"{p}A", f"{p}B", f"{p}C", f"{p}Z", f"{p}\u00e9", f"{p}e\u0301"]  # Z and NFD e-acute: not in stock
    return st.builds(lambda oid, items: {"orderId": oid, "items": [{"sku": s, "quantity": q} for s, q in items]},
                     st.sampled_from([f"{p}o0", f"{p}o1", f"{p}O1"]),
                     st.lists(st.tuples(st.sampled_from(skus), st.integers(1, 4)), min_size=1, max_size=3,
                              unique_by=lambda t: t[0]))


def bad_order(p: str) -> st.SearchStrategy[Any]:
    """An order broken at one place, or not an object at all."""
    def mutate(order: dict[str, Any], how: str, value: Any) -> Any:
        o = json.loads(json.dumps(order))
        if how == "whole":
            return value
        if how in ("orderId", "items"):
            o[how] = value
        elif how in ("sku", "quantity"):
            o["items"][0][how] = value
        elif how == "dup-sku":
            o["items"].append(dict(o["items"][0]))
        return o
    hows = st.sampled_from(["orderId", "items", "sku", "quantity", "dup-sku", "whole"])
    values = st.one_of(json_values, odd_text, st.sampled_from([0, -1, 2.5, True, 10**38, [1], "S" * 2045,
                                                               f"{p}o1\n", "\u00e9" * 1023]))
    return st.builds(lambda o, how, value: mutate(o, how, value), valid_order(p), hows, values)


def raw_bodies(p: str) -> st.SearchStrategy[str]:
    """Bodies that are not a usable envelope, or hold odd text (escaped lone surrogates, deep nesting)."""
    base = {"order": {"orderId": f"{p}o1", "items": [{"sku": f"{p}A", "quantity": 1}]}, "taskToken": "T" * 40,
            "execution": arn_of(f"{p}x")}
    text = json.dumps(base)
    return st.one_of(st.sampled_from([
        "", "{", "nul", "[1, 2,]", "\x00", '{"a":1}{}', "[" * 5000 + "]" * 5000, "[" * 200_000, "NaN", "1e400",
        '"\\ud800"', "null", "7", "[]", "{}", json.dumps(text),
        text.replace('"execution": "arn', '"execution": "\\ud800arn'),
        text.replace(f"{p}o1", f"{p}o1\\ud800"), text.replace(f'"{p}A"', f'"{p}A\\ud800"'),
        json.dumps({**base, "execution": [[[[arn_of("x")]]]]}), json.dumps({**base, "action": "RELEASE"}),
        '{"execution": ' + "[" * 990 + "]" * 990 + "}",
    ]), st.builds(lambda key, value: json.dumps({**base, key: value}),
                  st.sampled_from(["taskToken", "execution", "action", "order"]), json_values),
        st.text(max_size=30))


def plans(p: str) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """1..10 record plans; ``real`` ones are materialized by starting an execution (a live task token)."""
    orders = st.one_of(valid_order(p), valid_order(p), bad_order(p))
    plan = st.one_of(
        st.tuples(st.just("real"), orders), st.tuples(st.just("real"), orders),
        st.tuples(st.just("dup"), st.integers(0, 9)),
        st.tuples(st.just("forged"), tokens, forged_arns, orders),
        st.tuples(st.just("release"), forged_arns, orders),
        st.tuples(st.just("raw"), raw_bodies(p)))
    return st.lists(plan, min_size=1, max_size=10)


class Observed:
    """What the worker's Step Functions client sent, and what its logger wrote (strict UTF-8, as Lambda's stdout)."""

    def __init__(self) -> None:
        self.sfn_calls: list[tuple[str, dict[str, Any]]] = []
        self.log_errors: list[str] = []
        self.buffer = io.BytesIO()
        self.stream = io.TextIOWrapper(self.buffer, encoding="utf-8", errors="strict", write_through=True)

    def reset(self) -> None:
        self.sfn_calls.clear()
        self.log_errors.clear()
        self.buffer.seek(0)
        self.buffer.truncate()

    def lines(self) -> list[dict[str, Any]]:  # "\n" only: lines may hold U+2028 raw
        return [json.loads(line) for line in self.buffer.getvalue().decode("utf-8").split("\n") if line.strip()]


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Emulated, Observed]]:
    gen = _emulate(synthesize("dev"))
    e = next(gen)
    seen = Observed()
    for op in ("SendTaskSuccess", "SendTaskFailure"):
        e.module.sfn.meta.events.register(f"before-parameter-build.sfn.{op}",
                                          lambda params, model, **_: seen.sfn_calls.append((model.name, dict(params))))
    handler = e.module.logger.registered_handler
    handler.setStream(seen.stream)
    handler.handleError = lambda record: seen.log_errors.append(repr(sys.exc_info()[1]))
    e.module.logger.setLevel("INFO")
    try:
        yield e, seen
    finally:
        del handler.handleError
        handler.setStream(sys.stdout)
        with contextlib.suppress(StopIteration):
            next(gen)


def record(body: str, queue_arn: str, message_id: str | None = None, receive_count: int = 1) -> dict[str, Any]:
    now = str(int(time.time() * 1000))
    return {"messageId": message_id or str(uuid.uuid4()), "receiptHandle": uuid.uuid4().hex, "body": body,
            "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": now},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
            "awsRegion": REGION}


def materialize(e: Emulated, p: str, batch_plan: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Start the real executions, take their check messages off the queue, build the records."""
    queue = e.d.mapping.queue_arn
    started: dict[int, str] = {}
    for i, plan in enumerate(batch_plan):
        if plan[0] == "real":
            with contextlib.suppress(ClientError):  # refused by Step Functions: sent forged instead
                started[i] = e.start(plan[1], f"{p}x{i}")
    messages: dict[str, dict[str, Any]] = {}
    deadline = time.time() + 8
    while len(messages) < len(started) and time.time() < deadline:
        for m in e.sqs.receive_message(QueueUrl=e.d.work_queue_url, MaxNumberOfMessages=10).get("Messages", []):
            e.sqs.delete_message(QueueUrl=e.d.work_queue_url, ReceiptHandle=m["ReceiptHandle"])
            body = json.loads(m["Body"])
            if "taskToken" in body:
                messages[body["execution"]] = m
    records: list[dict[str, Any]] = []
    for i, plan in enumerate(batch_plan):
        kind = plan[0]
        if kind == "real" and started.get(i) in messages:
            records.append(record(messages[started[i]]["Body"], queue, messages[started[i]]["MessageId"]))
        elif kind == "real":
            records.append(record(json.dumps({"taskToken": "R" * 40, "execution": arn_of(f"{p}x{i}"),
                                              "order": plan[1]}), queue))
        elif kind == "dup" and records:
            twin = records[plan[1] % len(records)]
            records.append(record(twin["body"], queue, receive_count=2))
        elif kind == "forged":
            records.append(record(json.dumps({"taskToken": plan[1], "execution": plan[2], "order": plan[3]}), queue))
        elif kind == "release":
            records.append(record(json.dumps({"action": "release", "execution": plan[1], "order": plan[2]}), queue))
        elif kind == "raw":
            records.append(record(plan[1], queue))
    return records or [record("{}", queue)]


def _valid_envelope(body: str) -> bool:
    try:
        parse_envelope(body)
        return True
    except UnanswerableMessage:
        return False


def _order_id(order: Any) -> str | None:
    try:
        return parse_order(order).order_id
    except Rejection:
        return None


def held_by_records(e: Emulated, skus: list[str]) -> Counter[str]:
    held: Counter[str] = Counter()
    for page in e.ddb.get_paginator("scan").paginate(TableName=e.d.table, ConsistentRead=True):
        for item in page["Items"]:
            if item["pk"]["S"].startswith("ORDER#") and item.get("status", {}).get("S") == "RESERVED":
                for it in json.loads(item["items"]["S"]):
                    if it["sku"] in skus:
                        held[it["sku"]] += int(it["quantity"])
    return held


def violations(e: Emulated, seen: Observed, records: list[dict[str, Any]], initial: dict[str, int],
               response: Any) -> list[str]:
    if not (isinstance(response, dict) and isinstance(response.get("batchItemFailures"), list)):
        return [f"P1 response {response!r:.200}"]
    ids = {r["messageId"] for r in records}
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    found = [f"P1 unknown ids {failed - ids}"] if not failed <= ids else []
    bodies = {r["messageId"]: r["body"] for r in records}
    found += [f"P2 malformed yet deleted: {bodies[m]:.200}" for m in bodies
              if m not in failed and not _valid_envelope(bodies[m])]
    stock = {sku: e.stock(sku) for sku in initial}
    held = held_by_records(e, list(initial))
    found += [f"P3 {sku}: stock {stock[sku]} + held {held[sku]} != {n}" for sku, n in initial.items()
              if stock[sku] is None or stock[sku] < 0 or stock[sku] + held[sku] != n]
    valid = {}
    for body in bodies.values():
        if _valid_envelope(body):
            envelope = parse_envelope(body)
            valid.setdefault(envelope.token, set()).add(_order_id(envelope.order))
    for op, params in seen.sfn_calls:
        if op == "SendTaskSuccess" and json.loads(params["output"]).get("orderId") not in \
                valid.get(params["taskToken"], set()):
            found.append(f"P5 success for an invalid order: {params['output']:.200}")
    found += [f"P7 logging error {err:.200}" for err in seen.log_errors]
    text = seen.buffer.getvalue().decode("utf-8", "replace")
    for body in bodies.values():
        token = parse_envelope(body).token if _valid_envelope(body) else None
        if token and len(token) >= 8 and token in text:
            found.append(f"P6 token in the log: {token[:20]}")
    lines = seen.lines()
    found += [f"P7 failed without a log line: {bodies[m]:.200}" for m in failed
              if not any(line.get("message_id") == m and line["level"] in ("WARNING", "ERROR") for line in lines)]
    return found


def run_batch(e: Emulated, seen: Observed, records: list[dict[str, Any]], initial: dict[str, int]) -> None:
    seen.reset()
    note(f"bodies: {[r['body'][:300] for r in records]}")
    try:
        response = e.handler({"Records": records}, LambdaContext(e.d.function.name, 256, 3))
    except Exception as error:
        raise AssertionError(f"P1 the handler raised {error!r}") from error
    assert violations(e, seen, records, initial, response) == []


SLOW = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])


@SLOW
@given(data=st.data())
def test_fuzz_batches(world: tuple[Emulated, Observed], data: Any) -> None:
    """Mixed batches: live executions' checks, duplicates, forged envelopes, releases and malformed bodies."""
    e, seen = world
    p = f"f{next(_prefix)}-"
    initial = data.draw(st.fixed_dictionaries({f"{p}A": st.integers(0, 6), f"{p}B": st.integers(0, 6),
                                               f"{p}C": st.integers(0, 2), f"{p}\u00e9": st.integers(0, 3)}))
    e.seed(initial)
    run_batch(e, seen, materialize(e, p, data.draw(plans(p))), initial)


@settings(SLOW, max_examples=EXAMPLES * 3)
@given(data=st.data())
def test_fuzz_one_record_without_executions(world: tuple[Emulated, Observed], data: Any) -> None:
    """One record and no live execution: a malformed body, a forged check or a forged release."""
    e, seen = world
    p = f"g{next(_prefix)}-"
    initial = {f"{p}A": 3, f"{p}B": 3}
    e.seed(initial)
    plan = data.draw(st.one_of(st.tuples(st.just("raw"), raw_bodies(p)),
                               st.tuples(st.just("forged"), tokens, forged_arns, st.one_of(valid_order(p),
                                                                                           bad_order(p))),
                               st.tuples(st.just("release"), forged_arns, bad_order(p))))
    run_batch(e, seen, materialize(e, p, [plan]), initial)


@settings(max_examples=PURE_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=st.one_of(raw_bodies("p-"), st.builds(json.dumps, st.fixed_dictionaries(
    {"taskToken": tokens, "execution": forged_arns, "order": st.one_of(valid_order("p-"), bad_order("p-"))},
    optional={"action": st.one_of(st.sampled_from(["check", "release"]), json_values)}))))
def test_envelope_and_order_checks_only_refuse(body: str) -> None:
    """parse_envelope refuses only with UnanswerableMessage (a body nested too deep included), parse_order only with
    Rejection."""
    try:
        envelope = parse_envelope(body)
    except UnanswerableMessage:
        return
    with contextlib.suppress(Rejection):
        parse_order(envelope.order)


# -- the shrunk findings of a longer run, as plain tests (field case Z1, Z2) -----------------------------------------
SURROGATE_BODIES = [
    '{"execution": "\\ud800"}',
    '{"taskToken": "TTTTTTTTTTTT", "execution": "arn:aws:states:us-east-1:123456789012:execution:'
    'orderflow-dev-inventory:nope", "order": {"orderId": "\\ud800"}}',
    '{"action": "release", "execution": "' + "\\ud800" * 81 + '"}',
]


@pytest.mark.parametrize("body", SURROGATE_BODIES, ids=["execution", "orderId", "release"])
def test_a_lone_surrogate_still_leaves_its_error_line(world: tuple[Emulated, Observed], body: str) -> None:
    """Every delivery of a dead-lettered message leaves its ERROR line on a strict UTF-8 stream, the character
    written as its JSON escape."""
    e, seen = world
    seen.reset()
    e.fail_until_dead_lettered(body)
    while got := e.sqs.receive_message(QueueUrl=e.d.dlq_url, MaxNumberOfMessages=10).get("Messages"):
        for message in got:  # the next case expects an empty dead-letter queue
            e.sqs.delete_message(QueueUrl=e.d.dlq_url, ReceiptHandle=message["ReceiptHandle"])
    assert not seen.log_errors, seen.log_errors[:1]
    errors_logged = [line for line in seen.lines() if line["level"] == "ERROR"]
    assert len(errors_logged) >= 10
    assert "\\ud800" in seen.buffer.getvalue().decode()  # escaped, not dropped


def test_a_body_nested_too_deep_is_unanswerable(world: tuple[Emulated, Observed]) -> None:
    """Field case Z2: a body the JSON decoder cannot read is a message nobody can answer (ERROR, to the DLQ)."""
    e, seen = world
    seen.reset()
    assert e.invoke([record("[" * 5000 + "]" * 5000, e.d.mapping.queue_arn, "deep")]) == {"deep"}
    (line,) = [line for line in seen.lines() if line.get("message_id") == "deep"]
    assert (line["level"], line["error_class"]) == ("ERROR", "UnanswerableMessage")
    assert "nested deeper" in line["error"]
