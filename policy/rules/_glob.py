"""IAM's wildcard matching (``*`` any run of characters, ``?`` exactly one), without regular expressions.

IAM patterns in actions and ARNs know only ``*`` and ``?``
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html). A translation to a
backtracking regex (``.*`` per star) takes exponential time on patterns such as ``*?*?*?...X``; this matcher walks
the value once per pattern position at most (the classic greedy star matcher: on a mismatch it resumes after the
last star, one character further), so its time is bounded by ``len(pattern) * len(value)`` whatever the input.
"""

from __future__ import annotations

MAX_PATTERN = 2048
"""Longer patterns are not matched (IAM's largest policy document is 10,240 characters for a role's inline
policies; https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""


def has_wildcard(text: str) -> bool:
    """IAM's wildcards are ``*`` (any run of characters) and ``?`` (one character), in actions and ARNs."""
    return "*" in text or "?" in text


def _collapse(pattern: str) -> str:
    """Runs of ``*`` are one ``*`` (same language, fewer restarts)."""
    out: list[str] = []
    for c in pattern:
        if c == "*" and out and out[-1] == "*":
            continue
        out.append(c)
    return "".join(out)


def glob_match(pattern: str, value: str, *, ignore_case: bool = True) -> bool:
    """Whether ``pattern`` matches the whole of ``value``; O(len(pattern) * len(value)), no recursion."""
    if len(pattern) > MAX_PATTERN:
        return False
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    pattern = _collapse(pattern)
    p = v = 0
    star = -1
    resume = 0
    while v < len(value):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == value[v]):
            p += 1
            v += 1
        elif p < len(pattern) and pattern[p] == "*":
            star, resume = p, v
            p += 1
        elif star >= 0:
            resume += 1
            p, v = star + 1, resume
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)
