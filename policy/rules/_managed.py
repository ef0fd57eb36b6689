"""AWS managed policies' documents, from moto's maintained copy (``moto/iam/aws_managed_policies.py``, refreshed from
AWS by moto's ``make aws_managed_policies``; the version is the one the pack's lock pins). Read as data, without
importing moto; loaded once, on the first managed policy judged."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _documents() -> dict[str, Any]:
    spec = importlib.util.find_spec("moto")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("moto is not installed; the pack declares it in policy/requirements.txt")
    text = (Path(next(iter(spec.submodule_search_locations))) / "iam" / "aws_managed_policies.py").read_text()
    body = text[text.index('"""') + 3:text.rindex('"""')]
    data = json.loads(body)
    return {name.lower(): entry.get("Document") for name, entry in data.items() if isinstance(entry, dict)}


@cache
def source() -> str:
    return f"moto {importlib.metadata.version('moto')}'s copy of AWS's managed policies"


def is_aws_managed(arn: str) -> bool:
    return ":iam::aws:policy/" in arn


def document(arn: str) -> Any:
    """The document of the AWS managed policy ``arn`` (any path), or None when the data does not hold it."""
    return _documents().get(arn.rsplit("/", 1)[-1].lower())
