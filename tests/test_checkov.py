"""checkov's CloudFormation checks (the pinned version, its own environment) on renderings of the synth: with a
customer-managed key only what does not apply to this design remains; without one, also the AWS-managed
defaults the design keeps. Each remaining check is named in the README."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.cfn_render import render
from tools.checkov_scan import DEFAULTS_WITHOUT_KEY, NOT_APPLICABLE, judge, keyed, run_checkov
from tools.synth import synthesize

ROOT = Path(__file__).resolve().parent.parent
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
WORKER = "AWS::Lambda::Function.InventoryWorker"
DEFAULTS = {("CKV_AWS_27", "AWS::SQS::Queue.InventoryDlq"), ("CKV_AWS_27", "AWS::SQS::Queue.InventoryQueue"),
            ("CKV_AWS_119", "AWS::DynamoDB::Table.InventoryTable"),
            ("CKV_AWS_158", "AWS::Logs::LogGroup.InventorySmLogs"),
            ("CKV_AWS_158", "AWS::Logs::LogGroup.InventoryWorkerLogs")}
DESIGN = {("CKV_AWS_116", WORKER), ("CKV_AWS_117", WORKER), ("CKV_AWS_173", WORKER)}

# (rendering, stack, config overrides, the findings checkov must report: exactly these)
RENDERINGS = [
    ("dev", "dev", {}, DESIGN | DEFAULTS | {("CKV_AWS_115", WORKER)}),
    ("prod", "prod", {}, DESIGN | DEFAULTS | {("CKV_AWS_26", "AWS::SNS::Topic.InventoryAlarms")}),
    ("prod-key", "prod", {"orderflow:kmsKeyArn": KEY, "orderflow:alarmEmails": "ops@example.com"}, DESIGN),
    ("dev-key", "dev", {"orderflow:kmsKeyArn": KEY}, DESIGN | {("CKV_AWS_115", WORKER)}),
]


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cfn")
    found = {}
    for name, stack, overrides, _ in RENDERINGS:
        template, skipped = render(synthesize(stack, config_overrides=overrides))
        assert skipped == []  # every resource type is rendered
        found[name] = folder / f"{name}.json"
        found[name].write_text(json.dumps(template))
    return found


@pytest.mark.parametrize(("name", "stack", "overrides", "expected"), RENDERINGS, ids=[r[0] for r in RENDERINGS])
def test_checkov_finds_only_what_does_not_apply(templates: dict[str, Path], name: str, stack: str,
                                               overrides: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    findings = run_checkov(templates[name])
    assert set(findings) == expected
    assert [line for line in judge(findings, keyed(templates[name])) if ": new: " in line] == []


def test_an_encryption_finding_applies_once_a_key_is_given() -> None:
    assert judge([("CKV_AWS_27", "AWS::SQS::Queue.Q")], with_key=True)[0].startswith("CKV_AWS_27 AWS::SQS::Queue.Q: "
                                                                                     "new: ")
    assert judge([("CKV_AWS_999", "X")], with_key=False)[0].startswith("CKV_AWS_999 X: new: ")


def test_the_readme_names_every_finding_and_why() -> None:
    readme = (ROOT / "README.md").read_text()
    for check in [*NOT_APPLICABLE, *DEFAULTS_WITHOUT_KEY]:
        assert f"`{check}`" in readme, check
