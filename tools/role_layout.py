"""A role's policy laid out within IAM's quotas, and written.

IAM's quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html, "IAM and AWS STS
character limits" and "IAM object quotas"): the inline policies of one role total at most 10,240 characters and a
managed policy at most 6,144, whitespace not counted; a role takes 10 managed policies by default. A policy within
the inline quota is one inline policy (``<role>-policy.json``). A larger one is cut into managed policies
(``<role>-policy-1.json``, ...), statements kept whole where they fit, else split by resources, then by actions,
and packed in order; more than 10 is refused, naming the role.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.roles import INLINE_QUOTA, MANAGED_PER_ROLE, MANAGED_QUOTA, QuotaError

Statement = dict[str, Any]


def size(document: Any) -> int:
    """Characters IAM counts: the JSON without whitespace."""
    return len(json.dumps(document, separators=(",", ":")))


def _document(statements: list[Statement]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def _pieces(st: Statement, budget: int) -> list[Statement]:
    """``st`` cut into statements that each fit ``budget`` (by resources first, then actions)."""
    if size(_document([st])) <= budget:
        return [st]
    for key in ("Resource", "Action"):
        values = st[key]
        if len(values) > 1:
            half = len(values) // 2
            first = {**st, "Sid": f"{st['Sid']}A", key: values[:half]}
            second = {**st, "Sid": f"{st['Sid']}B", key: values[half:]}
            return _pieces(first, budget) + _pieces(second, budget)
    raise QuotaError(f"statement {st['Sid']} alone is over {budget:,} characters")


def layout(role: str, policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The role's documents: ``[policy]`` when it fits inline, else managed policies in order. QuotaError when
    even 10 managed policies cannot hold it."""
    if size(policy) <= INLINE_QUOTA:
        return [policy]
    parts: list[list[Statement]] = []
    try:
        pieces = [p for st in policy["Statement"] for p in _pieces(st, MANAGED_QUOTA - size(_document([])))]
    except QuotaError as error:
        raise QuotaError(f"the {role} role's policy cannot be split within IAM's managed policy quota: {error}") \
            from None
    for piece in pieces:
        if parts and size(_document([*parts[-1], piece])) <= MANAGED_QUOTA:
            parts[-1].append(piece)
        else:
            parts.append([piece])
    if len(parts) > MANAGED_PER_ROLE:
        raise QuotaError(f"the {role} role's policy is {size(policy):,} characters: it needs {len(parts)} managed "
                         f"policies of at most {MANAGED_QUOTA:,}, over IAM's {MANAGED_PER_ROLE} per role (and the "
                         f"{INLINE_QUOTA:,}-character inline quota); split the stack")
    return [_document(p) for p in parts]


def write_roles(policies: dict[str, dict[str, Any]], out: Path) -> list[str]:
    """Lay out and write every role's policy into ``out`` (the role's earlier files removed first); returns one
    line per file saying how to attach it."""
    laid = {role: layout(role, policy) for role, policy in policies.items()}  # refuse before writing anything
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for role, documents in laid.items():
        for old in out.glob(f"{role}-policy*.json"):
            old.unlink()
        inline = len(documents) == 1 and size(documents[0]) <= INLINE_QUOTA
        for n, document in enumerate(documents, start=1):
            name = f"{role}-policy.json" if inline else f"{role}-policy-{n}.json"
            (out / name).write_text(json.dumps(document, indent=2) + "\n")
            actions = sum(len(st["Action"]) for st in document["Statement"])
            how = (f"inline policy, {size(document):,} of {INLINE_QUOTA:,} characters" if inline else
                   f"managed policy {n} of {len(documents)}, {size(document):,} of {MANAGED_QUOTA:,} characters")
            lines.append(f"wrote {out / name}: {role} role, {len(document['Statement'])} statements, {actions} "
                         f"actions ({how})")
    return lines
