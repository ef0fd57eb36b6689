"""Every rule runs guarded: no input makes it raise, and no resource takes more than a bounded time.

A rule that meets something it cannot read (an exception other than pulumi-policy's unknown-value signal) reports
a violation at its own level naming the error, instead of failing the analyzer (which would fail the whole
preview). The search loops (:mod:`_documents`, action expansion) call :func:`check`; past PER_RESOURCE_SECONDS the
resource is reported as too costly to judge, so one pathological input cannot stall the resources after it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from pulumi_policy.proxy import UnknownValueError

PER_RESOURCE_SECONDS = 2.0
_deadline = threading.local()


class OverBudget(Exception):
    """A resource took longer than PER_RESOURCE_SECONDS to judge."""


def check() -> None:
    """Raise OverBudget when the current resource's time is spent (a no-op outside a guarded rule)."""
    until = getattr(_deadline, "until", None)
    if until is not None and time.monotonic() > until:
        raise OverBudget(f"judging it took more than {PER_RESOURCE_SECONDS:g} s")


def guarded(validate: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``validate`` that reports what it cannot read instead of raising, within the time bound."""

    @functools.wraps(validate)
    def run(args: Any, report_violation: Any) -> Any:
        _deadline.until = time.monotonic() + PER_RESOURCE_SECONDS
        try:
            return validate(args, report_violation)
        except UnknownValueError:
            raise
        except OverBudget as error:
            report_violation(f"{getattr(args, 'name', 'the stack')}: {error}, so it is refused. Fix: simplify its "
                             f"policies (a pattern of many wildcards, a very large document).", None)
        except Exception as error:  # the guard's purpose: any other input becomes a finding
            report_violation(f"{getattr(args, 'name', 'the stack')}: this rule cannot read what it judges "
                             f"({type(error).__name__}: {str(error)[:200]}), so it is refused. Fix: give the "
                             f"property the shape the provider documents.", None)
        finally:
            _deadline.until = None
        return None

    return run
