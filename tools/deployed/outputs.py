"""A deployed stack's outputs (`pulumi stack output --json`, or a saved copy) and its AWS clients; how a STACK
(``dev``, ``org/dev``, ``org/orderflow/dev``) is understood."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inventory.stock import LAYOUT

PROJECT = "orderflow"
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
"""A stack name as the CLI accepts it: alphanumerics, hyphens, underscores, periods; at most 100 characters
(pulumi/pulumi ``sdk/go/common/tokens/stack_name.go``, ``ParseStackName``)."""

SKU_PREFIX = LAYOUT.counter_prefix
ORDER_PREFIX = LAYOUT.record_prefix
"""The inventory table's partition keys, from the worker's own layout (``inventory.stock.LAYOUT``): ``SKU#<sku>``
holds ``stock``, ``ORDER#<orderId>`` the order's reservation record."""


class DeployedError(ValueError):
    """The stack's outputs cannot be read or lack a name; ``str(error)`` is one line for the user."""


class StackRefError(ValueError):
    """A STACK that names no stack of this project; ``str(error)`` is one line giving the forms to use."""


def stack_name(ref: str) -> str:
    """The stack name in a stack reference, as the Pulumi CLI parses one: ``<stack>``, ``<org>/<stack>`` or
    ``<org>/<project>/<stack>`` (Pulumi Cloud, and a self-managed backend with org ``organization``: pulumi/pulumi
    ``pkg/backend/diy/store.go``, ``ParseReference``). Its config is ``Pulumi.<stack>.yaml``
    (``sdk/go/common/workspace/paths.go``, ``ProjectStackPath``). Raises StackRefError."""
    parts = ref.split("/")
    forms = "give <stack>, <org>/<stack> or <org>/orderflow/<stack> (e.g. dev or acme/dev)"
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise StackRefError(f"STACK={ref!r} is not a stack reference; {forms}")
    if len(parts) == 3 and parts[1] != PROJECT:
        raise StackRefError(f"STACK={ref!r} names project {parts[1]!r}, not {PROJECT!r}; {forms}")
    if not STACK_NAME.fullmatch(parts[-1]):
        raise StackRefError(f"STACK={ref!r}: {parts[-1]!r} is not a stack name (1-100 letters, digits, '-', '_', "
                            f"'.'); {forms}")
    return parts[-1]


@dataclass(frozen=True)
class Outputs:
    """The stack outputs of `__main__.py` that smoke and stock use."""

    values: dict[str, Any]
    source: str
    """Where they came from: ``OUTPUTS <file>`` or ``pulumi stack output --stack <stack>``."""

    def get(self, key: str) -> str:
        value = self.values.get(key)
        if not isinstance(value, str) or not value:
            raise DeployedError(f"{self.source}: output {key!r} is missing or not a string; expected the JSON "
                                f"object of `pulumi stack output --json` of an orderflow stack")
        return value

    @property
    def region(self) -> str:
        """The stack's region, from its state machine's ARN (arn:PARTITION:states:REGION:ACCOUNT:...)."""
        parts = self.get("stateMachineArn").split(":")
        if len(parts) < 7 or parts[2] != "states" or not parts[3]:
            raise DeployedError(f"{self.source}: output 'stateMachineArn' is not a state machine ARN: "
                                f"{self.get('stateMachineArn')!r}")
        return parts[3]

    def client(self, service: str) -> Any:
        """A boto3 client in the stack's region, with the caller's credentials (``AWS_ENDPOINT_URL``, when
        set, sends it elsewhere: https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html)."""
        import boto3

        return boto3.client(service, region_name=self.region)


def read_outputs(stack: str, path: str | None) -> Outputs:
    """The outputs of ``stack``: from ``path`` (the saved JSON of `pulumi stack output --json`) when given,
    else from the Pulumi CLI. Raises DeployedError."""
    if path:
        source = f"OUTPUTS {path}"
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise DeployedError(f"{source}: cannot read it ({error.strerror}); save the outputs with "
                                f"`pulumi stack output --json --stack {stack} > {path}`") from None
    else:
        source = f"pulumi stack output --json --stack {stack}"
        if shutil.which("pulumi") is None:
            raise DeployedError("the Pulumi CLI is not on PATH; install it, or give OUTPUTS=<file> with the JSON "
                                f"of `pulumi stack output --json --stack {stack}`")
        done = subprocess.run(["pulumi", "stack", "output", "--json", "--stack", stack], capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise DeployedError(f"{source}: {last}")
        text = done.stdout
    try:
        values = json.loads(text)
    except ValueError as error:
        raise DeployedError(f"{source}: not JSON: {error}") from None
    if not isinstance(values, dict):
        raise DeployedError(f"{source}: must be a JSON object of stack outputs, got {type(values).__name__}")
    return Outputs(values, source)
