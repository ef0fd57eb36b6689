"""The component's ARNs and its provider must name the same region.

Every ARN and IAM document is built from the ``AwsContext`` the caller passes, while the resources (and the layer
lookup) go to the provider the caller gives the component. A context of one region with a provider of another
would deploy resources in one region and grant access to ARNs in the other: every call of the worker and the state
machine would be denied. The provider's region is read with an output-form invoke parented to the component
(``aws.get_region``, which answers in preview), so the mismatch fails the preview.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


class RegionMismatchError(ValueError):
    """The component's AwsContext names another region than the provider it deploys with."""


def same_region(name: str, context_region: str, provider_region: str) -> str:
    """``provider_region`` when it equals ``context_region``; else RegionMismatchError naming both."""
    if provider_region != context_region:
        raise RegionMismatchError(
            f"{name}: its AwsContext names region {context_region!r} but its provider deploys in "
            f"{provider_region!r}; build the context for the provider's region (every ARN and grant uses it)")
    return provider_region


def checked_region(parent: pulumi.Resource, name: str, context_region: str) -> pulumi.Output[str]:
    """The provider's region, checked against the context's (the check fails the program when they differ)."""
    region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=parent)).region
    return region.apply(lambda r: same_region(name, context_region, r))
