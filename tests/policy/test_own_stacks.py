"""The tutorial's setup fails the pack naming each problem; our own stacks (dev, prod, every option) pass it; the CI
roles' policies pass it, the deploy role's escalation only with the allowlist entry that says why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policy.audit import evaluate, main

TUTORIAL_STACK = Path(__file__).parents[2] / "samples" / "tutorial-stack.json"
"""The console tutorial's setup, written down as a stack export."""


def test_tutorial_setup_fails_the_audit_naming_each_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(TUTORIAL_STACK)]) == 1
    mandatory = {(v.rule, v.resource) for v in evaluate(json.loads((TUTORIAL_STACK).read_text()))
                 if v.level == "mandatory"}
    assert mandatory == {
        ("no-full-access-managed-policies", "LambdaSQSRole-AmazonSQSFullAccess"),
        ("no-full-access-managed-policies", "LambdaSQSRole-AWSStepFunctionsFullAccess"),
        ("callback-task-timeout", "CallbackExample"),
        ("queue-dead-letter", "MyQueue"),
        ("lambda-runtime-creatable", "CallbackFunction"),
    }
    assert "MANDATORY" in capsys.readouterr().out


def test_enforcement_level_is_configurable() -> None:
    export = json.loads((TUTORIAL_STACK).read_text())
    levels = {v.rule: v.level for v in evaluate(export, {"callback-task-timeout": "advisory",
                                                         "queue-dead-letter": {"enforcementLevel": "disabled"}})}
    assert levels["callback-task-timeout"] == "advisory"
    assert "queue-dead-letter" not in levels


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_violation_on_our_own_stacks(stack: str, request: pytest.FixtureRequest,
                                        tmp_path: Path) -> None:
    export = request.getfixturevalue(f"{stack}_export")
    assert evaluate(export) == []
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    assert main([str(path)]) == 0


def ci_roles_export(stack: dict[str, Any]) -> dict[str, Any]:
    """`make roles`' three policies (preview, deploy, smoke) as standalone IAM policies of a stack export."""
    from tools.roles import policies

    return {"version": 3, "deployment": {"resources": [
        {"urn": f"urn:pulumi:ci::orderflow::aws:iam/policy:Policy::ci-{role}", "custom": True,
         "type": "aws:iam/policy:Policy", "inputs": {"name": f"ci-{role}", "policy": json.dumps(policy)}}
        for role, policy in policies(stack, "210987654321").items()]}}


DEPLOY_ROLE = {"iam-privilege-escalation": {"allowlist": [{
    "resource": "aws:iam/policy:Policy::ci-deploy",
    "reason": "the deploy role creates the stack's roles, their policies and its function, so it can escalate"}]}}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_ci_roles_pass_the_pack(stack: str, request: pytest.FixtureRequest) -> None:
    """`make roles`' policies: the preview and smoke roles pass every rule; the deploy role passes every rule but the
    escalation rule, which it passes with the allowlist entry saying why (a deploy role writes IAM by design)."""
    export = ci_roles_export(request.getfixturevalue(f"{stack}_export"))
    assert {(v.rule, v.resource) for v in evaluate(export)} == {("iam-privilege-escalation", "ci-deploy")}
    assert evaluate(export, DEPLOY_ROLE) == []
