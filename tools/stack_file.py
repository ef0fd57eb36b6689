"""``Pulumi.<stack>.yaml`` read as the Pulumi CLI reads it, into the ``namespace:key`` -> string map a program gets.

What the CLI does (pulumi/pulumi ``sdk/go/common/workspace/loaders.go``, ``LoadProjectStackBytes``): decode the
file with yaml.v3 into ``any`` (:mod:`tools.go_yaml`), namespace every key without a ``:`` with the project's
name, then decode each value into ``config.Value`` (``sdk/go/common/resource/config/object.go``,
``unmarshalObject`` and ``MarshalString``): a string stays as written; a boolean or number becomes its JSON text
(``010`` -> ``"8"``, ``1_0`` -> ``"10"``, ``TRUE`` -> ``"true"``, ``3.0`` -> ``"3"``); a timestamp becomes Go's
``time.Time.String()``; a mapping of the single key ``secure`` with a string is a secret; any other mapping or
list is an object, handed to the program as JSON (``Plaintext.marshalText``) with its secrets decrypted; an
empty value is ``""`` (the CLI warns that it will become null). A key is ``<namespace>:<name>`` or the old
``<namespace>:config:<name>`` (``config/key.go``, ``ParseKey``).

The program then parses each string itself (``stack_config.py``), as strictly as the SDK's ``Config.get_int``
and ``get_bool`` or more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from orderflow.settings import SettingsError

from tools.go_yaml import GoTime, GoYamlError, go_json, load
from tools.stack_secrets import Decrypter, SecretError

PROJECT = "orderflow"
ROOT = Path(__file__).resolve().parent.parent


class StackFileError(SettingsError):
    """The stack file is missing or unreadable; the message names it and what to do (a SettingsError, so a
    caller that reports bad stack config reports this too)."""

    def __init__(self, message: str) -> None:
        super().__init__([message])


def available_stacks(root: Path = ROOT) -> list[str]:
    """The stacks with a ``Pulumi.<stack>.yaml`` in ``root``."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def read_stack_file(stack: str, path: Path | None = None, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The stack's config as the CLI hands it to the program: ``namespace:key`` -> string.

    ``path`` defaults to ``Pulumi.<stack>.yaml`` beside the program. Raises StackFileError (no file, not YAML as
    yaml.v3 reads it, not a stack file) and SettingsError (one problem per key: a key the CLI cannot parse, a key
    given twice, a value the CLI refuses, a secret that cannot be decrypted here).
    """
    path = path or ROOT / f"Pulumi.{stack}.yaml"
    shown = path.name if path.parent == ROOT else str(path)
    if not path.is_file():
        stacks = ", ".join(available_stacks(path.parent)) or "none"
        folder = "here" if path.parent == ROOT else f"in {path.parent}"
        raise StackFileError(f"no stack file {shown} for stack {stack!r}; stacks {folder}: {stacks} (give one "
                             f"with STACK= to make or --stack to orderflow, or write {shown})")
    try:
        data = load(path.read_text(encoding="utf-8-sig"))  # the CLI strips a UTF-8 byte order mark too
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise StackFileError(f"{shown} is not valid YAML ({where}{problem}); fix the file") from None
    except GoYamlError as error:
        raise StackFileError(f"{shown}: {error}; fix the file") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("config") or {}, dict):
        raise StackFileError(f"{shown}: `config` must be a mapping of key: value")
    if data.get("environment"):
        raise StackFileError(f"{shown}: `environment` imports Pulumi ESC environments, which offline commands "
                             "cannot open; give the values they set as config keys in a stack file of their own")
    decrypter = Decrypter(_text(data.get("encryptionsalt")), _text(data.get("secretsprovider")), environ)
    return config_values(data.get("config") or {}, decrypter)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def config_values(config: dict[str, Any], decrypter: Decrypter) -> dict[str, str]:
    """Each config entry as the program receives it; SettingsError with one line per bad key."""
    values: dict[str, str] = {}
    written: dict[str, str] = {}
    problems: list[str] = []
    for written_key, value in config.items():
        key = written_key if ":" in written_key else f"{PROJECT}:{written_key}"
        parts = key.split(":")
        if len(parts) == 3 and parts[1] == "config":
            key = f"{parts[0]}:{parts[2]}"
        elif len(parts) != 2:
            problems.append(f"{written_key!r} is not a config key the Pulumi CLI can parse (<namespace>:<name>)")
            continue
        if key in written:
            problems.append(f"{key} is given twice (as {written[key]!r} and {written_key!r}); keep one")
            continue
        written[key] = written_key
        try:
            values[key] = program_value(key, value, decrypter)
        except (SecretError, ValueError) as error:
            problems.append(str(error))
    if problems:
        raise SettingsError(problems)
    return values


def program_value(key: str, value: Any, decrypter: Decrypter) -> str:
    """One value as the program receives it (``config.Value.Value`` with the stack's decrypter)."""
    if value is None:
        return ""
    secret = _secure(value)
    if secret is not None:
        return decrypter.decrypt(key, secret)
    if isinstance(value, str):
        return value
    if isinstance(value, GoTime):
        return str(value)
    try:
        return go_json(_decrypted(key, value, decrypter))
    except ValueError as error:
        if isinstance(error, SecretError):
            raise
        raise ValueError(f"{key}: {value!r} is not a value the Pulumi CLI can pass on ({error}: JSON has no NaN "
                         "or infinity)") from None


def _secure(value: Any) -> str | None:
    """The ciphertext of ``{secure: <string>}`` (``isSecureValue``), else None."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str):
        return str(value["secure"])
    return None


def _decrypted(key: str, value: Any, decrypter: Decrypter) -> Any:
    """An object with its nested secure values decrypted (their plaintext is a string)."""
    secret = _secure(value)
    if secret is not None:
        return decrypter.decrypt(key, secret)
    if isinstance(value, dict):
        return {k: _decrypted(key, v, decrypter) for k, v in value.items()}
    if isinstance(value, list):
        return [_decrypted(key, v, decrypter) for v in value]
    return value
