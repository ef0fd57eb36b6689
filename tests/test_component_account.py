"""Lookups follow the caller's provider; the layer is pinned; partitions and quotas are checked at preview."""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path
from typing import Any

import pytest
from orderflow.aws_context import AwsContext
from orderflow.powertools import POWERTOOLS_VERSION, layer_parameter
from orderflow.settings import SettingsError

from tests.conftest import resources
from tools.synth import synthesize
from tools.synth_mocks import AccountFixture

ROOT = Path(__file__).resolve().parent.parent
# A user's program: the component deployed into eu-west-1 through an explicit provider (opts.providers).
EU_PROGRAM = '''
import pulumi
import pulumi_aws as aws
from orderflow import CallbackWorker

eu = aws.Provider("eu", region="eu-west-1")
CallbackWorker("inventory", {
    "settings": {"function_timeout_seconds": 3}, "code_path": "handlers",
    "handler": "inventory.app.lambda_handler",
    "aws_context": {"partition": "aws", "region": "eu-west-1", "account_id": "123456789012"}},
    opts=pulumi.ResourceOptions(providers={"aws": eu}))
'''


def function(export: dict[str, Any]) -> dict[str, Any]:
    (fn,) = resources(export, "aws:lambda/function:Function")
    return fn


def test_the_layer_version_is_the_one_uv_lock_pins() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"]}["aws-lambda-powertools"]
    assert locked == POWERTOOLS_VERSION
    assert layer_parameter("arm64", "python3.13") == f"/aws/service/powertools/python/arm64/python3.13/{locked}"


@pytest.mark.parametrize(("preview", "computed", "provider_id"), [
    (False, True, "eu-id"),
    (True, False, "04da6b54-80e4-46f7-96ec-b56ff0331ba9"),  # first preview: the new provider's id is unknown
])
def test_the_layer_lookup_uses_the_component_provider(tmp_path: Path, preview: bool, computed: bool,
                                                      provider_id: str) -> None:
    program = tmp_path / "program_eu.py"
    program.write_text(EU_PROGRAM)
    fn = function(synthesize("dev", program=program, preview=preview, computed=computed))
    assert fn["provider"] == f"urn:pulumi:dev::orderflow::pulumi:providers:aws::eu::{provider_id}"
    assert fn["inputs"]["layers"] == [
        "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:27"]


@pytest.mark.parametrize(("region", "partition", "domain"), [
    ("us-east-1", "aws", "amazonaws.com"), ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
    ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
])
def test_queue_urls_use_the_partition_dns_suffix(region: str, partition: str, domain: str) -> None:
    layer = f"arn:{partition}:lambda:{region}:123456789012:layer:powertools:3"
    export = synthesize("dev", config_overrides={"aws:region": region, "orderflow:powertoolsLayerArn": layer})
    url = f"https://sqs.{region}.{domain}/123456789012/orderflow-dev-inventory-queue"
    (sm,) = resources(export, "aws:sfn/stateMachine:StateMachine")
    assert json.loads(sm["inputs"]["definition"])["States"]["Check Inventory"]["Parameters"]["QueueUrl"] == url
    assert AwsContext(partition, region, "123456789012").queue_url("orderflow-dev-inventory-queue") == url
    assert function(export)["inputs"]["layers"] == [layer]


def test_a_partition_without_the_layer_parameter_fails_the_preview() -> None:
    with pytest.raises(SettingsError) as error:
        synthesize("dev", preview=True, config_overrides={"aws:region": "cn-north-1"})
    assert str(error.value) == (
        "partition 'aws-cn': Powertools publishes its layer parameter /aws/service/powertools/python/arm64/"
        f"python3.13/{POWERTOOLS_VERSION} only in the aws partition; publish Powertools {POWERTOOLS_VERSION} as a "
        "layer in your account and set powertoolsLayerArn to it")


@pytest.mark.parametrize(("quota", "reserved", "message"), [
    (50, 25, "reservedConcurrency=25 leaves 25 of the account's Lambda concurrency quota 50 (L-B99A9384) "
             "unreserved; Lambda keeps at least 100 unreserved: lower reservedConcurrency to at most 0, unset it, "
             "or raise the quota"),
    (120, 25, "reservedConcurrency=25 leaves 95 of the account's Lambda concurrency quota 120 (L-B99A9384)"),
    (125, 25, None),
    (1000, 25, None),
])
def test_quota_preflight(quota: float, reserved: int, message: str | None) -> None:
    account = AccountFixture(lambda_concurrency_quota=quota)
    overrides = {"orderflow:reservedConcurrency": str(reserved)}
    if message is None:
        assert function(synthesize("prod", preview=True, account=account, config_overrides=overrides))
        return
    with pytest.raises(SettingsError) as error:
        synthesize("prod", preview=True, account=account, config_overrides=overrides)
    assert str(error.value).startswith(message)


def test_an_unreadable_quota_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        export = synthesize("prod", account=AccountFixture(lambda_concurrency_quota=None),
                            config_overrides={"orderflow:alarmEmails": "ops@example.com"})
    assert function(export)["inputs"]["reservedConcurrentExecutions"] == 25
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "reservedConcurrency=25 not checked: the account's Lambda concurrency quota (L-B99A9384) could not be "
        "read (invoke of aws:servicequotas/getServiceQuota:getServiceQuota failed: AccessDeniedException: not "
        "authorized to perform servicequotas:GetServiceQuota (quotaCode)); grant "
        "servicequotas:GetServiceQuota to check it"]


@pytest.mark.parametrize("key", [
    "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
    "arn:aws-cn:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555",
])
def test_a_key_of_another_region_or_partition_is_refused(key: str) -> None:
    with pytest.raises(SettingsError) as error:
        synthesize("dev", config_overrides={"orderflow:kmsKeyArn": key})
    assert str(error.value) == (
        f"kmsKeyArn={key!r} is not in the queues' partition and region (aws, us-east-1): SQS uses a key of its own "
        "region; give that key, or the multi-Region key's replica there")


def test_a_context_of_another_region_than_the_provider_fails(tmp_path: Path) -> None:
    """The C1 program with its AwsContext left in us-east-1: every ARN would name the wrong region."""
    program = tmp_path / "program_mismatch.py"
    program.write_text(EU_PROGRAM.replace('"region": "eu-west-1", "account_id"', '"region": "us-east-1", "account_id"'))
    with pytest.raises(ValueError, match="inventory: its AwsContext names region 'us-east-1' but its provider "
                                         "deploys in 'eu-west-1' \\(the region of its Powertools layer"):
        synthesize("dev", program=program)


def test_a_context_left_out_is_the_component_provider_s(tmp_path: Path) -> None:
    """Without ``aws_context`` the account, region and partition are read through the component's provider."""
    program = tmp_path / "program_derived.py"
    program.write_text(EU_PROGRAM.replace(
        '"aws_context": {"partition": "aws", "region": "eu-west-1", "account_id": "123456789012"}', ''))
    export = synthesize("dev", program=program)
    (sm,) = resources(export, "aws:sfn/stateMachine:StateMachine")
    assert json.loads(sm["inputs"]["definition"])["States"]["Callback"]["Parameters"]["QueueUrl"] == (
        "https://sqs.eu-west-1.amazonaws.com/123456789012/orderflow-dev-inventory-queue")
    (role,) = [r for r in resources(export, "aws:iam/role:Role") if r["inputs"]["name"].endswith("-sm-role")]
    assert json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]["Condition"]["ArnLike"] == {
        "aws:SourceArn": ["arn:aws:states:eu-west-1:123456789012:stateMachine:orderflow-dev-inventory",
                          "arn:aws:states:eu-west-1:123456789012:stateMachine:orderflow-dev-inventory:*"]}
