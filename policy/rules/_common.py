"""Helpers shared by the rules: reading only the judged property, JSON documents, IAM patterns, the ASL walk.

A rule reads a resource's properties only through :func:`judged` (or :func:`raw_props` for linking in stack
rules). pulumi-policy turns a policy that touches an unknown value (the engine's sentinels, sent for values
not known in a preview) into an advisory "can't run"; reading only the judged property keeps a mandatory rule
mandatory when some other property of the resource is unknown
(https://www.pulumi.com/docs/iac/using-pulumi/crossguard/core-concepts/).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    _DictProxy,
    _ListProxy,
)

from ._glob import glob_match, has_wildcard

__all__ = ["has_wildcard"]

UNKNOWNS = frozenset({UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, UNKNOWN_ARRAY_VALUE,
                      UNKNOWN_ASSET_VALUE, UNKNOWN_ARCHIVE_VALUE, UNKNOWN_OBJECT_VALUE})
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
"""How a `pulumi stack export` marks a secret: ``{SIG_KEY: SECRET_SIG, "ciphertext": ...}`` (or ``"plaintext"``
with ``--show-secrets``: the value's JSON text)."""

ALLOWLIST_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Exemptions, one resource each; each must say why, and the audit names every exempted resource.",
    "items": {
        "type": "object",
        "properties": {
            "resource": {"type": "string", "pattern": "::",
                         "description": "The resource's URN, or its type and name as the URN ends: "
                                        "TYPE::NAME, TYPE with its parents' types (a$b::name)"},
            "reason": {"type": "string", "minLength": 1},
        },
        "required": ["resource", "reason"],
    },
    "default": [],
}
"""A resource's name is unique only per type and parent (Pulumi's URN is the identity:
https://www.pulumi.com/docs/iac/concepts/resources/names/), so an entry names the URN or the URN's
``QUALIFIED_TYPE::NAME`` tail, which is the same in every stack of the project."""


class NotJudgeable(UnknownValueError):
    """The judged value cannot be read. pulumi-policy reports it as an advisory "can't run ... during preview"."""

    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)
        self.unknown_type_sentinel = UNKNOWN_STRING_VALUE
        self.props: list[str] = []
        self.message = message


class UnknownInPreview(NotJudgeable):
    """The judged property is one of the engine's unknown sentinels (a first preview)."""


class Encrypted(NotJudgeable):
    """The judged property is a secret that a stack export holds as ciphertext."""


def raw(value: Any) -> Any:
    """``value`` as plain dicts and lists, pulumi-policy's unknown-checking proxies removed (nothing is raised)."""
    if isinstance(value, _DictProxy | _ListProxy):
        value = value["__target"]
    if isinstance(value, Mapping):
        return {k: raw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [raw(v) for v in value]
    return value


def raw_props(resource: Any) -> dict[str, Any]:
    """A resource's (or validation args') properties as a plain dict; unknowns stay sentinel strings."""
    return raw(resource.props)


def is_unknown(value: Any) -> bool:
    """Whether ``value`` holds an unknown sentinel anywhere (also inside a JSON string)."""
    if isinstance(value, str):
        return any(u in value for u in UNKNOWNS)
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(is_unknown(v) for v in value)
    return False


def _reveal(value: Any) -> tuple[Any, bool]:
    """(value with ``--show-secrets`` plaintext decoded, whether some ciphertext remains)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            if "plaintext" in value:
                try:
                    return _reveal(json.loads(value["plaintext"]))
                except (TypeError, ValueError):
                    return value["plaintext"], False
            return None, True
        items = {k: _reveal(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(e for _, e in items.values())
    if isinstance(value, list):
        pairs = [_reveal(v) for v in value]
        return [v for v, _ in pairs], any(e for _, e in pairs)
    return value, False


def judged(subject: Any, key: str) -> Any:
    """The property ``key`` of ``subject`` (ResourceValidationArgs or PolicyResource), read alone.

    Raises :class:`UnknownInPreview` when it is (or holds) an unknown value, :class:`Encrypted` when a stack export
    holds it as a secret's ciphertext. A secret given as plaintext (``--show-secrets``) is judged.
    """
    target = subject.props
    value = raw(target["__target"].get(key) if isinstance(target, _DictProxy) else target.get(key))
    if is_unknown(value):
        raise UnknownInPreview(f"{subject.name}: {key} is not known in this preview (it is computed from a resource "
                               f"not created yet); it is judged when `pulumi up` registers {subject.name}")
    value, encrypted = _reveal(value)
    if encrypted:
        raise Encrypted(f"{subject.name}: {key} is a secret, encrypted in this stack export, so it cannot be checked. "
                        f"Fix: audit the plaintext: `pulumi stack export --show-secrets --file FILE` then "
                        f"`make audit FILE=FILE` (keep FILE out of the repository)")
    return value


def as_json(value: Any) -> Any:
    """A document given as a JSON string or as an object; None when it is not JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return None
    return value


def as_list(value: Any) -> list[Any]:
    """A value IAM reads as a list: None -> [], a scalar -> [it], nested lists flattened (a template's Fn::If)."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        return [value]
    flat: list[Any] = []
    for item in value:
        flat += as_list(item) if isinstance(item, list | tuple) else [item]
    return flat


def urn_tail(urn: str) -> str:
    """``urn:pulumi:STACK::PROJECT::PARENT$TYPE::NAME`` -> ``PARENT$TYPE::NAME``."""
    parts = urn.split("::", 2)
    return parts[2] if len(parts) == 3 else urn


def allowlisted(config: Mapping[str, Any], urn: str) -> str | None:
    """The recorded reason when the resource ``urn`` is exempted by the rule's allowlist (URN or its tail)."""
    for entry in config.get("allowlist") or []:
        if isinstance(entry, Mapping) and entry.get("reason") and entry.get("resource") in (urn, urn_tail(urn)):
            return str(entry["reason"])
    return None


def iam_match(pattern: str, value: str, *, ignore_case: bool = True) -> bool:
    """Whether an IAM pattern (``*``, ``?``; nothing else is special) matches the whole of ``value``, in linear
    passes (:mod:`_glob`)."""
    return glob_match(pattern, value, ignore_case=ignore_case)
