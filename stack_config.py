"""Typed stack config of the inventory program; every problem is reported before any resource exists."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi

from components.settings import SettingsError, WorkerSettings

NAMESPACE = "orderflow"
PROGRAM_KEYS = ("kmsKeyArn", "alarmTopic")
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")


@dataclass(frozen=True)
class StackConfig:
    settings: WorkerSettings
    kms_key_arn: str | None
    alarm_topic: bool


def parse_stack_config(raw: dict[str, str]) -> StackConfig:
    """Parse ``orderflow:*`` values (keys without the namespace); raises SettingsError naming each key."""
    problems: list[str] = []
    known = set(WorkerSettings.config_keys()) | set(PROGRAM_KEYS)
    problems += [f"{NAMESPACE}:{key} is not a known key (known: {', '.join(sorted(known))})"
                 for key in sorted(set(raw) - known)]
    kms = raw.get("kmsKeyArn") or None
    if kms is not None and not KMS_KEY_ARN.match(kms):
        problems.append(f"kmsKeyArn={kms!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key-id>)")
    alarm_text = raw.get("alarmTopic", "false").strip().lower()
    if alarm_text not in ("true", "false"):
        problems.append(f"alarmTopic={raw['alarmTopic']!r} is not one of {{true, false}}")
    try:
        settings = WorkerSettings.from_config({k: v for k, v in raw.items() if k not in PROGRAM_KEYS})
    except SettingsError as error:
        problems += error.problems
    if problems:
        raise SettingsError(problems)
    return StackConfig(settings=settings, kms_key_arn=kms, alarm_topic=alarm_text == "true")


def load_stack_config() -> StackConfig:
    """Read this stack's ``orderflow:*`` config; a SettingsError fails the preview before registration."""
    prefix = f"{NAMESPACE}:"
    # The CLI hands config to the program through the runtime's config map (PULUMI_CONFIG as fallback).
    everything = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    raw = {k[len(prefix):]: str(v) for k, v in everything.items() if k.startswith(prefix)}
    return parse_stack_config(raw)
