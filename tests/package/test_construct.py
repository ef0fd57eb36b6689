"""``Construct`` over gRPC, as the engine calls it for a program in another language, against the Python program.

The inputs are dev's: the very args the inventory program builds from Pulumi.dev.yaml
(:func:`components.inventory_service.service.worker_args`), written in the schema's names as a TypeScript, Go or YAML
program sends them. The table they name is the dev synth's. What the provider registers under the component must be
what the Python program registers under the synth: the same URNs (so the same types, names and parents), the same
inputs (files hashed), the same protect flags; and the component's outputs must be its children's.
"""

from __future__ import annotations

import types
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from orderflow import COMPONENTS
from orderflow.aws_context import AwsContext
from orderflow.provider import OrderflowProvider, provider
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case
from pulumi.runtime.proto import errors_pb2, status_pb2

from components.inventory_service.service import worker_args
from components.inventory_service.table import InventoryTable
from stack_config import parse_namespaced
from tests.package.harness import ROOT, Engine, construct
from tools.synth import stack_config
from tools.synth_mocks import ACCOUNT_ID, partition_of

TOKEN = "orderflow:index:CallbackWorker"
WORKER = f"urn:pulumi:dev::orderflow::{TOKEN}::inventory"
"""The inventory worker's URN in the dev synth: the program's ``CallbackWorker("inventory", ...)``."""


def schema_inputs(value: Any, prop: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A Python args value in the schema's names (camelCase keys of object types; a map's own keys kept)."""
    ref = prop.get("$ref", "")
    if ref.startswith("#/types/"):
        spec = schema["types"][ref.removeprefix("#/types/")]["properties"]
        return {camel_case(k): schema_inputs(v, spec[camel_case(k)], schema) for k, v in value.items()}
    if prop.get("type") == "array":
        return [schema_inputs(item, prop["items"], schema) for item in value]
    if prop.get("type") == "object" and "additionalProperties" in prop:
        return {k: schema_inputs(v, prop["additionalProperties"], schema) for k, v in value.items()}
    return value


def dev_inputs(schema: dict[str, Any], dev_export: dict[str, Any]) -> dict[str, Any]:
    """The inventory program's CallbackWorker args for dev, as ``Construct`` inputs."""
    config = stack_config("dev")
    region = config["aws:region"]
    partition, dns_suffix = partition_of(region)
    ctx = AwsContext(partition, region, ACCOUNT_ID, dns_suffix)  # what the synth's invokes answer for dev
    (table,) = [r for r in dev_export["deployment"]["resources"] if r["type"] == "aws:dynamodb/table:Table"]
    dev_table = types.SimpleNamespace(table_name=table["outputs"]["name"], table_arn=table["outputs"]["arn"])
    dev_table.worker_grant = lambda: InventoryTable.worker_grant(dev_table)  # type: ignore[arg-type]
    args = worker_args(parse_namespaced(config), ctx, dev_table)  # type: ignore[arg-type]
    spec = schema["resources"][TOKEN]["inputProperties"]
    return {camel_case(k): schema_inputs(v, spec[camel_case(k)], schema) for k, v in args.items()}


def synth_subtree(export: dict[str, Any], root: str) -> dict[str, dict[str, Any]]:
    resources = {r["urn"]: r for r in export["deployment"]["resources"]}
    def under(urn: str) -> bool:
        while urn in resources and urn != root:
            urn = resources[urn].get("parent") or ""
        return urn == root
    return {urn: r for urn, r in resources.items() if under(urn)}


def test_construct_registers_what_the_python_program_registers(provider: Any, engine: Engine, schema: dict[str, Any],
                                                               dev_export: dict[str, Any]) -> None:
    inputs = dev_inputs(schema, dev_export)
    assert inputs["settings"]["functionTimeoutSeconds"] == 3 and inputs["failure"]["taskState"] == "Check Inventory"
    response = construct(provider, engine, TOKEN, "inventory", inputs, config=stack_config("dev"))
    assert response.urn == WORKER

    expected = synth_subtree(dev_export, WORKER)
    registered = engine.monitor.subtree(WORKER)
    assert len(expected) == 26
    assert sorted(registered) == sorted(expected)
    for urn, resource in expected.items():
        got = registered[urn]
        assert (got.type, got.custom, got.parent, got.protect) == (
            resource["type"], resource["custom"], resource["parent"], resource.get("protect", False)), urn
        assert got.inputs(ROOT) == resource.get("inputs", {}), urn
    assert [(level, text) for level, text in engine.engine.logs if level in ("WARNING", "ERROR")] == []

    children = {r["type"].rsplit(":", 1)[1] + ":" + urn.rsplit("::", 1)[1]: r["outputs"] for urn, r in expected.items()
                if r["custom"]}
    state = json_format.MessageToDict(response.state)
    assert state == {
        "queueUrl": children["Queue:inventory-queue"]["url"], "queueArn": children["Queue:inventory-queue"]["arn"],
        "dlqUrl": children["Queue:inventory-dlq"]["url"], "dlqArn": children["Queue:inventory-dlq"]["arn"],
        "stateMachineArn": children["StateMachine:inventory-state-machine"]["arn"],
        "functionName": children["Function:inventory-worker"]["name"],
        "functionArn": children["Function:inventory-worker"]["arn"],
        "workerRoleArn": children["Role:inventory-worker-role"]["arn"],
        "stateMachineRoleArn": children["Role:inventory-sm-role"]["arn"],
    }
    assert registered[WORKER].outputs["queue_url"] == state["queueUrl"]


def test_a_required_input_left_out_is_named(provider: Any, engine: Engine) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        construct(provider, engine, TOKEN, "nocode", {"handler": "app.handler"})
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "codePath" in _details(raised.value)
    assert engine.monitor.registrations == {}


def test_a_fraction_for_an_integer_is_refused_naming_the_property(provider: Any, engine: Engine) -> None:
    inputs = {"codePath": "handlers", "handler": "inventory.app.lambda_handler",
              "settings": {"functionTimeoutSeconds": 2.5}}
    with pytest.raises(grpc.RpcError) as raised:
        construct(provider, engine, TOKEN, "fraction", inputs)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "settings.functionTimeoutSeconds: 2.5 is not an integer" in _details(raised.value)


def test_a_bad_setting_fails_the_construct_with_the_components_message(provider: Any, engine: Engine) -> None:
    inputs = {"codePath": "handlers", "handler": "inventory.app.lambda_handler",
              "settings": {"functionTimeoutSeconds": 901}}
    with pytest.raises(grpc.RpcError) as raised:
        construct(provider, engine, TOKEN, "slow", inputs)
    assert "functionTimeoutSeconds" in raised.value.details() and "901" in raised.value.details()
    assert [r.urn for r in engine.monitor.registrations.values() if r.custom] == []  # the check runs before any child


def _details(error: grpc.RpcError) -> str:
    """The status message plus the property errors the provider packs into the trailing metadata."""
    text = [error.details() or ""]
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                found = errors_pb2.InputPropertiesError()
                detail.Unpack(found)
                text += [f"{e.property_path}: {e.reason}" for e in found.errors]
    return "\n".join(text)


def test_pulumis_component_provider_hands_integers_over_as_floats() -> None:
    """Why :class:`OrderflowProvider` exists. When this fails, Pulumi maps integers itself: drop the subclass."""
    inputs = {"codePath": "handlers", "handler": "h.h", "settings": {"functionTimeoutSeconds": 3.0},
              "workerStatements": [{"sid": "S", "actions": ["a:B"], "resources": ["arn"]}]}
    stock = ComponentProvider(list(COMPONENTS), "orderflow", None, "0.1.0")
    mapped: Any = stock.map_inputs(inputs, stock._component_defs["CallbackWorker"])
    assert repr(mapped["settings"]["function_timeout_seconds"]) == "3.0"
    ours = provider()
    assert isinstance(ours, OrderflowProvider)
    mapped = ours.map_inputs(inputs, ours._component_defs["CallbackWorker"])
    assert repr(mapped["settings"]["function_timeout_seconds"]) == "3"
    assert mapped["worker_statements"] == [{"sid": "S", "actions": ["a:B"], "resources": ["arn"]}]
