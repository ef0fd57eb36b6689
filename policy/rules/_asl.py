"""State machines of any provider, and their callback tasks wherever they run.

A definition is read from ``aws:sfn/stateMachine:StateMachine`` (``definition``, ``type``), from
``aws-native:stepfunctions:StateMachine`` (``definition`` object or ``definitionString``, ``stateMachineType``), and
from the ``AWS::StepFunctions::StateMachine`` resources of a CloudFormation template (``templateBody``).

Callback tasks (``.waitForTaskToken``) are found at any depth: Parallel branches, Map ``Iterator`` and
``ItemProcessor``. Each is given the workflow type it runs as: its machine's, except inside a Distributed Map, whose
item processor runs child workflows of ``ProcessorConfig.ExecutionType`` (STANDARD or EXPRESS)
(https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html). Express workflows support no
``.waitForTaskToken`` wherever they run
(https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import _cfn
from ._common import as_json, judged, raw_props

MAX_DEPTH = 64
TYPES = {"aws:sfn/stateMachine:StateMachine": (("definition",), "type"),
         "aws-native:stepfunctions:StateMachine": (("definition", "definitionString"), "stateMachineType")}
TEMPLATE_TYPE = "AWS::StepFunctions::StateMachine"


@dataclass(frozen=True)
class Machine:
    label: str
    """"" for the resource itself, else where in its template."""
    kind: str
    definition: Any


@dataclass(frozen=True)
class CallbackTask:
    name: str
    state: dict[str, Any]
    runs_as: str
    where: str
    """"" at the top level, else the Map or Parallel states around it."""
    scope: dict[str, Any]
    """The ``States`` the task is one of (its Catch and Next name states there)."""


def _kind(value: Any) -> str:
    return str(value).upper() if isinstance(value, str) and value else "STANDARD"


def machines(args: Any) -> Iterator[Machine]:
    """Every state machine a resource declares (itself, or in its CloudFormation template)."""
    props = raw_props(args)
    if args.resource_type in TYPES:
        keys, type_key = TYPES[args.resource_type]
        key = next((k for k in keys if props.get(k) is not None), keys[0])
        yield Machine("", _kind(judged(args, type_key)), as_json(judged(args, key)))
    elif isinstance(props.get("templateBody"), str):
        try:
            template = _cfn.parse(judged(args, "templateBody"))
        except _cfn.TemplateError:
            return  # access-readable reports it
        for logical, typ, p in _cfn.resources(template):
            if typ == TEMPLATE_TYPE:
                definition = p.get("Definition", p.get("DefinitionString"))
                yield Machine(f"templateBody: {logical}", _kind(p.get("StateMachineType")), as_json(definition))


def _nested(state: dict[str, Any], runs_as: str) -> Iterator[tuple[Any, str, str]]:
    branches = state.get("Branches")
    for branch in branches if isinstance(branches, list) else []:
        yield branch, runs_as, "Parallel"
    for key in ("Iterator", "ItemProcessor"):
        inner = state.get(key)
        if isinstance(inner, dict):
            found = inner.get("ProcessorConfig")
            config: dict[str, Any] = found if isinstance(found, dict) else {}
            distributed = str(config.get("Mode", "")).upper() == "DISTRIBUTED"
            kind = _kind(config.get("ExecutionType")) if distributed else runs_as
            yield inner, kind, "Distributed Map" if distributed else "Map"


def callback_tasks(definition: Any, runs_as: str = "STANDARD", where: str = "",
                   depth: int = 0) -> Iterator[CallbackTask]:
    """Every ``.waitForTaskToken`` task at any depth, with the workflow type it runs as."""
    states = definition.get("States") if isinstance(definition, dict) else None
    if not isinstance(states, dict) or depth > MAX_DEPTH:
        return
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        resource = state.get("Resource")
        if state.get("Type") == "Task" and isinstance(resource, str) and resource.endswith(".waitForTaskToken"):
            yield CallbackTask(str(name), state, runs_as, where, states)
        for inner, kind, what in _nested(state, runs_as):
            inside = f"{where} > " if where else ""
            yield from callback_tasks(inner, kind, f"{inside}{what} {name!r} ({kind})", depth + 1)
