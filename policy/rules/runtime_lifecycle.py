"""Rules: a Lambda function's runtime is judged against AWS's runtime lifecycle, from data cfn-lint maintains.

cfn-lint ships AWS's runtime deprecation table (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html)
as ``cfnlint/data/AdditionalSpecs/LmbdRuntimeLifecycle.json``: per runtime its ``deprecated``, ``create-block`` and
``update-block`` dates and its ``successor``. Judged against today's date: a runtime AWS no longer lets you create
or update functions with breaks the next deployment (mandatory); a deprecated one gets no security patches
(advisory). Upgrading cfn-lint refreshes the data; the message names the cfn-lint version it came from.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import judged
from ._guard import guarded

FUNCTION = "aws:lambda/function:Function"
DATA_FILE = ("data", "AdditionalSpecs", "LmbdRuntimeLifecycle.json")
REMEDIATION = "move the function to the runtime's successor (or another supported runtime)"


@cache
def lifecycle() -> dict[str, dict[str, Any]]:
    """cfn-lint's runtime lifecycle table, read from the installed package's data file (without importing it)."""
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("cfn-lint is not installed; the pack declares it in policy/requirements.txt")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*DATA_FILE)
    data: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return data


@cache
def source() -> str:
    return f"AWS runtime lifecycle data of cfn-lint {importlib.metadata.version('cfn-lint')}"


def today() -> datetime.date:
    """The date runtimes are judged on (a function so tests can fix it)."""
    return datetime.datetime.now(datetime.UTC).date()


def _passed(value: Any, day: datetime.date) -> bool:
    return isinstance(value, str) and datetime.date.fromisoformat(value) <= day


def _runtime(args: ResourceValidationArgs) -> tuple[str, dict[str, Any]] | None:
    if args.resource_type != FUNCTION:
        return None
    runtime = judged(args, "runtime")
    entry = lifecycle().get(str(runtime)) if runtime else None
    return (str(runtime), entry) if entry else None


def _successor(entry: dict[str, Any]) -> str:
    return f" (successor: {entry['successor']})" if entry.get("successor") else ""


def _blocked(args: ResourceValidationArgs, report_violation: Any) -> None:
    found = _runtime(args)
    day = today()
    if found and _passed(found[1].get("create-block"), day):
        runtime, entry = found
        report_violation(f"{args.name}: AWS blocks creating functions with {runtime} since {entry['create-block']} "
                         f"(updates blocked from {entry.get('update-block') or 'a date not announced'}), per "
                         f"{source()}, judged on {day}. Fix: {REMEDIATION}{_successor(entry)}.", None)


def _deprecated(args: ResourceValidationArgs, report_violation: Any) -> None:
    found = _runtime(args)
    day = today()
    # a blocked runtime is lambda-runtime-creatable's (mandatory) finding, not reported twice; so disabling that
    # rule silences blocked runtimes: lower it to advisory instead
    if found and _passed(found[1].get("deprecated"), day) and not _passed(found[1].get("create-block"), day):
        runtime, entry = found
        report_violation(f"{args.name}: runtime {runtime} is deprecated since {entry['deprecated']} (no more security "
                         f"patches; creation blocked from {entry.get('create-block') or 'a date not announced'}), per "
                         f"{source()}, judged on {day}. Fix: {REMEDIATION}{_successor(entry)}.", None)


CREATABLE = ResourceValidationPolicy(
    name="lambda-runtime-creatable",
    description="Lambda functions use a runtime AWS still lets you create and update functions with.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=guarded(_blocked),
    remediation_steps=REMEDIATION,
)
SUPPORTED = ResourceValidationPolicy(
    name="lambda-runtime-supported",
    description="Lambda functions use a runtime AWS has not deprecated.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=guarded(_deprecated),
    remediation_steps=REMEDIATION,
)
