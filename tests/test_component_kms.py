"""One key for everything at rest: given kmsKeyArn, every store the stack creates uses it; without one, the AWS
defaults stay. And a stack whose alarms notify no one is warned about at preview."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.conftest import resources
from tools.synth import synthesize

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
WIDE = {"orderflow:kmsKeyArn": KEY, "orderflow:alarmEmails": "ops@example.com"}

# (resource type, how it names its key, the value without a key: the AWS default that stays)
STORES = [
    ("aws:sqs/queue:Queue", lambda i: i.get("kmsMasterKeyId"), lambda i: i.get("sqsManagedSseEnabled") is True),
    ("aws:dynamodb/table:Table", lambda i: i["serverSideEncryption"].get("kmsKeyArn"),
     lambda i: i["serverSideEncryption"] == {"enabled": True}),
    ("aws:cloudwatch/logGroup:LogGroup", lambda i: i.get("kmsKeyId"), lambda i: "kmsKeyId" not in i),
    ("aws:sns/topic:Topic", lambda i: i.get("kmsMasterKeyId"), lambda i: "kmsMasterKeyId" not in i),
]
COUNTS = {"aws:sqs/queue:Queue": 2, "aws:dynamodb/table:Table": 1, "aws:cloudwatch/logGroup:LogGroup": 2,
          "aws:sns/topic:Topic": 1}


@pytest.fixture(scope="module")
def keyed() -> dict[str, Any]:
    return synthesize("prod", config_overrides=WIDE)


@pytest.mark.parametrize(("typ", "key_of", "default"), STORES, ids=[s[0] for s in STORES])
def test_every_store_uses_the_given_key(keyed: dict[str, Any], prod_export: dict[str, Any], typ: str,
                                        key_of: Any, default: Any) -> None:
    stores = resources(keyed, typ)
    assert len(stores) == COUNTS[typ]
    assert [key_of(r["inputs"]) for r in stores] == [KEY] * COUNTS[typ]
    assert all(default(r["inputs"]) for r in resources(prod_export, typ))


def test_no_store_type_is_left_out(keyed: dict[str, Any]) -> None:
    """Every resource type that holds data at rest is a row above (a new store must be added there)."""
    holding = {"aws:sqs/queue:Queue", "aws:dynamodb/table:Table", "aws:cloudwatch/logGroup:LogGroup",
               "aws:sns/topic:Topic"}
    assert {r["type"] for r in keyed["deployment"]["resources"]} & holding == {row[0] for row in STORES}


# (config overrides of prod, the warning's reason, or None: someone is notified)
REACH = [
    ({}, "alarmTopic creates a topic that nothing subscribes to"),
    ({"orderflow:alarmTopic": "false"}, "no alarmTopic and no alarmTopicArn: the alarms change state and notify "
                                        "nothing"),
    ({"orderflow:alarmEmails": "ops@example.com"}, None),
    ({"orderflow:alarmHttpsEndpoints": "https://hooks.example.com/x"}, None),
    ({"orderflow:alarmTopic": "false", "orderflow:alarmTopicArn": "arn:aws:sns:us-east-1:123456789012:ops"}, None),
    ({"orderflow:development": "true"}, None),  # a development stack may run with nobody listening
]


@pytest.mark.parametrize(("overrides", "reason"), REACH)
def test_preview_warns_when_the_alarms_notify_no_one(caplog: pytest.LogCaptureFixture, overrides: dict[str, str],
                                                     reason: str | None) -> None:
    with caplog.at_level(logging.WARNING):
        synthesize("prod", config_overrides=overrides)
    warnings = [r.getMessage() for r in caplog.records if "notify no one" in r.getMessage()]
    if reason is None:
        assert warnings == []
    else:
        assert warnings == [f"stack prod: its alarms notify no one ({reason}); set orderflow:alarmEmails or "
                            "orderflow:alarmHttpsEndpoints (with alarmTopic: true), or orderflow:alarmTopicArn"]
