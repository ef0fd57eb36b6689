"""examples/yaml/Pulumi.yaml, the README's program in another language: it names the package's plugin, and every
property it gives ``orderflow:index:CallbackWorker`` is one the schema has, of the schema's type; the provider constructs
it (run in the program's folder, as the CLI runs a program's plugins), its outputs standing in for the table's."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.package.conftest import clean_env
from tests.package.harness import PLUGIN, ROOT, Engine, construct, start_provider
from tests.package.schema_check import INTERPOLATION, object_problems, problems

EXAMPLE = ROOT / "examples" / "yaml"
TOKEN = "orderflow:index:CallbackWorker"


@pytest.fixture(scope="module")
def program() -> dict[str, Any]:
    return dict(yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text()))


def components(program: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in program["resources"].items() if r["type"].startswith("orderflow:")}


def test_the_program_names_the_plugin_folder_of_this_checkout(program: dict[str, Any]) -> None:
    assert program["runtime"] == "yaml"
    assert (EXAMPLE / program["packages"]["orderflow"]).resolve() == PLUGIN
    assert [r["type"] for r in components(program).values()] == [TOKEN]


def test_every_component_property_is_the_schemas(program: dict[str, Any], schema: dict[str, Any]) -> None:
    for name, resource in components(program).items():
        spec = schema["resources"][resource["type"]]
        assert object_problems(resource["properties"], spec, schema, name, "inputProperties", "requiredInputs") == []


def test_every_output_the_program_reads_is_one_the_component_has(program: dict[str, Any],
                                                                 schema: dict[str, Any]) -> None:
    declared = components(program)
    read = [ref.split(".") for value in program["outputs"].values() for ref in re.findall(r"\$\{([^}]+)\}", value)]
    assert {"worker"} <= {name for name, _ in read}
    for name, prop in read:
        if name in declared:
            assert prop in schema["resources"][declared[name]["type"]]["properties"], f"{name}.{prop}"


def test_the_code_path_and_handler_exist_relative_to_the_program(program: dict[str, Any]) -> None:
    worker = program["resources"]["worker"]["properties"]
    module, function = worker["handler"].rsplit(".", 1)
    source = EXAMPLE / worker["codePath"] / (module.replace(".", "/") + ".py")
    assert re.search(rf"^{function} = |^def {function}\(", source.read_text(), re.MULTILINE), source


@pytest.mark.parametrize(("properties", "problem"), [
    ({"codePath": "w", "handler": "a.b", "codepath": "w"}, "worker.codepath: not a property of the schema"),
    ({"codePath": "w"}, "worker.handler: required, missing"),
    ({"codePath": "w", "handler": "a.b", "settings": {"functionTimeoutSeconds": "10"}},
     "worker.settings.functionTimeoutSeconds: '10' is not an integer"),
    ({"codePath": "${build.folder}", "handler": "a.b"}, "worker.codePath: '${build.folder}' is an output, but the input "
                                                        "is plain"),
    ({"codePath": "w", "handler": "a.b", "workerStatements": [{"sid": "S", "actions": "dynamodb:GetItem",
                                                               "resources": ["${t.arn}"]}]},
     "worker.workerStatements[0].actions: 'dynamodb:GetItem' is not a list"),
])
def test_the_check_finds_what_the_engine_would_refuse(schema: dict[str, Any], properties: dict[str, Any],
                                                      problem: str) -> None:
    assert object_problems(properties, schema["resources"][TOKEN], schema, "worker", "inputProperties",
                           "requiredInputs") == [problem]


def _resolved(value: Any, outputs: dict[str, str]) -> Any:
    """``value`` with each ``${resource.property}`` replaced by what that output is after a deploy."""
    if isinstance(value, str):
        return INTERPOLATION.sub(lambda m: outputs[m.group(0)[2:-1]], value)
    if isinstance(value, list):
        return [_resolved(item, outputs) for item in value]
    if isinstance(value, dict):
        return {key: _resolved(item, outputs) for key, item in value.items()}
    return value


def test_the_provider_constructs_the_programs_worker(program: dict[str, Any], plugin_python: str) -> None:
    table = "inventory-4f2a9c1"  # an auto-named table, as the engine names it
    outputs = {"inventory.name": table, "inventory.arn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}"}
    inputs = _resolved(program["resources"]["worker"]["properties"], outputs)
    assert problems(inputs["environment"]["TABLE_NAME"], {"type": "string"}, {}, "env") == []
    engine = Engine.serve("orderflow-yaml", "dev", "us-east-1")
    process, stub = start_provider(plugin_python, engine.address, EXAMPLE, env=clean_env())
    try:
        response = construct(stub, engine, TOKEN, "worker", inputs, config={"aws:region": "us-east-1"})
    finally:
        process.kill()
        process.wait()
        engine.stop()
    registered = {r.urn.rsplit("::", 1)[1]: r for r in engine.monitor.subtree(response.urn).values()}
    function = registered["worker-worker"].inputs(EXAMPLE)
    assert function["environment"]["variables"]["TABLE_NAME"] == table
    assert function["handler"] == "inventory.app.lambda_handler"
    assert sorted(function["code"]["assets"]) == sorted(
        p.relative_to(ROOT / "handlers").as_posix() for p in (ROOT / "handlers").rglob("*.py")
        if "__pycache__" not in p.parts)
    work = json.loads(registered["worker-work"].inputs(EXAMPLE)["policy"])
    assert work["Statement"] == [{"Sid": "ReserveStock", "Effect": "Allow", "Action": [
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], "Resource": [outputs["inventory.arn"]]}]
    definition = json.loads(registered["worker-state-machine"].inputs(EXAMPLE)["definition"])
    assert {"Check Inventory", "Notify Rejection", "Release Reservation"} <= set(definition["States"])
    (email,) = [r.inputs(EXAMPLE) for name, r in registered.items() if name.startswith("worker-alarms-email-")]
    assert email == {"endpoint": "oncall@example.com", "protocol": "email",
                     "topic": "arn:aws:sns:us-east-1:123456789012:orderflow-yaml-dev-worker-alarms"}


def test_the_readmes_yaml_program_is_the_schemas_and_the_examples(program: dict[str, Any],
                                                                  schema: dict[str, Any]) -> None:
    """The README's excerpt of the example stays true: schema-valid, and each value it shows is the example's."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## From another language"):]
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", section[:section.index("\n## ", 3)], re.DOTALL)
                if "orderflow:index:CallbackWorker" in b]
    shown = yaml.safe_load(block)
    properties = shown["resources"]["worker"]["properties"]
    assert object_problems(properties, schema["resources"][TOKEN], schema, "worker", "inputProperties",
                           "requiredInputs") == []
    example = program["resources"]["worker"]["properties"]

    def within(part: Any, whole: Any) -> bool:
        if isinstance(part, dict):
            return isinstance(whole, dict) and all(k in whole and within(v, whole[k]) for k, v in part.items())
        return bool(part == whole)

    assert within(properties, example)
    assert within(shown["outputs"], program["outputs"])
