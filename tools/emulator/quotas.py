"""AWS API quotas as token buckets, played by the emulator before a request reaches moto.

Published values for US East (N. Virginia), Standard workflows
(https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html, sections "Quotas related to API action
throttling" and "Quotas related to state throttling"), as (bucket size, refill per second):

- StartExecution 1,300 / 300; SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat 3,000 / 500 each;
  StopExecution 1,000 / 200;
- StateTransition 5,000 / 5,000 (a state transition over quota is delayed, not refused: CloudWatch reports it as
  ``ExecutionThrottled``).

Lambda's concurrency is played by the poller: as many environments as the mapping's maximum concurrency, far below
the account's default 1,000 (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).

The emulator runs slower than AWS: the dev stack in one Python process on two cores sustains 9-25 orders/s
(``make bench``), against the 300 orders/s ``make bench`` models for the prod stack on AWS (``tools/bench/capacity``).
Buckets and refill rates are therefore multiplied by ``SCALE`` (default 0.1; ``ORDERFLOW_QUOTA_SCALE=1`` plays AWS's
own values), so a load that presses on a quota on AWS presses on it here. A throttled API call is answered ``400 ThrottlingException`` ("Rate exceeded") and is
not carried out; the SDK's retry policy sees it as on AWS. Counts per API are in ``throttled()``.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

SCALE = float(os.environ.get("ORDERFLOW_QUOTA_SCALE", "0.1"))

PUBLISHED: dict[str, tuple[float, float]] = {
    "StartExecution": (1300, 300),
    "SendTaskSuccess": (3000, 500),
    "SendTaskFailure": (3000, 500),
    "SendTaskHeartbeat": (3000, 500),
    "StopExecution": (1000, 200),
    "StateTransition": (5000, 5000),
}
"""(bucket size, refill per second) by API, us-east-1, from the page cited above."""


@dataclass
class Bucket:
    size: float
    refill: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.size

    def _fill(self, now: float) -> None:
        self.tokens = min(self.size, self.tokens + (now - self.stamp) * self.refill)
        self.stamp = now

    def take(self) -> bool:
        """One token if there is one."""
        with self.lock:
            self._fill(time.monotonic())
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False

    def wait(self) -> float:
        """One token, waiting for it if needed; the seconds waited."""
        waited = 0.0
        while not self.take():
            pause = max(0.001, 1 / self.refill)
            time.sleep(pause)
            waited += pause
        return waited


_lock = threading.Lock()
_buckets: dict[str, Bucket] = {}
_throttled: Counter[str] = Counter()
_transitions = [0]
_sends = [0]


def reset(scale: float | None = None) -> None:
    """Full buckets and zero counts (a new run); ``scale`` overrides ``SCALE`` (0: no quota at all)."""
    factor = SCALE if scale is None else scale
    with _lock:
        _buckets.clear()
        _throttled.clear()
        _transitions[0] = _sends[0] = 0
        if factor <= 0:
            return
        for api, (size, refill) in PUBLISHED.items():
            _buckets[api] = Bucket(max(1.0, size * factor), max(0.1, refill * factor))


def admit(api: str) -> bool:
    """Whether one call of ``api`` gets through now; counts it throttled when not."""
    with _lock:
        bucket = _buckets.get(api)
    if bucket is None or bucket.take():
        return True
    with _lock:
        _throttled[api] += 1
    return False


def transition() -> None:
    """One state transition: delayed while the StateTransition bucket is empty (counted once when delayed)."""
    with _lock:
        bucket = _buckets.get("StateTransition")
        _transitions[0] += 1
    if bucket is not None and bucket.wait() > 0:
        with _lock:
            _throttled["StateTransition"] += 1


def transitions() -> int:
    """State transitions since the last ``reset`` (every state entered by any execution: what Step Functions
    Standard bills, https://aws.amazon.com/step-functions/pricing/)."""
    with _lock:
        return _transitions[0]


def integration_send() -> None:
    """One SendMessage a state machine made through its SQS integration (counted for the benchmark)."""
    with _lock:
        _sends[0] += 1


def integration_sends() -> int:
    """SendMessage calls state machines made since the last ``reset`` (callback and compensation tasks)."""
    with _lock:
        return _sends[0]


def throttled() -> dict[str, int]:
    with _lock:
        return dict(_throttled)


reset()
