"""The component's ARNs and its provider must name the same region.

Every ARN and IAM document is built from the ``AwsContext`` the caller passes, while the resources (and the layer
lookup) go to the provider the caller gives the component. A context of one region with a provider of another
would deploy resources in one region and grant access to ARNs in the other: every call of the worker and the state
machine would be denied. The Powertools layer is looked up with the component's provider, so its ARN names the
provider's region (a function's layers must be in the function's region:
https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html); comparing the two needs no extra invoke.
"""

from __future__ import annotations

import pulumi


class RegionMismatchError(ValueError):
    """The component's AwsContext names another region than the provider it deploys with."""


def same_region(name: str, context_region: str, layer_arn: str) -> str:
    """``layer_arn`` when its region is ``context_region``; else RegionMismatchError naming both."""
    parts = layer_arn.split(":")
    layer_region = parts[3] if len(parts) > 3 else ""
    if layer_region != context_region:
        raise RegionMismatchError(
            f"{name}: its AwsContext names region {context_region!r} but its provider deploys in "
            f"{layer_region!r} (the region of its Powertools layer {layer_arn}); build the context for the "
            f"provider's region (every ARN and grant uses it)")
    return layer_arn


def checked_layer(name: str, context_region: str, layer_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """The layer ARN, checked to be in the context's region (the check fails the program when it is not)."""
    return pulumi.Output.from_input(layer_arn).apply(lambda arn: same_region(name, context_region, arn))
