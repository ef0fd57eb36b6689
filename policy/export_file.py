"""Reading a `pulumi stack export` file for the audit: refuse, in one line, whatever is not one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .pack_config import json_type

WHAT = ('a stack export is {"version": 3, "deployment": {"resources": [...]}}, as written by `make synth` or '
        '`pulumi stack export`')


class ExportError(ValueError):
    """Not a readable stack export; ``str()`` is the one-line message naming the file."""


def _missing(path: Path) -> ExportError:
    if path.parent.name == "build":
        return ExportError(f"{path}: no such file; run `make synth` first (it writes build/<stack>.json), or give "
                           f"a `pulumi stack export` file")
    return ExportError(f"{path}: no such file; {WHAT}")


def _document(path: Path) -> Any:
    if not path.exists():
        raise _missing(path)
    if path.is_dir():
        raise ExportError(f"{path}: is a directory; {WHAT}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ExportError(f"{path}: not UTF-8 text, so not JSON; {WHAT}") from None
    except ValueError as error:
        raise ExportError(f"{path}: not JSON ({error}); {WHAT}") from None
    except OSError as error:
        raise ExportError(f"{path}: cannot be read ({error.strerror}); {WHAT}") from None


def load_export(path: Path) -> dict[str, Any]:
    """The stack export at ``path``, checked for the shape the audit reads; raises ExportError."""
    document = _document(path)
    if not isinstance(document, dict):
        raise ExportError(f"{path}: a JSON {json_type(document)}, not a stack export; {WHAT}")
    deployment = document.get("deployment")
    if not isinstance(deployment, dict):
        keys = ", ".join(sorted(map(str, document))[:6]) or "none"
        raise ExportError(f"{path}: no \"deployment\" object (top-level keys: {keys}), so not a stack export; {WHAT}")
    if document.get("version") not in (1, 2, 3):
        raise ExportError(f"{path}: \"version\" is {json.dumps(document.get('version'))}, not 3; {WHAT}")
    resources = deployment.get("resources")
    if resources is None and "manifest" in deployment:
        resources = []  # a stack with no resources yet
    if not isinstance(resources, list):
        raise ExportError(f"{path}: deployment.resources is {json_type(resources)}, not an array; {WHAT}")
    for index, resource in enumerate(resources):
        if not (isinstance(resource, dict) and isinstance(resource.get("urn"), str)
                and isinstance(resource.get("type"), str)):
            raise ExportError(f"{path}: deployment.resources[{index}] is not a resource (an object with string "
                              f"\"urn\" and \"type\"); {WHAT}")
    return document
