"""Typed, validated timing and sizing settings of one callback worker.

Each field names its stack-config key and allowed range, so a bad value fails before any resource is
registered, with a message naming the key, the value and the range. Timing values left unset derive from
the function timeout: a user sets that one and the rest follow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, cast

from .args import WorkerSettingsArgs

INTEGER = re.compile(r"-?[0-9]+")
"""A config integer: ASCII digits only, matched against the whole value (no sign +, no underscores, no spaces)."""

LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                      2557, 2922, 3288, 3653)
DLQ_RETENTION_SECONDS = 1_209_600
"""The dead-letter queue keeps messages for the SQS maximum, 14 days, longer than any work queue."""


class SettingsError(ValueError):
    """Every problem found in one set of settings; ``str(error)`` is one line per problem.

    Each line names the key (and, for a derived value, what it was derived from), the value, and the
    allowed range or what to do. Commands print each line as ``error: <line>`` and exit 2.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _int(key: str, low: int, high: int, default: int | None) -> Any:
    return field(default=default, metadata={"key": key, "range": (low, high)})


def _choice(key: str, choices: tuple[Any, ...], default: Any) -> Any:
    return field(default=default, metadata={"key": key, "choices": choices})


@dataclass(frozen=True)
class WorkerSettings:
    """Timing and sizing of one callback worker; ``None`` timing fields derive from the function timeout."""

    function_timeout_seconds: int = _int("functionTimeoutSeconds", 1, 900, 30)
    """Lambda timeout of the worker; the other timeouts derive from it."""
    function_memory_mb: int = _int("functionMemoryMb", 128, 10240, 256)
    """Lambda memory size in MB (also sets its CPU share)."""
    architecture: str = _choice("architecture", ("arm64", "x86_64"), "arm64")
    """Lambda instruction set; arm64 costs less per GB-second."""
    reserved_concurrency: int | None = _int("reservedConcurrency", 1, 1000, None)
    """Reserved concurrent executions of the worker; unset leaves it in the account's pool."""
    batch_size: int = _int("batchSize", 1, 10000, 10)
    """Largest number of records one invocation receives."""
    batching_window_seconds: int = _int("batchingWindowSeconds", 0, 300, 0)
    """How long the poller gathers records before invoking (MaximumBatchingWindowInSeconds); required (>= 1)
    above batch size 10. It counts in the visibility rule: a record's visibility timeout starts when the poller
    receives it, before the window has passed."""
    max_concurrency: int = _int("maxConcurrency", 2, 1000, 5)
    """Most concurrent invocations the SQS event source mapping starts."""
    max_receive_count: int = _int("maxReceiveCount", 5, 1000, 5)
    """Receives before SQS moves a message to the dead-letter queue."""
    visibility_timeout_seconds: int | None = _int("visibilityTimeoutSeconds", 0, 43200, None)
    """Queue visibility timeout; default 6 x the function timeout + the batching window, the rule AWS gives for
    Lambda SQS triggers (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html, "Queue
    visibility timeout"); an explicit value below it is refused."""
    heartbeat_seconds: int | None = _int("heartbeatSeconds", 1, 31_536_000, None)
    """Callback task heartbeat; default twice the visibility timeout: a failed delivery comes back after the
    visibility timeout and may then wait behind a backlog, and its first act is a heartbeat."""
    task_timeout_seconds: int | None = _int("taskTimeoutSeconds", 1, 31_536_000, None)
    """Callback task timeout; default the visibility timeout x (maxReceiveCount + 1)."""
    message_retention_seconds: int = _int("messageRetentionSeconds", 60, DLQ_RETENTION_SECONDS - 1, 345_600)
    """Work-queue retention; the dead-letter queue keeps messages 14 days, longer than this."""
    log_retention_days: int = _choice("logRetentionDays", LOG_RETENTION_DAYS, 14)
    """Retention of the worker's and the state machine's log groups."""
    log_level: str = _choice("logLevel", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
    """Worker log level (Powertools Logger)."""
    state_machine_log_level: str = _choice("stateMachineLogLevel", ("ALL", "ERROR", "FATAL"), "ERROR")
    """Which execution events the state machine logs."""
    oldest_message_alarm_seconds: int | None = _int("oldestMessageAlarmSeconds", 60, 1_209_600, None)
    """Alarm threshold on the age of the oldest queued message; default half the heartbeat (at least 60)."""
    answer_concurrency: int = _int("answerConcurrency", 1, 64, 10)
    """Records of one batch the worker handles at once (bounded thread pool)."""

    @classmethod
    def from_config(cls, raw: Mapping[str, str]) -> WorkerSettings:
        """Parse stack-config strings keyed by config key; unknown keys are ignored here."""
        problems: list[str] = []
        values: dict[str, Any] = {}
        for f in fields(cls):
            key = f.metadata["key"]
            if key not in raw:
                continue
            text = str(raw[key])
            if "range" in f.metadata:
                low, high = f.metadata["range"]
                if INTEGER.fullmatch(text):
                    values[f.name] = int(text)
                else:
                    problems.append(f"{key}={text!r} is not an integer (allowed range {low}..{high})")
            elif isinstance(f.default, int):
                if INTEGER.fullmatch(text):
                    values[f.name] = int(text)
                else:
                    problems.append(f"{key}={text!r} is not one of {_choices(f.metadata['choices'])}")
            else:
                values[f.name] = text
        try:
            cls(**values)._check_fields()
        except SettingsError as error:
            problems.extend(error.problems)
        if problems:
            raise SettingsError(problems)
        return cls(**values).resolved()

    def resolved(self) -> WorkerSettings:
        """Fill derived timing defaults, then check every rule; raises SettingsError listing all problems."""
        self._check_fields()
        ft, window, mrc = self.function_timeout_seconds, self.batching_window_seconds, self.max_receive_count
        notes: dict[str, str] = {}
        visibility = self.visibility_timeout_seconds
        if visibility is None:
            visibility = 6 * ft + window
            notes["visibilityTimeoutSeconds"] = (
                f"6 x functionTimeoutSeconds={ft} + batchingWindowSeconds={window}")
        heartbeat = self.heartbeat_seconds
        if heartbeat is None:
            heartbeat = 2 * visibility
            notes["heartbeatSeconds"] = f"2 x visibilityTimeoutSeconds={visibility}"
        task_timeout = self.task_timeout_seconds
        if task_timeout is None:
            task_timeout = visibility * (mrc + 1)
            notes["taskTimeoutSeconds"] = f"visibilityTimeoutSeconds={visibility} x (maxReceiveCount={mrc} + 1)"
        oldest = self.oldest_message_alarm_seconds
        done = replace(
            self,
            visibility_timeout_seconds=visibility,
            heartbeat_seconds=heartbeat,
            task_timeout_seconds=task_timeout,
            oldest_message_alarm_seconds=oldest if oldest is not None else max(60, heartbeat // 2),
        )
        done._check_rules(notes)
        return done

    def _check_fields(self) -> None:
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            key = f.metadata["key"]
            if value is None:
                continue
            if "range" in f.metadata:
                low, high = f.metadata["range"]
                if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                    problems.append(f"{key}={value!r} is outside the allowed range {low}..{high}")
            elif value not in f.metadata["choices"]:
                problems.append(f"{key}={value!r} is not one of {_choices(f.metadata['choices'])}")
        if problems:
            raise SettingsError(problems)

    def _check_rules(self, notes: Mapping[str, str]) -> None:
        ft, window = self.function_timeout_seconds, self.batching_window_seconds
        vis = self.visibility_timeout_seconds or 0
        hb = self.heartbeat_seconds or 0
        task = self.task_timeout_seconds or 0
        mrc = self.max_receive_count

        def show(key: str, value: int) -> str:
            """``key=value``, marked as derived (and from what) when the stack did not set it."""
            return f"{key}={value} (derived: {notes[key]})" if key in notes else f"{key}={value}"

        problems = []
        if vis < 6 * ft + window:
            problems.append(
                f"{show('visibilityTimeoutSeconds', vis)} must be >= 6 x functionTimeoutSeconds + "
                f"batchingWindowSeconds (6 x {ft} + {window} = {6 * ft + window}): a record must not reappear "
                "while an invocation still holds it (AWS rule for Lambda SQS triggers)"
            )
        if hb <= vis:
            problems.append(
                f"{show('heartbeatSeconds', hb)} must be > {show('visibilityTimeoutSeconds', vis)}: a retried "
                "message waits out the visibility timeout with nobody heartbeating"
            )
        if task < vis * mrc:
            problems.append(
                f"{show('taskTimeoutSeconds', task)} must be >= visibilityTimeoutSeconds x maxReceiveCount "
                f"({vis} x {mrc} = {vis * mrc}): every delivery attempt must fit in the task"
            )
        if task <= hb:
            problems.append(
                f"{show('taskTimeoutSeconds', task)} must be > {show('heartbeatSeconds', hb)} (AWS rule)")
        if self.message_retention_seconds < task:
            problems.append(
                f"messageRetentionSeconds={self.message_retention_seconds} must be >= "
                f"{show('taskTimeoutSeconds', task)}: a message must outlive the task waiting for it"
            )
        if self.batch_size > 10 and window < 1:
            problems.append(
                f"batchingWindowSeconds={window} must be >= 1 when "
                f"batchSize={self.batch_size} is above 10 (AWS rule)"
            )
        if self.reserved_concurrency is not None and self.reserved_concurrency < self.max_concurrency:
            problems.append(
                f"reservedConcurrency={self.reserved_concurrency} must be >= maxConcurrency="
                f"{self.max_concurrency}: the poller would be throttled"
            )
        if problems:
            raise SettingsError(problems)

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> WorkerSettings:
        """From a :class:`orderflow.args.WorkerSettingsArgs` dict (field names as keys), resolved; raises
        SettingsError naming an unknown key, or every problem of the values."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(args) - names)
        if unknown:
            raise SettingsError([f"settings: unknown key {k!r} (known: {', '.join(sorted(names))})" for k in unknown])
        return cls(**dict(args)).resolved()

    def as_args(self) -> WorkerSettingsArgs:
        """The set fields as a :class:`orderflow.args.WorkerSettingsArgs` dict (None fields left out)."""
        return cast(WorkerSettingsArgs, {f.name: getattr(self, f.name) for f in fields(self)
                                         if getattr(self, f.name) is not None})

    @classmethod
    def config_keys(cls) -> dict[str, str]:
        """Config key -> field name, for reporting unknown keys."""
        return {f.metadata["key"]: f.name for f in fields(cls)}


def _choices(choices: tuple[Any, ...]) -> str:
    return "{" + ", ".join(str(c) for c in choices) + "}"
