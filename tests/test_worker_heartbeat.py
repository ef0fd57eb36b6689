"""Heartbeats only when they can matter (orderflow_runtime.heartbeat), and two calls on the normal path."""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Emulated

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "handlers"))
from orderflow_runtime.heartbeat import first_beat_after, message_age

# One row per rule: receive count, message age (s), HEARTBEAT_SECONDS, VISIBILITY_TIMEOUT_SECONDS -> first beat (s).
RULE = [
    (1, 0.0, 36, 18, 9.0),      # dev, a fresh message: beat only if the work still runs at (H - V) / 2
    (1, 5.0, 36, 18, 4.0),
    (1, 9.0, 36, 18, 0.0),      # old enough: at once
    (1, 3600.0, 36, 18, 0.0),
    (2, 0.0, 36, 18, 0.0),      # a redelivery: at once
    (11, 20.0, 36, 18, 0.0),
    (1, 0.0, 120, 60, 30.0),    # prod
    (1, 0.0, 30, 29, 0.5),      # heartbeat barely above visibility: little slack, an early beat
]


@pytest.mark.parametrize(("receives", "age", "heartbeat", "visibility", "first"), RULE)
def test_heartbeat_rule(receives: int, age: float, heartbeat: int, visibility: int, first: float) -> None:
    assert first_beat_after(receives, age, heartbeat, visibility) == pytest.approx(first)


@pytest.mark.parametrize(("sent", "now", "age"), [("1000", 11.0, 10.0), (None, 5.0, 0.0), ("x", 5.0, 0.0),
                                                  ("20000", 5.0, 0.0)])
def test_message_age(sent: str | None, now: float, age: float) -> None:
    assert message_age(sent, now) == pytest.approx(age)


def calls(emulated: Emulated) -> list[str]:
    seen: list[str] = []
    for client in (emulated.module.sfn, emulated.module.stock._ddb):
        client.meta.events.register("before-call", lambda model, **_: seen.append(model.name))
    return seen


def order(order_id: str, **items: int) -> dict[str, Any]:
    return {"orderId": order_id, "items": [{"sku": s, "quantity": q} for s, q in items.items()]}


# One row per delivery: receive count, age in seconds -> whether it beats. Dev: H 36 s, V 18 s, threshold 9 s.
DELIVERIES = [
    ("fresh", "1", 0, False),
    ("redelivery", "2", 0, True),
    ("old", "1", 3600, True),
    ("near-threshold", "1", 9, True),
]


@pytest.mark.parametrize(("name", "receives", "age", "beats"), DELIVERIES, ids=[row[0] for row in DELIVERIES])
def test_which_deliveries_beat(emulated: Emulated, name: str, receives: str, age: int, beats: bool) -> None:
    emulated.seed({"A": 5})
    arn = emulated.start(order("beat", A=1), "beat")
    (record,) = emulated.receive()
    record["attributes"]["ApproximateReceiveCount"] = receives
    record["attributes"]["SentTimestamp"] = str(int((time.time() - age) * 1000))
    seen = calls(emulated)
    assert emulated.invoke([record]) == set()
    expected = ["SendTaskHeartbeat"] if beats else []
    assert [c for c in seen if c == "SendTaskHeartbeat"] == expected
    assert sorted(c for c in seen if c != "SendTaskHeartbeat") == ["SendTaskSuccess", "TransactWriteItems"]
    assert json.loads(emulated.wait(arn)["output"])["status"] == "RESERVED"


def test_work_that_runs_long_beats(emulated: Emulated, monkeypatch: pytest.MonkeyPatch) -> None:
    """The transaction is held until a heartbeat has gone out: the beat comes while the work runs."""
    runtime = emulated.module.runtime
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, heartbeat_seconds=4,
                                                     visibility_timeout_seconds=2))  # threshold 1 s
    emulated.seed({"A": 5})
    arn = emulated.start(order("long", A=1), "long")
    (record,) = emulated.receive()
    beaten = threading.Event()
    emulated.module.sfn.meta.events.register("before-call.sfn.SendTaskHeartbeat", lambda **_: beaten.set())

    def hold(**_: Any) -> None:  # returns None: a value would stand in for the response
        beaten.wait(60)

    emulated.module.stock._ddb.meta.events.register("before-call.dynamodb.TransactWriteItems", hold)
    assert emulated.invoke([record]) == set()
    assert beaten.is_set()
    assert json.loads(emulated.wait(arn)["output"])["status"] == "RESERVED"


def test_a_batch_of_fresh_records_costs_two_calls_each(emulated: Emulated) -> None:
    # ten skus: records on one sku would conflict (as on AWS), and a conflict costs a retried transaction
    emulated.seed({f"S{i}": 1 for i in range(10)})
    for i in range(10):
        emulated.start(order(f"n{i}", **{f"S{i}": 1}), f"n{i}")
    records = emulated.receive(10)
    seen = calls(emulated)
    assert emulated.invoke(records) == set()
    assert sorted(seen) == ["SendTaskSuccess"] * 10 + ["TransactWriteItems"] * 10
