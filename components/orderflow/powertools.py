"""The Powertools for AWS Lambda (Python) layer, pinned to the version the project locks.

Powertools publishes one public SSM parameter per release, architecture and runtime:
``/aws/service/powertools/python/<arch>/<runtime>/<version>``, whose value is the layer version ARN of that
release in the caller's region (https://docs.aws.amazon.com/powertools/python/latest/#lambda-layer, "SSM
Parameter Store"). The parameters exist only in the commercial partition (``aws``); Powertools publishes no
layer in aws-cn, aws-us-gov or the isolated partitions.

The lookup is an output-form invoke parented to the component, so it runs beside the registrations (synth
time grows linearly with the number of components) and uses the provider the caller gave the component
(its region and account), never the default one.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .settings import SettingsError

POWERTOOLS_VERSION = "3.37.0"
"""The aws-lambda-powertools version locked in uv.lock (a test keeps the two equal)."""
PARAMETER = "/aws/service/powertools/python/{architecture}/{runtime}/{version}"
PUBLISHED_PARTITIONS = ("aws",)


def layer_parameter(architecture: str, runtime: str, version: str = POWERTOOLS_VERSION) -> str:
    """Name of the public SSM parameter holding the layer ARN of one Powertools release."""
    return PARAMETER.format(architecture=architecture, runtime=runtime, version=version)


def layer_arn(parent: pulumi.Resource, partition: str, architecture: str, runtime: str,
              given: pulumi.Input[str] | None = None) -> pulumi.Input[str]:
    """The pinned layer's ARN: ``given`` when set, else looked up with ``parent``'s provider.

    Raises SettingsError (before any lookup) in a partition where Powertools publishes no parameter; in a region
    of the ``aws`` partition that lacks it, the preview fails with the provider's ParameterNotFound naming the
    parameter.
    """
    if given:
        return given
    name = layer_parameter(architecture, runtime)
    if partition not in PUBLISHED_PARTITIONS:
        raise SettingsError([
            f"partition {partition!r}: Powertools publishes its layer parameter {name} only in the aws partition; "
            f"publish Powertools {POWERTOOLS_VERSION} as a layer in your account and set powertoolsLayerArn to it"
        ])
    return aws.ssm.get_parameter_output(name=name, opts=pulumi.InvokeOutputOptions(parent=parent)).value
