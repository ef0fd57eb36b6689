"""Typed stack config of the inventory program; every problem is reported before any resource exists.

Config arrives as the CLI hands it to a program: ``<namespace>:<key>`` -> string. Keys of this program live in
the ``orderflow`` namespace; an unknown key, or a key under a namespace that looks like a misspelt
``orderflow``, is refused with a "did you mean" instead of being silently ignored.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from orderflow.arn_patterns import (
    EMAIL,
    KMS_ALIAS_ARN,
    KMS_KEY_ARN,
    LAYER_VERSION_ARN,
    SNS_TOPIC_ARN,
    is_https_endpoint,
)
from orderflow.regions import region_problem
from orderflow.settings import SettingsError, WorkerSettings

NAMESPACE = "orderflow"
PROGRAM_KEYS = ("kmsKeyArn", "alarmTopic", "alarmTopicArn", "alarmEmails", "alarmHttpsEndpoints", "development",
                "protectStatefulResources", "powertoolsLayerArn")
BOOLEANS = {"true": True, "True": True, "false": False, "False": False}
"""Exactly what the SDK's ``Config.get_bool`` accepts (pulumi/pulumi ``sdk/python/lib/pulumi/config.py``,
``_get_bool``); the CLI hands a YAML boolean (``true``, ``True``, ``TRUE``) over as ``true``/``false``, and ``on``
or ``yes`` as the strings they are (YAML 1.2, as yaml.v3 reads it)."""


@dataclass(frozen=True)
class StackConfig:
    """The program's settings, validated."""

    settings: WorkerSettings
    kms_key_arn: str | None = None
    """Customer-managed KMS key of both queues (key ARN, single- or multi-Region)."""
    alarm_topic: bool = False
    """Create an SNS topic for the alarms."""
    alarm_topic_arn: str | None = None
    """Send the alarms to this existing topic instead."""
    alarm_emails: tuple[str, ...] = ()
    """Addresses subscribed to the created alarm topic (SNS asks each to confirm)."""
    alarm_https_endpoints: tuple[str, ...] = ()
    """HTTPS endpoints subscribed to the created alarm topic."""
    development: bool = False
    """The stack is a development stack (its stateful resources may be destroyed freely by default)."""
    protect: bool = True
    """Protect stateful resources: table deletion protection and ``protect`` on the table and dead-letter queue."""
    powertools_layer_arn: str | None = None
    """A Powertools layer version ARN to use instead of the public one (partitions without it)."""


def known_keys() -> list[str]:
    """Every key this program reads from the ``orderflow`` namespace."""
    return sorted(set(WorkerSettings.config_keys()) | set(PROGRAM_KEYS))


def did_you_mean(word: str, choices: list[str]) -> str | None:
    """The closest choice to a misspelt word (case-insensitive first), or None."""
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return lowered[word.lower()]
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.7)
    return close[0] if close else None


def _unknown_key(key: str) -> str:
    known = known_keys()
    guess = did_you_mean(key, known)
    if guess:
        return f"{NAMESPACE}:{key} is not a known key; did you mean `{NAMESPACE}:{guess}`?"
    return f"{NAMESPACE}:{key} is not a known key (known: {', '.join(known)})"


def _bool(raw: Mapping[str, str], key: str, default: bool, problems: list[str]) -> bool:
    if key not in raw:
        return default
    value = BOOLEANS.get(str(raw[key]))
    if value is None:
        problems.append(f"{key}={raw[key]!r} is not one of {{true, false}}")
        return default
    return value


def _list(raw: Mapping[str, str], key: str, problems: list[str]) -> tuple[str, ...]:
    """A list value: a YAML/JSON list of strings, or one comma-separated string."""
    text = str(raw.get(key, ""))
    if not text:
        return ()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            items = None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            problems.append(f"{key}={text!r} is not a list of strings")
            return ()
        return tuple(items)
    return tuple(part.strip() for part in text.split(","))


def _kms(raw: Mapping[str, str], problems: list[str]) -> str | None:
    kms = raw.get("kmsKeyArn") or None
    if kms is None or KMS_KEY_ARN.fullmatch(kms):
        return kms
    if KMS_ALIAS_ARN.fullmatch(kms):
        problems.append(f"kmsKeyArn={kms!r} is an alias ARN; give the key ARN it points to (IAM grants key use on "
                        "the key ARN only: `aws kms describe-key --key-id <alias ARN>` prints it)")
    else:
        problems.append(f"kmsKeyArn={kms!r} is not a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/"
                        "<key-id>, key id a UUID or mrk-<32 hex digits>)")
    return None


def _alarms(raw: Mapping[str, str], topic: bool, problems: list[str]) -> tuple[str | None, tuple[str, ...],
                                                                               tuple[str, ...]]:
    topic_arn = raw.get("alarmTopicArn") or None
    if topic_arn is not None and not SNS_TOPIC_ARN.fullmatch(topic_arn):
        problems.append(f"alarmTopicArn={topic_arn!r} is not an SNS topic ARN "
                        "(arn:<partition>:sns:<region>:<account>:<name>, name of letters, digits, - and _)")
    if topic_arn is not None and topic:
        problems.append("alarmTopicArn and alarmTopic=true exclude each other: send the alarms to your topic, or "
                        "let the stack create one")
    emails = _list(raw, "alarmEmails", problems)
    problems += [f"alarmEmails[{i}]={e!r} is not an email address" for i, e in enumerate(emails)
                 if not EMAIL.fullmatch(e)]
    https = _list(raw, "alarmHttpsEndpoints", problems)
    problems += [f"alarmHttpsEndpoints[{i}]={u!r} is not an https:// URL" for i, u in enumerate(https)
                 if not is_https_endpoint(u)]
    for key, values in (("alarmEmails", emails), ("alarmHttpsEndpoints", https)):
        problems += [f"{key}[{i}]={v!r} is listed twice" for i, v in enumerate(values) if v in values[:i]]
        if values and not topic:
            problems.append(f"{key} needs alarmTopic=true: the stack subscribes them to the topic it creates "
                            "(subscribe to an existing alarmTopicArn where that topic is managed)")
    return topic_arn, emails, https


def parse_stack_config(raw: Mapping[str, str]) -> StackConfig:
    """Parse ``orderflow:*`` values (keys without the namespace); raises SettingsError naming each key."""
    problems = [_unknown_key(key) for key in sorted(set(raw) - set(known_keys()))]
    kms = _kms(raw, problems)
    topic = _bool(raw, "alarmTopic", False, problems)
    topic_arn, emails, https = _alarms(raw, topic, problems)
    layer = raw.get("powertoolsLayerArn") or None
    if layer is not None and not LAYER_VERSION_ARN.fullmatch(layer):
        problems.append(f"powertoolsLayerArn={layer!r} is not a Lambda layer version ARN "
                        "(arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>)")
    development = _bool(raw, "development", False, problems)
    protect = _bool(raw, "protectStatefulResources", not development, problems)
    settings = None
    try:
        settings = WorkerSettings.from_config({k: v for k, v in raw.items() if k not in PROGRAM_KEYS})
    except SettingsError as error:
        problems += error.problems
    if problems or settings is None:
        raise SettingsError(problems)
    return StackConfig(settings=settings, kms_key_arn=kms, alarm_topic=topic, alarm_topic_arn=topic_arn,
                       alarm_emails=emails, alarm_https_endpoints=https, development=development, protect=protect,
                       powertools_layer_arn=layer)


def parse_namespaced(config: Mapping[str, str]) -> StackConfig:
    """Parse a whole stack's config (``namespace:key`` -> value, as the CLI hands it to the program).

    A bare key is the project's (``orderflow``), as the CLI reads it. A key whose namespace is a near miss of
    ``orderflow`` is refused: the CLI would pass it on and the program would silently use the default.
    """
    raw: dict[str, str] = {}
    problems: list[str] = []
    for full, value in config.items():
        namespace, sep, key = full.partition(":")
        if not sep:
            namespace, key = NAMESPACE, full
        if namespace == NAMESPACE:
            raw[key] = str(value)
        elif full == "aws:region":
            problems += filter(None, [region_problem(full, str(value))])
        elif namespace not in ("aws", "pulumi") and did_you_mean(namespace, [NAMESPACE]):
            guess = did_you_mean(key, known_keys()) or key
            problems.append(f"{full} is in namespace `{namespace}`, which this program does not read; did you mean "
                            f"`{NAMESPACE}:{guess}`?")
    try:
        parsed = parse_stack_config(raw)
    except SettingsError as error:
        raise SettingsError(problems + error.problems) from None
    if problems:
        raise SettingsError(problems)
    return parsed


def load_stack_config() -> StackConfig:
    """Read this stack's config; a SettingsError fails the preview before any resource is registered."""
    # The CLI hands config to the program through the runtime's config map (PULUMI_CONFIG as fallback).
    everything = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    return parse_namespaced({k: str(v) for k, v in everything.items()})
