"""`orderflow roles`: the CI roles' policies, checked with parliament, policy_sentry's database and the pack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from parliament import analyze_policy_string
from policy_sentry.querying.actions import get_action_data, get_actions_that_support_wildcard_arns_only
from pulumi_policy import ResourceValidationArgs

from policy.audit import _options
from policy.rules import IAM_SCOPING
from tools.cli import main as cli
from tools.roles import deploy_policy, preview_policy

ACCOUNT = "210987654321"
SERVICE_OF_TYPE = {
    "aws:sqs/": "sqs", "aws:iam/": "iam", "aws:cloudwatch/logGroup": "logs", "aws:cloudwatch/metricAlarm": "cloudwatch",
    "aws:lambda/": "lambda", "aws:sfn/": "states", "aws:dynamodb/": "dynamodb", "aws:sns/": "sns",
}
"""The IAM service of each resource type the program registers."""
INVOKE_SERVICES = {"sts", "ssm"}
"""The program's invokes: getCallerIdentity, and getParameter for the Powertools layer."""
PARLIAMENT_KNOWN = {
    ("RESOURCE_MISMATCH", "ssm:GetParameter"):
        "AWS's public parameters have no account in their ARN (arn:aws:ssm:REGION::parameter/aws/service/...); "
        "parliament's pattern wants one",
    ("RESOURCE_MISMATCH", "states:DescribeExecution"):
        "parliament wants every resource type the docs mark (execution and express); either one suffices",
    ("RESOURCE_MISMATCH", "states:ListExecutions"):
        "the same: stateMachine or mapRun",
}
"""parliament findings that are not problems of the policy, each with the reason."""


@pytest.fixture(scope="module")
def policies(dev_export: dict[str, Any], prod_export: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "dev-preview": preview_policy(dev_export, "us-east-1", ACCOUNT),
        "dev-deploy": deploy_policy(dev_export, "us-east-1", ACCOUNT),
        "prod-preview": preview_policy(prod_export, "us-east-1", ACCOUNT),
        "prod-deploy": deploy_policy(prod_export, "us-east-1", ACCOUNT),
    }


def actions(policy: dict[str, Any]) -> list[str]:
    return [a for st in policy["Statement"] for a in st["Action"]]


def access_levels(action: str) -> set[str]:
    service, name = action.split(":")
    data = get_action_data(service, name) or {}
    return {entry["access_level"] for entries in data.values() for entry in entries}


def test_command_writes_both_files(tmp_path: Path) -> None:
    assert cli(["roles", "--stack", "dev", "--out", str(tmp_path), "--account", ACCOUNT]) == 0
    for name in ("preview-policy.json", "deploy-policy.json"):
        policy = json.loads((tmp_path / name).read_text())
        assert policy["Version"] == "2012-10-17"
        # the account's own ARNs; "*" for resource-less actions; AWS's public parameters and the Powertools layer
        assert all(f":{ACCOUNT}:" in r or r == "*" or r.startswith("arn:aws:ssm:us-east-1::parameter/aws/service/")
                   or r.startswith("arn:aws:lambda:us-east-1:017000801446:layer:")
                   for st in policy["Statement"] for r in st["Resource"]), name


@pytest.mark.parametrize("argv", [["--account", "12345"], ["--stack", "nosuch"]])
def test_bad_arguments_exit_2(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["roles", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("name", ["dev-preview", "dev-deploy", "prod-preview", "prod-deploy"])
def test_parliament_finds_nothing_beyond_known_database_differences(name: str, policies: dict[str, Any]) -> None:
    for finding in analyze_policy_string(json.dumps(policies[name])).findings:
        if finding.issue == "UNKNOWN_ACTION":  # parliament's database is older than policy_sentry's
            action = finding.detail.removeprefix("Unknown action ")
            assert access_levels(action), f"{name}: {action} is in neither database"
            continue
        for entry in finding.detail:
            assert (finding.issue, entry["action"]) in PARLIAMENT_KNOWN, (name, finding.issue, finding.detail)


@pytest.mark.parametrize("name", ["dev-preview", "dev-deploy", "prod-preview", "prod-deploy"])
def test_no_service_wildcard_no_not_action_and_star_only_for_resource_less(name: str, policies: dict[str, Any]) -> None:
    for st in policies[name]["Statement"]:
        assert "NotAction" not in st and "NotResource" not in st and st["Effect"] == "Allow"
        assert not any("*" in a for a in st["Action"]), st["Sid"]
        if "*" in st["Resource"]:
            assert st["Resource"] == ["*"]
            for action in st["Action"]:
                service = action.split(":")[0]
                assert action in get_actions_that_support_wildcard_arns_only(service), action


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preview_reads_and_lists_only(stack: str, policies: dict[str, Any]) -> None:
    preview = actions(policies[f"{stack}-preview"])
    assert {"sts:GetCallerIdentity", "states:ValidateStateMachineDefinition", "ssm:GetParameter"} <= set(preview)
    assert {"states:DescribeStateMachine", "sqs:GetQueueAttributes", "dynamodb:DescribeTable"} <= set(preview)
    for action in preview:
        assert access_levels(action) <= {"Read", "List"}, action
        assert not action.split(":")[1].startswith(("Create", "Delete", "Put", "Update", "Tag", "Untag")), action
    assert not {"sqs:ReceiveMessage", "dynamodb:GetItem", "dynamodb:Scan", "iam:PassRole"} & set(preview)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_action_belongs_to_a_service_the_program_uses(stack: str, policies: dict[str, Any],
                                                            request: pytest.FixtureRequest) -> None:
    export = request.getfixturevalue(f"{stack}_export")
    used = {service for r in export["deployment"]["resources"] for prefix, service in SERVICE_OF_TYPE.items()
            if r["type"].startswith(prefix)} | INVOKE_SERVICES
    for kind in ("preview", "deploy"):
        assert {a.split(":")[0] for a in actions(policies[f"{stack}-{kind}"])} <= used, kind


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deploy_passes_only_the_stacks_roles_to_their_services(stack: str, policies: dict[str, Any]) -> None:
    passing = [st for st in policies[f"{stack}-deploy"]["Statement"] if "iam:PassRole" in st["Action"]]
    assert sorted((st["Resource"], st["Condition"]) for st in passing) == [
        ([f"arn:aws:iam::{ACCOUNT}:role/orderflow-{stack}-inventory-sm-role"],
         {"StringEquals": {"iam:PassedToService": "states.amazonaws.com"}}),
        ([f"arn:aws:iam::{ACCOUNT}:role/orderflow-{stack}-inventory-worker-role"],
         {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
    ]
    assert all(st["Action"] == ["iam:PassRole"] for st in passing)
    deploy = set(actions(policies[f"{stack}-deploy"]))
    assert {"states:CreateStateMachine", "iam:PutRolePolicy", "sqs:CreateQueue", "lambda:CreateFunction",
            "dynamodb:CreateTable", "lambda:CreateEventSourceMapping", "lambda:GetLayerVersion"} <= deploy
    assert not {"iam:AttachRolePolicy", "iam:CreateServiceLinkedRole", "lambda:PublishLayerVersion"} & deploy


def grants(policy: dict[str, Any]) -> set[tuple[str, str]]:
    """(action, resource) pairs the policy allows, as written (no wildcard expansion)."""
    return {(a, r) for st in policy["Statement"] for a in st["Action"] for r in st["Resource"]}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deploy_holds_the_smoke_runs_calls_on_the_stacks_own_arns(stack: str, policies: dict[str, Any]) -> None:
    base = f"orderflow-{stack}-inventory"
    machine = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{base}"
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{base}"
    dlq = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{base}-dlq"
    layer = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:*"
    assert {("states:StartExecution", machine),
            ("states:DescribeExecution", f"arn:aws:states:us-east-1:{ACCOUNT}:execution:{base}:*"),
            ("states:StopExecution", f"arn:aws:states:us-east-1:{ACCOUNT}:execution:{base}:*"),
            ("dynamodb:PutItem", table), ("dynamodb:GetItem", table), ("dynamodb:DeleteItem", table),
            ("sqs:ReceiveMessage", dlq),
            ("lambda:GetLayerVersion", layer)} <= grants(policies[f"{stack}-deploy"])
    # the layer: every version of the one layer (the synth's version number is a stand-in), nothing else of it
    assert {r for a, r in grants(policies[f"{stack}-deploy"]) if ":layer:" in r} == {layer}


def rule_findings(policy: dict[str, Any]) -> list[str]:
    typ = "aws:iam/policy:Policy"
    found: list[str] = []
    args = ResourceValidationArgs(typ, {"policy": json.dumps(policy)}, f"urn:pulumi:s::p::{typ}::ci", "ci",
                                  _options(None), None, {"allowlist": []})
    IAM_SCOPING.validate(args, lambda message, urn=None: found.append(message))
    return found


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_packs_iam_rule(stack: str, policies: dict[str, Any]) -> None:
    assert rule_findings(policies[f"{stack}-preview"]) == []
    # Event source mappings are named by a UUID AWS assigns at creation: their actions go on the account's
    # mappings, narrowed to the worker by lambda:FunctionArn, which the rule reads for that resource type.
    assert rule_findings(policies[f"{stack}-deploy"]) == []
    (esm,) = [st for st in policies[f"{stack}-deploy"]["Statement"] if st["Sid"] == "WorkerEventSourceMapping"]
    assert esm["Condition"] == {"ArnEquals": {"lambda:FunctionArn": [
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orderflow-{stack}-inventory-worker"]}}
    unnarrowed = {**policies[f"{stack}-deploy"], "Statement": [
        {k: v for k, v in st.items() if k != "Condition"} if st["Sid"] == "WorkerEventSourceMapping" else st
        for st in policies[f"{stack}-deploy"]["Statement"]]}
    assert [f.split(" on ")[0] for f in rule_findings(unnarrowed)] == [
        f"ci: policy: statement WorkerEventSourceMapping grants 'lambda:{action}EventSourceMapping'"
        for action in ("Get", "Update", "Delete")]


def characters(policy: dict[str, Any]) -> int:
    return len(json.dumps(policy, separators=(",", ":")))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_policies_fit_the_inline_size_quota(stack: str, policies: dict[str, Any]) -> None:
    """IAM: the inline policies of one role total at most 10,240 characters, whitespace not counted
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). A deploy role holds one
    stack's deploy policy; the preview role holds the preview policies of both stacks."""
    assert characters(policies[f"{stack}-deploy"]) <= 10_240
    assert characters(policies["dev-preview"]) + characters(policies["prod-preview"]) <= 10_240


def test_a_queue_key_lets_the_deploy_role_decrypt_with_it_and_nothing_more() -> None:
    from tools.synth import synthesize

    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    export = synthesize("dev", config_overrides={"orderflow:kmsKeyArn": key})
    deploy = deploy_policy(export, "us-east-1", ACCOUNT)
    assert [st for st in deploy["Statement"] if any(a.startswith("kms:") for a in st["Action"])] == [
        {"Sid": "QueueKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key]}]
    assert not [a for a in actions(preview_policy(export, "us-east-1", ACCOUNT)) if a.startswith("kms:")]
    assert rule_findings(deploy) == []
