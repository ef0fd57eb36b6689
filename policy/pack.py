"""The analyzer the Pulumi CLI starts: the rules of ``rules.POLICIES`` served over gRPC by pulumi-policy.

``Configure`` first reads the config the CLI sends with :mod:`pack_config` (the reading ``policy.audit --config``
uses) and refuses an invalid one with INVALID_ARGUMENT and the problems named, before any resource is judged.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import PolicyPack
from pulumi_policy import policy as sdk

from .pack_config import ConfigError, Given, reconcile
from .rules import POLICIES

NAME = "orderflow"
DESCRIPTION = "IAM scoping and queue-based callback safety for orderflow stacks"


def _json_numbers(value: Any) -> Any:
    """protobuf Struct holds every number as a double; a whole one is the JSON integer the user wrote."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    return value


def given_by_engine(request: Any) -> Given:
    """A ConfigureAnalyzerRequest's policy config as ``pack_config`` entries."""
    given: Given = {}
    for name, config in request.policyConfig.items():
        level = analyzer_pb2.EnforcementLevel.Name(config.enforcementLevel).lower()
        given[name] = (level, _json_numbers(json_format.MessageToDict(config.properties)))
    return given


def _install_config_check() -> None:
    servicer: Any = sdk._PolicyAnalyzerServicer
    configure = servicer.Configure
    if getattr(configure, "checks_config", False):
        return

    def checked(self: Any, request: Any, context: Any) -> Any:
        try:
            reconcile(POLICIES, given_by_engine(request))
        except ConfigError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"policy pack {NAME}: invalid config: {error}")
        return configure(self, request, context)

    checked.checks_config = True  # type: ignore[attr-defined]
    servicer.Configure = checked


def serve() -> None:
    """Start the analyzer (prints its port on stdout, as the CLI expects) and block."""
    _install_config_check()
    PolicyPack(name=NAME, policies=list(POLICIES), description=DESCRIPTION)
