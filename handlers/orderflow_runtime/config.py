"""The worker's settings, read once at initialization from the environment the component sets.

A variable the component always sets (``contract.REQUIRED``) that is missing or not a whole number >= 1 is a
``ConfigurationError`` raised when the worker's module is imported (Lambda's init phase), naming the variable:
a worker never runs on a silent default that disagrees with its queue and its state machine. The optional
``contract.KEPT_STATUSES`` falls back to the worker's own default when unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from orderflow_runtime import contract


class ConfigurationError(Exception):
    """The worker's environment is incomplete or wrong: fix the deployment, not the message."""


COMPONENT_SETS = "the callback component sets it on every worker it builds"


def require(name: str, environ: Mapping[str, str] | None = None, who_sets: str = "") -> str:
    """The value of environment variable ``name`` (from ``environ``, default ``os.environ``). Raises
    ConfigurationError naming it when it is unset or empty; ``who_sets`` (e.g. ``COMPONENT_SETS``) ends the message."""
    value = (os.environ if environ is None else environ).get(name, "")
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set; the worker reads it at initialization"
                                 + (f" ({who_sets})" if who_sets else ""))
    return value


def require_int(name: str, environ: Mapping[str, str] | None = None, minimum: int = 1) -> int:
    """The value of one of ``contract.REQUIRED`` as an integer >= ``minimum``. Raises ConfigurationError naming
    the variable and its value when it is unset, empty, not an integer or too small."""
    text = require(name, environ, COMPONENT_SETS)
    try:
        value = int(text)
    except ValueError:
        raise ConfigurationError(f"environment variable {name} must be an integer >= {minimum}; got {text!r}") \
            from None
    if value < minimum:
        raise ConfigurationError(f"environment variable {name} must be an integer >= {minimum}; got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """The callback timing and concurrency a worker runs with (see ``orderflow_runtime.contract``).

    ``heartbeat_seconds``: the callback task's HeartbeatSeconds (seconds); ``visibility_timeout_seconds``: the work
    queue's visibility timeout (seconds); ``answer_concurrency``: records of one batch worked at once.
    """

    heartbeat_seconds: int
    visibility_timeout_seconds: int
    answer_concurrency: int
    kept_statuses: tuple[str, ...] = ()
    """``contract.KEPT_STATUSES`` (optional): output statuses meaning a SUCCEEDED execution kept the worker's
    decision; empty when unset (the worker's own default applies, see ``kept``)."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every variable of ``contract.REQUIRED`` and the optional ``contract.KEPT_STATUSES`` (default:
        ``os.environ``). Raises ConfigurationError."""
        return cls(heartbeat_seconds=require_int(contract.HEARTBEAT_SECONDS, environ),
                   visibility_timeout_seconds=require_int(contract.VISIBILITY_TIMEOUT_SECONDS, environ),
                   answer_concurrency=require_int(contract.ANSWER_CONCURRENCY, environ),
                   kept_statuses=kept_statuses(environ))

    def kept(self, default: tuple[str, ...]) -> tuple[str, ...]:
        """The kept statuses the worker runs with: ``kept_statuses``, or the worker's ``default`` when unset."""
        return self.kept_statuses or default


def kept_statuses(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """``contract.KEPT_STATUSES`` split at commas, each value stripped of spaces; () when unset or empty. Raises
    ConfigurationError when it is set but names no status (e.g. ``","``)."""
    text = (os.environ if environ is None else environ).get(contract.KEPT_STATUSES, "")
    statuses = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if text.strip() and not statuses:
        raise ConfigurationError(f"environment variable {contract.KEPT_STATUSES} must be comma-separated output "
                                 f"statuses (e.g. COMPLETED); got {text!r}")
    return statuses
