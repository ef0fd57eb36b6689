"""lambda-runtime-creatable (mandatory) and lambda-runtime-supported (advisory), from cfn-lint's lifecycle data,
judged on a fixed day (tests/policy/conftest.py)."""

from __future__ import annotations

import datetime

import pytest

from policy.rules import RUNTIME_CREATABLE, RUNTIME_SUPPORTED, runtime_lifecycle

from .cases import check

# C19: (runtime, blocked: mandatory rule, deprecated: advisory rule), judged on 2026-11-30 with cfn-lint's data
RUNTIMES = [
    ("python3.13", False, False),
    ("nodejs22.x", False, False),
    ("nodejs18.x", False, True),
    ("nodejs20.x", False, True),
    ("python3.10", False, True),
    ("dotnet8", False, True),
    ("nodejs14.x", True, False),
    ("python3.7", True, False),
    ("go1.x", True, False),
    ("provided", True, False),
    ("dotnet9", False, True),  # deprecated, no creation block announced
    ("nodejs99.x", False, False),  # unknown to the data: not judged
]


@pytest.mark.parametrize(("runtime", "blocked", "deprecated"), RUNTIMES)
def test_runtime_lifecycle(runtime: str, blocked: bool, deprecated: bool) -> None:
    blocked_found = check(RUNTIME_CREATABLE, "aws:lambda/function:Function", {"runtime": runtime})
    deprecated_found = check(RUNTIME_SUPPORTED, "aws:lambda/function:Function", {"runtime": runtime})
    assert bool(blocked_found) is blocked
    assert bool(deprecated_found) is deprecated
    for message in blocked_found + deprecated_found:
        assert "cfn-lint 1.58.0" in message and "judged on 2026-11-30" in message


def test_runtime_rules_follow_the_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_lifecycle, "today", lambda: datetime.date(2027, 2, 1))
    assert check(RUNTIME_CREATABLE, "aws:lambda/function:Function", {"runtime": "python3.10"}) != []
    assert check(RUNTIME_SUPPORTED, "aws:lambda/function:Function", {"runtime": "python3.10"}) == []
