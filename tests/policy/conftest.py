"""Runtimes are judged on a fixed day against the pinned cfn-lint data, so the case tables stay true."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from policy.rules import runtime_lifecycle

JUDGED_ON = datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def fixed_date(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(runtime_lifecycle, "today", lambda: JUDGED_ON)
    yield
