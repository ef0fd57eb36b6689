"""The component package's provider: orderflow's public components, hosted for every Pulumi language.

``component_provider_host`` (``pulumi.provider.experimental``) infers the package schema from the components' type
annotations: each component's ``args`` type gives its inputs (a docstring per field gives the description,
``pulumi.Input[...]`` an input that may come from another resource, ``NotRequired`` an optional one) and its annotated
``pulumi.Output`` attributes give its outputs. Tokens are ``orderflow:index:<class name>``; a component's own type
string must be the same token, or ``Construct`` registers it under another type than the schema names. Nested
``TypedDict`` types become ``orderflow:index:<type name>`` object types.
"""

from orderflow import CallbackWorker
from pulumi.provider.experimental import component_provider_host

PACKAGE = "orderflow"
"""The package name: the first part of every token, and the name ``pulumi package add`` records."""
VERSION = "0.1.0"
"""The package version the schema states; the project's version in pyproject.toml (a test keeps them equal)."""
COMPONENTS = [CallbackWorker]
"""Every public component of the library, as the schema lists them."""


def serve() -> None:
    """Start the provider: prints its port on stdout, then serves the engine until it is stopped (never returns
    earlier). The engine's address is the one positional argument."""
    component_provider_host(name=PACKAGE, components=COMPONENTS, version=VERSION)
