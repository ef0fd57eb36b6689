"""Policy-pack config, read as the Pulumi CLI reads it; shared by ``policy.audit --config`` and the pack's Configure.

Mirrors pulumi/pulumi ``pkg/resource/analyzer/config.go`` (``parsePolicyPackConfig``, ``ReconcilePolicyPackConfig``,
``validatePolicyPackConfig``):

- the file is a JSON object (empty content means no config); each entry is a level string or an object whose
  optional ``enforcementLevel`` is a string, the rest being the rule's options;
- a level is exactly ``advisory``, ``mandatory``, ``remediate`` or ``disabled``;
- each rule starts from its own level and the ``default`` of each option in its config schema; the reserved key
  ``"all"`` then sets every rule's level; an entry for a rule sets its level and overlays its options;
- each rule's options are validated against its config schema (``{"type": "object", "properties": ...,
  "required": ...}``, JSON Schema draft 7); every problem names the rule, the option and what is wrong;
- an entry naming no rule is kept by the CLI without complaint; here it is reported as a warning.

``remediate`` blocks like ``mandatory``: pulumi-policy reports a violation that remains after remediation as
mandatory (no rule of this pack remediates).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
BLOCKING = frozenset({"mandatory", "remediate"})
ALL = "all"


class ConfigError(ValueError):
    """A refused config; ``str()`` is one line, the problems joined by ``; ``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class RuleConfig:
    level: str
    options: dict[str, Any]

    @property
    def blocking(self) -> bool:
        return self.level in BLOCKING


@dataclass
class PackConfig:
    rules: dict[str, RuleConfig]
    warnings: list[str] = field(default_factory=list)


Given = dict[str, tuple[str | None, dict[str, Any]]]
"""Rule name (or ``"all"``) -> (level or None, options), as parsed from a file or received by Configure."""


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (object, array, string, number, boolean, null)."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _level(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError([f"{name}: enforcementLevel {json.dumps(value)} is not a string; use one of "
                           f"{', '.join(LEVELS)}"])
    if value not in LEVELS:
        close = difflib.get_close_matches(value.lower(), LEVELS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError([f"{name}: {json.dumps(value)} is not a valid enforcement level{hint}; use exactly one of "
                           f"{', '.join(LEVELS)}"])
    return value


def parse(document: Any) -> Given:
    """The entries of a config document (``parsePolicyPackConfig``); raises ConfigError."""
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError([f"the config is a JSON {json_type(document)}, not an object of rule name -> level "
                           f"or {{\"enforcementLevel\": ..., options}}"])
    given: Given = {}
    for name, value in document.items():
        if isinstance(value, str):
            given[name] = (_level(name, value), {})
        elif isinstance(value, dict):
            options = {k: v for k, v in value.items() if k != "enforcementLevel"}
            level = _level(name, value["enforcementLevel"]) if "enforcementLevel" in value else None
            given[name] = (level, options)
        else:
            raise ConfigError([f"{name}: {json.dumps(value)} is not a valid value; must be a level string or an "
                               f"object"])
    return given


def _schema(policy: Any) -> dict[str, Any] | None:
    schema = getattr(policy, "config_schema", None)
    if schema is None:
        return None
    converted: dict[str, Any] = {"type": "object"}
    if schema.properties:
        converted["properties"] = schema.properties
    if schema.required:
        converted["required"] = list(schema.required)
    return converted


def _problems(policy: Any, options: Mapping[str, Any]) -> list[str]:
    schema = _schema(policy)
    if schema is None:
        return []
    found = []
    for error in sorted(Draft7Validator(schema).iter_errors(dict(options)), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in error.absolute_path) or "(options)"
        message = error.message
        if error.validator == "pattern" and where.endswith(".resource"):
            message = (f"{json.dumps(error.instance)} names no single resource (a name is unique only per type and "
                       f"parent): give its URN, or the URN's TYPE::NAME tail, the type with its parents' types "
                       f"(e.g. orderflow:index:CallbackWorker$aws:sqs/queue:Queue::inventory-queue)")
        found.append(f"{policy.name}: {where}: {message}")
    return found


def reconcile(policies: Iterable[Any], given: Given) -> PackConfig:
    """Every rule's level and options (``ReconcilePolicyPackConfig``); raises ConfigError naming each problem."""
    policies = list(policies)
    rules: dict[str, RuleConfig] = {}
    for policy in policies:
        schema = _schema(policy) or {}
        defaults = {k: v["default"] for k, v in (schema.get("properties") or {}).items() if "default" in v}
        level = policy.enforcement_level.value if policy.enforcement_level is not None else "advisory"
        rules[policy.name] = RuleConfig(level, defaults)
    everyone = given.get(ALL, (None, {}))[0]
    if everyone is not None:
        rules = {name: RuleConfig(everyone, rule.options) for name, rule in rules.items()}
    warnings = []
    for name, (level, options) in given.items():
        if name == ALL:
            continue
        if name not in rules:
            close = difflib.get_close_matches(name, list(rules), n=1)
            warnings.append(f"{name} is not a rule of this pack; ignored"
                            + (f" (did you mean {close[0]!r}?)" if close else ""))
            continue
        rule = rules[name]
        rules[name] = RuleConfig(level or rule.level, {**rule.options, **options})
    problems = [p for policy in policies for p in _problems(policy, rules[policy.name].options)]
    if problems:
        raise ConfigError(problems)
    return PackConfig(rules, warnings)


def read(path: Path, policies: Iterable[Any]) -> PackConfig:
    """The config file at ``path`` (the JSON of ``--policy-pack-config``); raises ConfigError, OSError."""
    text = path.read_text()
    if not text.strip():
        return reconcile(policies, {})
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ConfigError([f"not JSON ({error})"]) from None
    return reconcile(policies, parse(document))
