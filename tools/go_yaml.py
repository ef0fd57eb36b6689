"""YAML read as Go's ``gopkg.in/yaml.v3`` (v3.0.1) reads it into ``any``, and values printed as Go prints them.

The Pulumi CLI decodes ``Pulumi.<stack>.yaml`` with yaml.v3 into ``any`` (pulumi/pulumi
``sdk/go/common/workspace/loaders.go``, ``LoadProjectStackBytes``; ``sdk/go/common/encoding/marshal.go`` imports
``gopkg.in/yaml.v3``; ``sdk/go.mod`` pins v3.0.1), so a plain scalar is resolved by yaml.v3's rules, not YAML 1.1's
(PyYAML's). From go-yaml/yaml v3.0.1:

- ``resolve.go``, ``resolveMapList``: booleans are exactly ``true True TRUE false False FALSE``; ``on``, ``yes``,
  ``y``, ``off``, ``no`` are strings. Null is ``""``, ``~``, ``null``, ``Null``, ``NULL``. ``.inf``/``.nan`` forms
  are floats.
- ``resolve.go``, ``resolve()``: for a scalar starting with a digit or sign, underscores are removed, then
  ``strconv.ParseInt(plain, 0, 64)``: base 0 reads ``0x`` as hex, ``0o`` and a leading ``0`` as octal (``010``
  is 8: "Octals from the 1.1 spec, spelled as 0777, are still decoded by default in v3"), ``0b`` as binary
  (``1_0`` is 10); then ``ParseUint``, then a float matching ``yamlStyleFloat``; a timestamp first when
  unquoted (``parseTimestamp``: ``2006-1-2``, ``2006-1-2T15:4:5.999999999Z07:00``, ...).
- A quoted or block scalar, or one tagged ``!!str``, is a string.
- ``decode.go``, ``d.mapping`` with ``uniqueKeys`` (on by default in ``newDecoder``): a key repeated in one
  mapping (same node kind and text) is an error, ``line N: mapping key "k" already defined at line M``.

Merge keys (``<<``) and application tags are refused here (a stack file has no use for them). Values print as
Go's ``encoding/json`` prints them (``go_json``): sorted keys, no spaces, ``<``, ``>``, ``&`` escaped, floats in
the shortest form that round-trips (``1e+21`` and up and below ``1e-6`` with an exponent).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

PLAIN = "!orderflow/plain"
"""The tag this loader gives an untagged plain scalar, so that yaml.v3's resolution can run on it."""
STR, BOOL, INT, FLOAT, NULL, TIMESTAMP = (f"tag:yaml.org,2002:{t}" for t in
                                          ("str", "bool", "int", "float", "null", "timestamp"))
BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
NULLS = ("", "~", "null", "Null", "NULL")
SPECIAL_FLOATS = {".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan, ".inf": math.inf, ".Inf": math.inf,
                  ".INF": math.inf, "+.inf": math.inf, "+.Inf": math.inf, "+.INF": math.inf, "-.inf": -math.inf,
                  "-.Inf": -math.inf, "-.INF": -math.inf}
YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
INT64 = (-(2 ** 63), 2 ** 63 - 1)
UINT64_MAX = 2 ** 64 - 1


class GoYamlError(ValueError):
    """The text is not YAML yaml.v3 would decode; ``str(error)`` names the line."""


@dataclass(frozen=True)
class GoTime:
    """A YAML timestamp as Go's ``time.Time``; ``str()`` is Go's ``Time.String()`` (how Pulumi prints it)."""

    value: dt.datetime
    zone: str
    """The zone name Go prints: ``UTC`` for ``Z`` and zone-less values, else the numeric offset (``-0500``)."""

    def __str__(self) -> str:
        base = self.value.strftime("%Y-%m-%d %H:%M:%S")
        fraction = f"{self.value.microsecond:06d}".rstrip("0")
        offset = self.value.strftime("%z") or "+0000"
        return f"{base}{'.' + fraction if fraction else ''} {offset} {self.zone}"


class _Resolver(yaml.resolver.BaseResolver):
    """No implicit resolution: an untagged plain scalar keeps the ``PLAIN`` tag for yaml.v3's rules."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode and implicit[0]:
            return PLAIN
        return str(super().resolve(kind, value, implicit))


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _Resolver):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver.__init__(self)


def load(text: str) -> Any:
    """The first document of ``text`` decoded as yaml.v3 decodes it into ``any``: dict (string keys), list, str,
    bool, int, float, None or GoTime. Raises GoYamlError (a duplicate key, a merge key, an application tag) and
    yaml.YAMLError (not YAML)."""
    node = yaml.compose(text, Loader=_Loader)
    return None if node is None else decode(node)


def decode(node: Node) -> Any:
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if isinstance(node, SequenceNode):
        return [decode(item) for item in node.value]
    if isinstance(node, MappingNode):
        return _mapping(node)
    raise GoYamlError(f"line {node.start_mark.line + 1}: unsupported YAML node")


def _mapping(node: MappingNode) -> dict[str, Any]:
    seen: dict[tuple[str, str], int] = {}
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        text = key_node.value if isinstance(key_node, ScalarNode) else ""
        identity = (type(key_node).__name__, text)
        if identity in seen:
            raise GoYamlError(f"line {line}: mapping key {json.dumps(text)} already defined at line {seen[identity]} "
                              "(the Pulumi CLI refuses the file too)")
        seen[identity] = line
        if isinstance(key_node, ScalarNode) and key_node.tag == PLAIN and text == "<<":
            raise GoYamlError(f"line {line}: merge keys (<<) are not supported in a stack file here; write the keys "
                              "out")
        result[go_text(decode(key_node))] = decode(value_node)
    return result


def _scalar(node: ScalarNode) -> Any:
    tag, text = node.tag, node.value
    if tag == PLAIN:
        return resolve(text)
    if tag == STR:
        return text
    if tag in (BOOL, INT, FLOAT, NULL, TIMESTAMP):
        value = resolve(text)
        if tag == FLOAT and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if _tag_of(value) != tag:
            raise GoYamlError(f"line {node.start_mark.line + 1}: cannot decode `{text}` as a {tag.rsplit(':', 1)[1]}")
        return value
    raise GoYamlError(f"line {node.start_mark.line + 1}: the tag {tag} is not one a stack file can hold")


def _tag_of(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    return TIMESTAMP if isinstance(value, GoTime) else STR


def resolve(text: str) -> Any:
    """An untagged plain scalar as yaml.v3's ``resolve("", text)`` decodes it into ``any``."""
    if text in BOOLEANS:
        return BOOLEANS[text]
    if text in NULLS:
        return None
    if text in SPECIAL_FLOATS:
        return SPECIAL_FLOATS[text]
    if text[0] == ".":
        value = _go_float(text)
        return text if value is None else value
    if not (text[0].isascii() and (text[0].isdigit() or text[0] in "+-")):
        return text
    stamp = go_timestamp(text)
    if stamp is not None:
        return stamp
    return _number(text.replace("_", ""), text)


def _number(plain: str, text: str) -> Any:
    """strconv.ParseInt(plain, 0, 64), then ParseUint(plain, 0, 64), then a YAML-style float; else the text.
    (yaml.v3's later ``0b``/``0o`` branches accept nothing base 0 has not: Go's base 0 reads both prefixes.)"""
    number = _go_parse_int(plain)
    if number is not None and INT64[0] <= number <= UINT64_MAX:
        return number
    if YAML_STYLE_FLOAT.fullmatch(plain):
        value = _go_float(plain)
        if value is not None:
            return value
    return text


def _go_parse_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt``/``ParseUint`` with base 0 (sign, then ``0x``, ``0o``, ``0b``, or ``0`` octal)."""
    match = re.fullmatch(r"([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)", text)
    if not match:
        return None
    sign, digits = match.groups()
    octal = len(digits) > 1 and digits[0] == "0" and digits[1] not in "xXoObB"  # Go's 0777; Python's int() refuses it
    value = int(digits, 8 if octal else 0)
    return -value if sign == "-" else value


def _go_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64): None when Go would refuse it (out of range is refused too)."""
    if not re.fullmatch(r"[+-]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][+-]?[0-9]+)?", text):
        return None
    value = float(text)
    return None if math.isinf(value) else value


TIMESTAMP_FORMS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})"),
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d{1,9})?()"),
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})()()()()()"),
)
"""yaml.v3's ``allowedTimestampFormats``: RFC 3339 with short fields (T or t), space-separated without a zone,
date only."""


def go_timestamp(text: str) -> GoTime | None:
    """``parseTimestamp``: the first of yaml.v3's timestamp layouts that parses ``text``, else None."""
    for form in TIMESTAMP_FORMS:
        match = form.fullmatch(text)
        if not match:
            continue
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        try:
            tz = dt.UTC if zone in ("", "Z") else dt.timezone(dt.timedelta(
                hours=int(zone[1:3]), minutes=int(zone[4:6])) * (-1 if zone[0] == "-" else 1))
            value = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                                int(second or 0), int((fraction or ".0")[1:7].ljust(6, "0")), tzinfo=tz)
        except ValueError:
            return None
        name = "UTC" if zone in ("", "Z") else zone.replace(":", "")
        return GoTime(value, name)
    return None


def go_text(value: Any) -> str:
    """A decoded value as ``fmt.Sprintf("%v")`` prints a map key (Pulumi's SimplifyMarshalledValue)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float_text(value)
    return str(value)


def go_float_text(value: float) -> str:
    """A float64 as Go's encoding/json writes it; ValueError for NaN and infinities (json refuses them)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {value!r}")
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        text = repr(value)  # shortest round-trip digits, exponent of at least two digits as Go's 'e' format
        return re.sub(r"e-0(\d)$", r"e-\1", text)
    return format(Decimal(repr(value)).normalize(), "f")


def go_json(value: Any) -> str:
    """``json.Marshal`` of a decoded value: sorted keys, compact, ``<``, ``>``, ``&``, U+2028 and U+2029 escaped
    as Go escapes them, floats as :func:`go_float_text`. ValueError for NaN and infinities."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float_text(value)
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{go_json(k)}:{go_json(value[k])}" for k in sorted(value)) + "}"
    text = json.dumps(str(value), ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text
