"""Runtimes are judged on a fixed day against the pinned cfn-lint data, so the case tables stay true."""

from __future__ import annotations

import datetime
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime.proto import analyzer_pb2

from policy.rules import runtime_lifecycle

JUDGED_ON = datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def fixed_date(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(runtime_lifecycle, "today", lambda: JUDGED_ON)
    yield


@pytest.fixture(scope="module")
def analyzer() -> Iterator[Any]:
    """The pack started as the Pulumi CLI starts it, one per test module; a stub on its port."""
    from .test_grpc import start_pack

    process, stub = start_pack(sys.executable, Path(__file__).resolve().parents[2] / "policy")
    try:
        yield stub
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def default_config(analyzer: Any) -> Iterator[None]:
    yield
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={}))
