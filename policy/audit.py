"""Offline audit: evaluate the pack on a `pulumi stack export` file, with the pack's rules and levels.

    python -m policy.audit STACK_EXPORT.json [--config policy-config.json]

``--config`` takes the same JSON as ``pulumi preview --policy-pack-config``: per rule an enforcement
level, or an object with ``enforcementLevel`` and the rule's options. Exit 1 when a mandatory rule is
violated, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions

from policy.rules import POLICIES


@dataclass(frozen=True)
class Violation:
    rule: str
    level: str
    resource: str
    message: str


def _options(parent: str | None) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[],
                                 parent=parent)


def rule_config(policy: Any, given: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The enforcement level and options of one rule: the schema's defaults overlaid with ``given``."""
    entry = given.get(policy.name, {})
    if isinstance(entry, str):
        entry = {"enforcementLevel": entry}
    level = entry.get("enforcementLevel") or (policy.enforcement_level or EnforcementLevel.ADVISORY).value
    options: dict[str, Any] = {}
    schema = getattr(policy, "config_schema", None)
    if schema is not None:
        options = {k: v["default"] for k, v in schema.properties.items() if "default" in v}
    options.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
    return level, options


def evaluate(export: dict[str, Any], config: dict[str, Any] | None = None) -> list[Violation]:
    given = config or {}
    resources = [r for r in export.get("deployment", {}).get("resources", [])
                 if r.get("custom") and not str(r.get("type", "")).startswith("pulumi:")]
    violations: list[Violation] = []
    for policy in POLICIES:
        level, options = rule_config(policy, given)
        if level == EnforcementLevel.DISABLED.value:
            continue

        def report(message: str, urn: str | None = None, *, _p: Any = policy, _l: str = level,
                   _default: str = "") -> None:
            name = (urn or _default).rsplit("::", 1)[-1]
            violations.append(Violation(_p.name, _l, name, message))

        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                name = r["urn"].rsplit("::", 1)[-1]
                args = ResourceValidationArgs(r["type"], r.get("inputs") or {}, r["urn"], name,
                                              _options(r.get("parent")), None, options)
                urn = r["urn"]

                def report_resource(message: str, other: str | None = None, _urn: str = urn) -> None:
                    report(message, other or _urn)

                policy.validate(args, report_resource)
        elif isinstance(policy, StackValidationPolicy):
            stack = [PolicyResource(r["type"], {**(r.get("inputs") or {}), **(r.get("outputs") or {})}, r["urn"],
                                    r["urn"].rsplit("::", 1)[-1], _options(r.get("parent")), None, None, [], {})
                     for r in resources]
            policy.validate(StackValidationArgs(stack, options), report)
    return violations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the orderflow policy pack on a stack export.")
    parser.add_argument("file", type=Path)
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        export = json.loads(args.file.read_text())
        config = json.loads(args.config.read_text()) if args.config else {}
    except (OSError, ValueError) as error:
        print(f"error: cannot read {error}", file=sys.stderr)
        return 2
    violations = evaluate(export, config)
    for v in violations:
        print(f"{v.level.upper():9} {v.rule:30} {v.resource:32} {v.message}")
    mandatory = sum(v.level == EnforcementLevel.MANDATORY.value for v in violations)
    for name, entry in config.items():
        for allowed in (entry.get("allowlist") or []) if isinstance(entry, dict) else []:
            print(f"ALLOWED   {name:30} {allowed.get('resource', ''):32} reason: {allowed.get('reason', '')}")
    print(f"{args.file}: {mandatory} mandatory, {len(violations) - mandatory} advisory violation(s)")
    return 1 if mandatory else 0


if __name__ == "__main__":
    sys.exit(main())
