"""SendTaskHeartbeat only when it can matter, from the stack's timing settings.

Timing (``orderflow_runtime.config.Settings``, from the environment the component sets): H =
``HEARTBEAT_SECONDS`` (the task's HeartbeatSeconds), V = ``VISIBILITY_TIMEOUT_SECONDS`` (the queue's), and the
component's settings guarantee H > V >= 6 x the function timeout. Step Functions starts the task's heartbeat
clock when it sends the message, so without a beat the deadline is SentTimestamp + H; a beat moves it to now + H
(https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html#task-state-fields, HeartbeatSeconds).

The rule, for a message of age A (now - SentTimestamp) received for the R-th time:
- the answer of this delivery needs no beat: it comes within the function timeout T <= V / 6 < H / 6 of
  receipt, so before SentTimestamp + H whenever A < H / 2;
- what a beat buys is time for the NEXT delivery if this one fails: that one comes V after this receipt,
  plus however long it waits behind a backlog, and must find the task alive. Beating on every delivery kept
  a backlog slack of H - V; the rule keeps at least half of it, (H - V) / 2 (9 s on dev, 30 s on prod):
  - R > 1 (a redelivery: an earlier delivery failed, and this one may too): beat at once;
  - R = 1: beat once A reaches the threshold (H - V) / 2, at once if it already has (an old message), or
    while the work still runs when it does (work that runs long);
  - after the first beat, every H / 3 while the work runs.
So the normal path (a fresh message answered within (H - V) / 2) is two calls: the transaction and the answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def first_beat_after(receive_count: int, age_seconds: float, heartbeat_seconds: float,
                     visibility_seconds: float) -> float:
    """Seconds from now until the first heartbeat of this delivery (0 = at once); see the module doc."""
    if receive_count > 1:
        return 0.0
    threshold = max(0.0, (heartbeat_seconds - visibility_seconds) / 2)
    return max(0.0, threshold - age_seconds)


def message_age(sent_timestamp_ms: str | None, now: float | None = None) -> float:
    """Seconds since SQS's SentTimestamp (epoch milliseconds); 0 when the attribute is missing or not a number."""
    try:
        sent = int(sent_timestamp_ms or "")
    except ValueError:
        return 0.0
    return max(0.0, (time.time() if now is None else now) - sent / 1000)


class Heartbeat:
    """Beats ``beat()`` after ``first_after`` seconds, then every ``interval`` seconds, while the work runs.

    ``beat`` returns False when the task is gone (no more beats). Leaving the context stops the beats and
    waits for one already sent to return, so a record is not reported done with a call still in flight.
    """

    def __init__(self, beat: Callable[[], bool], first_after: float, interval: float) -> None:
        self._beat = beat
        self._first_after = first_after
        self._interval = max(1.0, interval)
        self._stop = threading.Event()
        self._idle = threading.Lock()

    def __enter__(self) -> Heartbeat:
        threading.Thread(target=self._run, daemon=True, name="heartbeat").start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        with self._idle:  # a beat in flight ends before the record does
            pass

    def _run(self) -> None:
        wait = self._first_after
        while not self._stop.wait(wait):
            with self._idle:
                if self._stop.is_set():
                    return
                if not self._beat():
                    return
            wait = self._interval
