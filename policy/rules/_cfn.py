"""A CloudFormation template read as the pack judges it: JSON or YAML (with CloudFormation's short tags), intrinsic
functions resolved to what they can stand for.

Templates: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-formats.html; the short forms
(``!Ref``, ``!GetAtt a.b``, ``!Sub``, ...) are the ``Fn::`` functions
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html).

Resolution keeps the judgement sound: ``Ref``/``Fn::GetAtt`` name one resource (an exact placeholder); ``Fn::Sub``
keeps its text, pseudo parameters filled in and other variables turned into exact placeholders; ``Fn::Join`` joins;
``Fn::If`` becomes both branches (a list), so a grant hidden in either branch is judged; anything else is unknown
(an exact placeholder, judged as one value).
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from ._guard import check

MAX_NODES = 200_000
"""Values resolved per template at most: YAML aliases can make a small text stand for billions of values."""
MAX_TEMPLATE = 1_048_576
"""CloudFormation's largest template body, in bytes, is 51,200 (1 MB from S3)
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html)."""
PSEUDO = {"AWS::Region": "us-east-1", "AWS::AccountId": "000000000000", "AWS::Partition": "aws",
          "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "stack", "AWS::StackId": "stack-id"}
SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateError(ValueError):
    """Not a readable template; ``str()`` says why."""


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags as their ``Fn::`` objects."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _short_tag)


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as error:
        raise TemplateError(f"neither JSON nor YAML ({str(error).splitlines()[0]})") from None


def parse(text: str) -> dict[str, Any]:
    """The template as objects; raises TemplateError."""
    if len(text) > MAX_TEMPLATE:
        raise TemplateError(f"{len(text)} characters, above CloudFormation's largest template")
    try:
        document = _load(text)
    except RecursionError:
        raise TemplateError("nested deeper than a template can be") from None
    if not isinstance(document, dict):
        raise TemplateError("not a template object")
    resolved = resolve(document, budget=[MAX_NODES])
    return resolved if isinstance(resolved, dict) else {}


def _sub(value: Any) -> Any:
    text = value[0] if isinstance(value, list) and value else value
    if not isinstance(text, str):
        return "unresolved"
    return SUB_VARIABLE.sub(lambda m: PSEUDO.get(m.group(1), f"ref-{m.group(1)}"), text).replace("${!", "${")


def _intrinsic(name: str, value: Any, depth: int, budget: list[int]) -> Any:
    if name == "Ref":
        return PSEUDO.get(str(value), f"ref-{value}")
    if name == "Fn::GetAtt":
        return "ref-" + ".".join(map(str, value)) if isinstance(value, list) else f"ref-{value}"
    if name == "Fn::Sub":
        return _sub(value)
    if name == "Fn::Join" and isinstance(value, list) and len(value) == 2 and isinstance(value[1], list):
        parts = [resolve(p, depth + 1, budget) for p in value[1]]
        return str(value[0]).join(p if isinstance(p, str) else "unresolved" for p in parts)
    if name == "Fn::If" and isinstance(value, list) and len(value) == 3:
        return [resolve(value[1], depth + 1, budget), resolve(value[2], depth + 1, budget)]
    return "unresolved"


def resolve(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """``value`` with intrinsic functions resolved (see the module docstring); bounded in depth and in values
    (``budget``: values left; raises TemplateError when spent)."""
    budget = budget if budget is not None else [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise TemplateError(f"more than {MAX_NODES} values (YAML aliases repeat what they name)")
    check()
    if depth > 64:
        return "unresolved"
    if isinstance(value, dict):
        if len(value) == 1:
            (name, inner), = value.items()
            if name == "Ref" or (isinstance(name, str) and name.startswith("Fn::")):
                return _intrinsic(name, inner, depth, budget)
        return {str(k): resolve(v, depth + 1, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, depth + 1, budget) for v in value]
    return value


def resources(template: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(logical id, type, properties) of every resource the template declares."""
    found = []
    for logical, resource in (template.get("Resources") or {}).items() if isinstance(template.get("Resources"),
                                                                                      dict) else []:
        if isinstance(resource, dict):
            props = resource.get("Properties")
            found.append((str(logical), str(resource.get("Type", "")), props if isinstance(props, dict) else {}))
    return found
