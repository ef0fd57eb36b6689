"""Helpers shared by the rules: JSON documents given as strings or objects, and the ASL walk."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

ALLOWLIST_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Exemptions; each must say why, and the audit prints the reason.",
    "items": {
        "type": "object",
        "properties": {
            "resource": {"type": "string", "description": "Resource name as in the URN"},
            "reason": {"type": "string", "minLength": 1},
        },
        "required": ["resource", "reason"],
    },
    "default": [],
}


def as_json(value: Any) -> Any:
    """A document given as a JSON string or as an object; None when it is not JSON (e.g. unknown)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def allowlisted(config: Mapping[str, Any], name: str) -> str | None:
    """The recorded reason when ``name`` is exempted by the rule's allowlist."""
    for entry in config.get("allowlist") or []:
        if entry.get("resource") == name and entry.get("reason"):
            return str(entry["reason"])
    return None


def callback_tasks(definition: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every ``.waitForTaskToken`` task at any depth (Parallel branches, Map Iterator/ItemProcessor)."""
    if not isinstance(definition, dict):
        return
    for name, state in (definition.get("States") or {}).items():
        if not isinstance(state, dict):
            continue
        if state.get("Type") == "Task" and str(state.get("Resource", "")).endswith(".waitForTaskToken"):
            yield name, state
        for branch in state.get("Branches") or []:
            yield from callback_tasks(branch)
        for key in ("Iterator", "ItemProcessor"):
            yield from callback_tasks(state.get(key))
