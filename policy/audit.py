"""Offline audit: evaluate the pack on a `pulumi stack export` file, with the pack's rules and levels.

    python -m policy.audit STACK_EXPORT.json [--config policy-config.json]

``--config`` takes the JSON of ``pulumi preview --policy-pack-config``, read as the CLI reads it
(:mod:`pack_config`). A resource is judged on its ``inputs`` (what the program asks for, which is what the pack
judges in ``pulumi preview`` / ``up``), completed by its ``outputs`` for every key the inputs leave unset: the
provider defaults and computed values a real export carries after ``up`` (an SQS queue's ``maxMessageSize``,
a function's ``timeout``). Where both hold a key the input wins: an output that differs (drift, a stale
export) is not what the next ``up`` applies, and judging the input keeps the audit as strict as the pack. A
judged value a stack export holds as a secret's ciphertext is reported at the rule's level (audit the
``--show-secrets`` export instead). After the findings it names every resource an allowlist entry exempts (by its
URN's type and name, with the reason) and every entry that exempts none. Exit 0 when no blocking (mandatory or
remediate) rule is violated, 1 when one is, 2 for an unreadable export or a refused config (before anything is
judged).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pulumi_policy import (
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions

from .export_file import ExportError, load_export
from .pack_config import ConfigError, PackConfig, parse, read, reconcile
from .rules import POLICIES
from .rules._common import Encrypted, NotJudgeable, allowlisted, urn_tail

WIDTH = 80


@dataclass(frozen=True)
class Violation:
    rule: str
    level: str
    resource: str
    message: str
    type: str = ""
    urn: str = ""


def _options(parent: str | None) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[],
                                 parent=parent)


def judged_props(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's inputs, completed by its outputs for every key the inputs leave unset (provider defaults)."""
    inputs = {k: v for k, v in (resource.get("inputs") or {}).items() if v is not None}
    return {**(resource.get("outputs") or {}), **inputs}


Add = Callable[[str, str, str | None], None]
"""Records a finding: (level, message, URN or None for the resource judged)."""


def _run(policy: Any, level: str, call: Callable[[], Any], add: Add) -> None:
    """Run one validation; a value that cannot be read is reported as pulumi-policy and this audit decide."""
    try:
        call()
    except Encrypted as error:
        add(level, error.message, None)
    except NotJudgeable as error:
        add("advisory", f"can't run policy '{policy.name}' during preview: {error.message}", None)


def _reporter(add: Add, level: str) -> Callable[..., None]:
    """pulumi-policy's ``report_violation(message, urn=None)`` at the rule's level."""
    def report(message: str, urn: str | None = None) -> None:
        add(level, message, urn)
    return report


def _check(policy: Any, level: str, resources: list[dict[str, Any]], options: dict[str, Any],
           violations: list[Violation]) -> None:
    types = {r["urn"]: r["type"] for r in resources}

    def adder(default_urn: str) -> Add:
        def add(at: str, message: str, urn: str | None) -> None:
            target = urn or default_urn
            violations.append(Violation(policy.name, at, target.rsplit("::", 1)[-1], message, types.get(target, ""),
                                        target))
        return add

    if isinstance(policy, ResourceValidationPolicy):
        for r in resources:
            args = ResourceValidationArgs(r["type"], judged_props(r), r["urn"], r["urn"].rsplit("::", 1)[-1],
                                          _options(r.get("parent")), None, options)
            add = adder(r["urn"])
            _run(policy, level, partial(policy.validate, args, _reporter(add, level)), add)
    elif isinstance(policy, StackValidationPolicy):
        stack = [PolicyResource(r["type"], judged_props(r), r["urn"], r["urn"].rsplit("::", 1)[-1],
                                _options(r.get("parent")), None, None, [], {}) for r in resources]
        add = adder("")
        _run(policy, level, partial(policy.validate, StackValidationArgs(stack, options), _reporter(add, level)), add)


def judged_resources(export: dict[str, Any]) -> list[dict[str, Any]]:
    """The export's cloud resources (custom, not providers or the stack)."""
    return [r for r in export.get("deployment", {}).get("resources") or []
            if r.get("custom") and not str(r.get("type", "")).startswith("pulumi:")]


def evaluate(export: dict[str, Any], config: PackConfig | dict[str, Any] | None = None) -> list[Violation]:
    """Every violation of the pack's rules in ``export``; ``config`` as a parsed file or its JSON document."""
    pack = config if isinstance(config, PackConfig) else reconcile(POLICIES, parse(config or {}))
    resources = judged_resources(export)
    violations: list[Violation] = []
    for policy in POLICIES:
        rule = pack.rules[policy.name]
        if rule.level == "disabled":
            continue
        # pulumi-policy reports a violation left after remediation as mandatory; no rule here remediates.
        level = "mandatory" if rule.blocking else rule.level
        _check(policy, level, resources, dict(rule.options), violations)
    return violations


def _wrap(text: str, indent: int) -> list[str]:
    pad = " " * indent
    return textwrap.wrap(text, WIDTH, initial_indent=pad, subsequent_indent=pad, break_long_words=True,
                         break_on_hyphens=False) or [pad]


def short_type(typ: str) -> str:
    """``aws:iam/rolePolicy:RolePolicy`` -> ``iam/rolePolicy`` (the module and resource, as a reviewer reads it)."""
    parts = typ.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == "aws" and parts[1] else typ


def _header(resource: str, typ: str) -> list[str]:
    text = f"{resource}  [{short_type(typ)}]" if typ else resource
    return textwrap.wrap(text, WIDTH, subsequent_indent="  ", break_on_hyphens=False) or [resource]


def report_lines(violations: list[Violation], shared_names: frozenset[str] = frozenset()) -> list[str]:
    """The findings grouped by resource (named once), blocking first, wrapped to 80 columns. A resource whose name
    another resource of the stack shares (``shared_names``) is named by its URN's type and name."""
    lines: list[str] = []
    order = {"mandatory": 0, "advisory": 1}
    by_resource: dict[tuple[str, str, str], list[Violation]] = {}
    for v in violations:
        by_resource.setdefault((v.urn or v.resource, v.resource, v.type), []).append(v)
    names = [resource for _, resource, _ in by_resource]
    for (urn, resource, typ), found in by_resource.items():
        shared = names.count(resource) > 1 or resource in shared_names
        lines += _header(urn_tail(urn) if shared else resource, typ)
        for v in sorted(found, key=lambda v: order.get(v.level, 2)):
            lines.append(f"  {v.level.upper():9} {v.rule}")
            message = v.message.removeprefix(f"{resource}: ")
            finding, _, fix = message.partition(" Fix: ")
            lines += _wrap(finding, 4)
            if fix:
                lines += _wrap(f"Fix: {fix}", 4)
    return lines


def allowed_lines(pack: PackConfig, resources: list[dict[str, Any]]) -> list[str]:
    """Every resource an allowlist entry exempts, named by its URN's type and name, with the reason; and every entry
    that exempts none (a stale or mistyped entry)."""
    lines: list[str] = []
    for name, rule in pack.rules.items():
        if rule.level == "disabled":
            continue
        for entry in rule.options.get("allowlist") or []:
            matched = [r["urn"] for r in resources if allowlisted({"allowlist": [entry]}, r["urn"])]
            for urn in matched:
                lines += _wrap(f"allowed: {urn_tail(urn)} ({name}): {entry.get('reason', '')}", 0)
            if not matched:
                lines += _wrap(f"allowlist entry {entry.get('resource', '')!r} ({name}) exempts no resource of this "
                               f"stack", 0)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the orderflow policy pack on a stack export.")
    parser.add_argument("file", type=Path, help="a `pulumi stack export` file (`make synth` writes one)")
    parser.add_argument("--config", type=Path, default=None,
                        help="policy-pack config JSON, as for `pulumi preview --policy-pack-config`")
    args = parser.parse_args(argv)
    try:
        pack = read(args.config, POLICIES) if args.config else reconcile(POLICIES, {})
    except FileNotFoundError:
        print(f"error: {args.config}: no such file; give the JSON of --policy-pack-config", file=sys.stderr)
        return 2
    except (ConfigError, OSError, UnicodeDecodeError) as error:
        print(f"error: {args.config}: {error}; fix the config (rules, levels and options: README, Policy pack)",
              file=sys.stderr)
        return 2
    try:
        export = load_export(args.file)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for warning in pack.warnings:
        print(f"warning: {args.config}: {warning}", file=sys.stderr)
    violations = evaluate(export, pack)
    resources = judged_resources(export)
    names = [r["urn"].rsplit("::", 1)[-1] for r in resources]
    shared = frozenset(n for n in names if names.count(n) > 1)
    for line in report_lines(violations, shared) + allowed_lines(pack, resources):
        print(line)
    mandatory = sum(v.level == "mandatory" for v in violations)
    judged = len(judged_resources(export))
    print(f"audited {args.file} ({judged} resources)")
    print(f"{mandatory} mandatory, {len(violations) - mandatory} advisory violation(s)")
    return 1 if mandatory else 0


if __name__ == "__main__":
    sys.exit(main())
