"""`orderflow bench --only SECTION`: the output holds the asked sections' keys only, though the handlers'
throughput runs for a section that needs its batch duration (capacity, e2e, workflow)."""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from rich.console import Console

import tools.bench.__main__ as bench
from tools.bench.throughput import Throughput
from tools.emulator.faults import Faults

HANDLER_KEYS = {"handler_speedup", "handler_records_per_second", "handler_seconds_per_batch",
                "handler_calls_per_record", "handler_batch_size", "simulated_latency_ms", "calls_per_record",
                "calls_per_record_by_api"}


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    ran: list[bool] = []

    def handler_speed(export: dict[str, Any], latency: float) -> tuple[dict[str, Throughput], dict[str, float]]:
        ran.append(True)
        return ({"ours": Throughput(200.0, 0.05, 2.0), "tutorial_style": Throughput(25.0, 0.4, 2.0)},
                {"TransactWriteItems": 1.0, "SendTaskSuccess": 1.0})

    monkeypatch.setattr(bench, "handler_speed", handler_speed)
    return ran


@pytest.mark.parametrize(("wanted", "handler_keys"), [({"capacity"}, False), ({"handlers"}, True),
                                                      ({"handlers", "capacity"}, True)])
def test_only_the_asked_sections_keys(measured: list[bool], wanted: set[str], handler_keys: bool) -> None:
    args = argparse.Namespace(latency_ms=20.0)
    result = bench.measure(Console(quiet=True), args, Faults.parse("crash=0.1"), wanted, None)  # type: ignore[arg-type]
    assert measured == [True]
    assert HANDLER_KEYS & set(result) == (HANDLER_KEYS if handler_keys else set())
    assert ("capacity_orders_per_second" in result) is ("capacity" in wanted)
