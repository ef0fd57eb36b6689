"""Builders shared by the rule tests: a rule run on one resource or a stack, policy documents, stack exports."""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import ResourceValidationArgs, StackValidationArgs
from pulumi_policy.policy import PolicyResource

from policy.audit import _options

Q = "arn:aws:sqs:us-east-1:123456789012:orders"
ACCOUNT = "123456789012"


def urn(typ: str, name: str, parent_type: str = "") -> str:
    qualified = f"{parent_type}${typ}" if parent_type else typ
    return f"urn:pulumi:dev::orderflow::{qualified}::{name}"


def check(policy: Any, typ: str, props: dict[str, Any], config: dict[str, Any] | None = None,
          name: str = "res") -> list[str]:
    """The messages one resource rule reports on one resource."""
    found: list[str] = []
    args = ResourceValidationArgs(typ, props, urn(typ, name), name, _options(None), None,
                                  {"allowlist": [], **(config or {})})
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def resource(typ: str, name: str, props: dict[str, Any]) -> PolicyResource:
    return PolicyResource(typ, props, urn(typ, name), name, _options(None), None, None, [], {})


def check_stack(policy: Any, resources: list[PolicyResource], config: dict[str, Any] | None = None
                ) -> list[tuple[str, str]]:
    """(resource name, message) of every violation a stack rule reports."""
    found: list[tuple[str, str]] = []
    args = StackValidationArgs(resources, {"allowlist": [], **(config or {})})
    policy.validate(args, lambda message, urn=None: found.append(((urn or "").rsplit("::", 1)[-1], message)))
    return found


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = None, **extra: Any) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", "Action": action, **extra}
    if resource is not None:
        st["Resource"] = resource
    return st


def export(*resources: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    """A stack export holding (type, name, inputs) resources at the top of the stack."""
    return {"version": 3, "deployment": {"resources": [
        {"urn": urn(typ, name), "custom": True, "type": typ, "inputs": props} for typ, name, props in resources]}}


def as_json(document: Any) -> str:
    return json.dumps(document)
