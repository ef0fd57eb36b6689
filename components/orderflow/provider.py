"""The component package's provider: orderflow's public components, hosted for every Pulumi language.

Pulumi's component provider (``pulumi.provider.experimental``) infers the package schema from the components' type
annotations: each component's ``args`` TypedDict gives its inputs (the docstring under a key gives the description,
``pulumi.Input[...]`` an input that may come from another resource, a key outside ``total=False`` or marked
``Required`` a required one), and its annotated ``pulumi.Output`` attributes give its outputs. Tokens are
``orderflow:index:<class name>``; a component's own type string must be that token. Nested TypedDicts become
``orderflow:index:<type name>`` object types. ``Construct`` calls ``Component(name, args, opts)`` with ``args`` a
dict keyed like the TypedDict (https://www.pulumi.com/docs/iac/guides/building-extending/components/build-a-component/).
"""

from typing import Any

from orderflow import COMPONENTS
from pulumi.errors import InputPropertyError
from pulumi.provider import main
from pulumi.provider.experimental.analyzer import PropertyDefinition, PropertyType
from pulumi.provider.experimental.component import ComponentProvider

PACKAGE = "orderflow"
"""The package name: the first part of every token, and the name ``pulumi package add`` records."""
VERSION = "0.1.0"
"""The package version the schema states; the project's version in pyproject.toml (a test keeps them equal)."""


class OrderflowProvider(ComponentProvider):
    """Pulumi's component provider, with integer inputs delivered as ``int``.

    Numbers cross the wire as floats; ``ComponentProvider.map_input_properties`` (pulumi 3.272.0) converts an
    integer property with ``int()`` and then overwrites the result with the float it received, so a component would
    see ``3.0`` for ``functionTimeoutSeconds: 3`` (which orderflow's settings check refuses: not an integer). This provider
    maps the inputs as Pulumi's does, then turns each integer property's value (in lists and maps too) into an
    ``int``, refusing a number with a fraction. Everything else is Pulumi's.
    """

    def map_input_properties(self, inputs: Any, properties: dict[str, PropertyDefinition], mapping: dict[str, str],
                             component_name: str, property_path: str) -> Any:
        mapped = dict(super().map_input_properties(inputs, properties, mapping, component_name, property_path))
        for schema_name, prop in properties.items():
            python_name = mapping[schema_name]
            if python_name in mapped:
                path = f"{property_path}.{schema_name}" if property_path else schema_name
                mapped[python_name] = _integers(mapped[python_name], prop, path)
        return mapped


def _integers(value: Any, prop: PropertyDefinition, path: str) -> Any:
    """``value`` with every number an integer ``prop`` (or its items / map values) declares made an ``int``; raises
    InputPropertyError naming ``path`` for a number with a fraction. Other values (Outputs too) are returned as is."""
    if prop.type == PropertyType.INTEGER and isinstance(value, float):
        if not value.is_integer():
            raise InputPropertyError(path, f"{path}: {value!r} is not an integer")
        return int(value)
    if prop.items is not None and isinstance(value, list):
        return [_integers(item, prop.items, f"{path}[{i}]") for i, item in enumerate(value)]
    if prop.additional_properties is not None and isinstance(value, dict):
        return {key: _integers(item, prop.additional_properties, f"{path}.{key}") for key, item in value.items()}
    return value


def provider() -> OrderflowProvider:
    """The provider of every public component (:data:`orderflow.COMPONENTS`); analysing the components builds the
    schema, so a component or args type the analyzer cannot read fails here, naming it."""
    return OrderflowProvider(list(COMPONENTS), PACKAGE, None, VERSION)


def serve() -> None:
    """Serve the provider: prints its port on stdout, then answers the engine until it is stopped. Its arguments
    (``sys.argv``) are the plugin's: the engine's address, then flags such as ``--logtostderr``.

    What ``component_provider_host(name="orderflow", components=[...])`` does, with :class:`OrderflowProvider` in place
    of the ``ComponentProvider`` it hard-wires.
    """
    import sys

    main(provider(), sys.argv[1:])
