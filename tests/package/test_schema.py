"""``GetSchema``: the package schema the provider answers, as every other language's SDK is generated from it.

The expected types are written out here (a schema change is a change of every language's API, so it shows in this
file); each description is the docstring under its key or attribute in the library's source, read independently.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

import orderflow
from orderflow import args as args_module
from orderflow.provider import PACKAGE, VERSION
from pulumi.provider.experimental.util import camel_case

TOKEN = "orderflow:index:CallbackWorker"

CALLBACK_WORKER_INPUTS = {
    "settings": "plain WorkerSettingsArgs",
    "codePath": "plain string",
    "handler": "plain string",
    "awsContext": "plain AwsContextArgs",
    "namePrefix": "plain string",
    "environment": "plain map<string>",  # the values may be other resources' outputs (a table's name)
    "workerStatements": "plain list<plain WorkerGrantArgs>",
    "kmsKeyArn": "string",  # an Input: a key created in the same program
    "alarmTopic": "plain boolean",
    "alarmTopicArn": "string",
    "alarmEmails": "plain list<plain string>",
    "alarmHttpsEndpoints": "plain list<plain string>",
    "powertoolsLayerArn": "string",
    "protect": "plain boolean",
    "failure": "plain FailurePathArgs",
    "stateMachine": "plain boolean",
}
CALLBACK_WORKER_OUTPUTS = dict.fromkeys(("queueUrl", "queueArn", "dlqUrl", "dlqArn", "stateMachineArn", "functionName", "functionArn", "workerRoleArn", "stateMachineRoleArn", "alarmTopicArn"), "string")
SETTINGS = dict.fromkeys(("functionTimeoutSeconds", "functionMemoryMb", "reservedConcurrency", "batchSize", "batchingWindowSeconds", "maxConcurrency", "maxReceiveCount", "visibilityTimeoutSeconds", "heartbeatSeconds", "taskTimeoutSeconds", "messageRetentionSeconds", "logRetentionDays", "oldestMessageAlarmSeconds", "answerConcurrency"), "plain integer")
SETTINGS.update(dict.fromkeys(("architecture", "logLevel", "stateMachineLogLevel"), "plain string"))
TYPES = {
    "WorkerSettingsArgs": SETTINGS,
    "AwsContextArgs": dict.fromkeys(("partition", "region", "accountId", "dnsSuffix"), "plain string"),
    "WorkerGrantArgs": {"sid": "plain string", "actions": "plain list<plain string>", "resources": "plain list<string>"},
    "FailurePathArgs": {"rejectionErrors": "plain list<plain string>", **dict.fromkeys(("compensationAction", "taskState", "rejectionState", "compensationState", "failedState", "failedError", "compensationErrorPath"), "plain string")},
}


def kind(prop: dict[str, Any]) -> str:
    """A schema property's type in short: ``plain `` when it takes no Output, ``list<...>``, ``map<...>``, the name of
    an object type of the package."""
    plain = "plain " if prop.get("plain") else ""
    if "$ref" in prop:
        return plain + prop["$ref"].removeprefix(f"#/types/{PACKAGE}:index:")
    if prop["type"] == "array":
        return f"{plain}list<{kind(prop['items'])}>"
    if prop["type"] == "object" and "additionalProperties" in prop:
        return f"{plain}map<{kind(prop['additionalProperties'])}>"
    return plain + prop["type"]


def docstrings(cls: type) -> dict[str, str]:
    """Attribute -> the string literal right under its annotated declaration in ``cls``'s source, camelCased."""
    (node,) = ast.parse(inspect.getsource(cls)).body
    assert isinstance(node, ast.ClassDef)
    found: dict[str, str] = {}
    for statement, after in zip(node.body, node.body[1:], strict=False):
        if (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)):
            found[camel_case(statement.target.id)] = str(after.value.value)
    return found


def test_the_package_is_orderflow_with_every_public_component(schema: dict[str, Any]) -> None:
    assert (schema["name"], schema["version"]) == (PACKAGE, VERSION) == ("orderflow", "0.1.0")
    assert set(schema["resources"]) == {f"orderflow:index:{c.__name__}" for c in orderflow.COMPONENTS} == {TOKEN}
    assert all(resource["isComponent"] for resource in schema["resources"].values())
    assert schema["dependencies"] == []  # no resource of another package crosses the interface


def test_callback_worker_inputs_and_outputs_have_their_types(schema: dict[str, Any]) -> None:
    worker = schema["resources"][TOKEN]
    assert {name: kind(prop) for name, prop in worker["inputProperties"].items()} == CALLBACK_WORKER_INPUTS
    assert worker["requiredInputs"] == ["codePath", "handler"]
    assert {name: kind(prop) for name, prop in worker["properties"].items()} == CALLBACK_WORKER_OUTPUTS
    # None: no topic; no state machine of its own (stateMachine: false)
    assert sorted(worker["required"]) == sorted(set(CALLBACK_WORKER_OUTPUTS) - {"alarmTopicArn", "stateMachineArn",
                                                                              "stateMachineRoleArn"})


def test_every_object_type_has_its_properties(schema: dict[str, Any]) -> None:
    types = {token.removeprefix("orderflow:index:"): spec for token, spec in schema["types"].items()}
    assert {name: {p: kind(prop) for p, prop in spec["properties"].items()} for name, spec in types.items()} == TYPES
    assert all(spec["type"] == "object" for spec in types.values())
    assert sorted(types["WorkerGrantArgs"]["required"]) == ["actions", "resources", "sid"]
    assert [name for name, spec in types.items() if spec.get("required")] == ["WorkerGrantArgs"]


def test_every_input_and_output_is_described_by_its_docstring(schema: dict[str, Any]) -> None:
    worker = schema["resources"][TOKEN]
    expected = {
        "inputs": docstrings(args_module.CallbackWorkerArgs),
        "outputs": docstrings(orderflow.CallbackWorker),
        **{name: docstrings(getattr(args_module, name)) for name in TYPES},
    }
    described = {
        "inputs": {name: prop.get("description") for name, prop in worker["inputProperties"].items()},
        "outputs": {name: prop.get("description") for name, prop in worker["properties"].items()},
        **{name: {p: prop.get("description") for p, prop in schema["types"][f"orderflow:index:{name}"]["properties"]
                  .items()} for name in TYPES},
    }
    for where, descriptions in described.items():
        assert all(descriptions.values()), f"{where}: undescribed {[k for k, v in descriptions.items() if not v]}"
        assert descriptions == {name: expected[where][name] for name in descriptions}, where
    assert worker["description"] == (orderflow.CallbackWorker.__doc__ or "").strip()
    assert worker["description"].startswith("A queue-based callback worker: ")
    for name in TYPES:
        assert schema["types"][f"orderflow:index:{name}"]["description"] == getattr(args_module, name).__doc__
