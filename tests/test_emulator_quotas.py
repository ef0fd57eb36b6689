"""API quotas as token buckets: AWS's published values, the scale factor, and what a throttled call counts."""

from __future__ import annotations

import pytest

from tools.emulator import quotas


@pytest.fixture(autouse=True)
def fresh() -> object:
    yield
    quotas.reset()


# The published us-east-1 values (bucket, refill per second), one row per API the emulator plays.
PUBLISHED = [("StartExecution", 1300, 300), ("SendTaskSuccess", 3000, 500), ("SendTaskFailure", 3000, 500),
             ("SendTaskHeartbeat", 3000, 500), ("StopExecution", 1000, 200), ("StateTransition", 5000, 5000)]


@pytest.mark.parametrize(("api", "size", "refill"), PUBLISHED)
def test_published_values(api: str, size: int, refill: int) -> None:
    assert quotas.PUBLISHED[api] == (size, refill)


def test_a_bucket_gives_its_size_then_throttles_and_counts() -> None:
    quotas.reset(scale=2 / 1300)  # StartExecution: a bucket of 2, refilled at 0.46 per second
    admitted = [quotas.admit("StartExecution") for _ in range(3)]
    assert admitted[:2] == [True, True]
    assert quotas.throttled().get("StartExecution", 0) == admitted.count(False)
    assert quotas.admit("DescribeExecution")  # an API without a quota here is never throttled


def test_scale_zero_plays_no_quota() -> None:
    quotas.reset(scale=0)
    assert all(quotas.admit("StartExecution") for _ in range(5000))
    assert quotas.throttled() == {}


def test_a_bucket_never_holds_more_than_its_size() -> None:
    bucket = quotas.Bucket(size=3, refill=0.001)
    bucket.tokens = 0
    bucket.stamp -= 10**6  # as if it had been refilling for 11 days: 1,000 tokens' worth
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
