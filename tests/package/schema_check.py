"""Does a value fit a Pulumi package schema's property type? For checking a Pulumi YAML program against the schema.

A property spec has a ``type`` (``string``, ``integer``, ``number``, ``boolean``, ``array`` with ``items``, ``object``
with ``additionalProperties``) or a ``$ref`` (``#/types/<token>`` for an object type of the package,
``pulumi.json#/Any`` for anything; https://www.pulumi.com/docs/iac/guides/building-extending/packages/schema/). A
Pulumi YAML string holding an interpolation (``${res.prop}``) is another resource's output, known only when the program
runs: it fits any type the schema does not mark ``plain`` (a plain input takes no Output).
"""

from __future__ import annotations

import re
from typing import Any

INTERPOLATION = re.compile(r"\$\{[^}]+\}")
SIMPLE: dict[str, type | tuple[type, ...]] = {"string": str, "boolean": bool, "number": (int, float)}


def problems(value: Any, spec: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    """What is wrong with ``value`` as a ``spec`` property, one line each naming ``path``; [] when it fits."""
    if isinstance(value, str) and INTERPOLATION.search(value):
        return [f"{path}: {value!r} is an output, but the input is plain"] if spec.get("plain") else []
    ref = spec.get("$ref")
    if ref == "pulumi.json#/Any":
        return []
    if ref:
        return object_problems(value, schema["types"][ref.removeprefix("#/types/")], schema, path)
    kind = spec["type"]
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not an integer"]
    if kind in SIMPLE:
        ok = isinstance(value, SIMPLE[kind]) and (kind == "boolean" or not isinstance(value, bool))
        return [] if ok else [f"{path}: {value!r} is not a {kind}"]
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not a list"]
        return [p for i, item in enumerate(value) for p in problems(item, spec["items"], schema, f"{path}[{i}]")]
    if kind == "object" and "additionalProperties" in spec:
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not a map"]
        return [p for key, item in value.items()
                for p in problems(item, spec["additionalProperties"], schema, f"{path}.{key}")]
    return [f"{path}: the schema type {spec} is not one this check knows"]


def object_problems(value: Any, spec: dict[str, Any], schema: dict[str, Any], path: str,
                    properties_key: str = "properties", required_key: str = "required") -> list[str]:
    """Problems of an object against an object type (or a resource's inputs, with the keys given)."""
    if not isinstance(value, dict):
        return [f"{path}: {value!r} is not an object"]
    known = spec.get(properties_key, {})
    found = [f"{path}.{key}: not a property of the schema" for key in value if key not in known]
    found += [f"{path}.{key}: required, missing" for key in spec.get(required_key, []) if key not in value]
    found += [p for key, item in value.items() if key in known
              for p in problems(item, known[key], schema, f"{path}.{key}")]
    return found
