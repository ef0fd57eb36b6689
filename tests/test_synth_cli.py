"""Bad stack config through the command a user types: one `error:` line per problem, exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE = "config:\n  aws:region: us-east-1\n"

# (stack file body after `config:`, exact stderr lines); {file} is the stack file's path
CASES = [
    ("  orderflow:functionTimeout: 3\n",
     ["error: {file}: orderflow:functionTimeout is not a known key; did you mean "
      "`orderflow:functionTimeoutSeconds`?"]),
    ("  orderfow:functionTimeoutSeconds: 3\n",
     ["error: {file}: orderfow:functionTimeoutSeconds is in namespace `orderfow`, which this program does not "
      "read; did you mean `orderflow:functionTimeoutSeconds`?"]),
    ("  OrderFlow:maxConcurrency: 3\n",
     ["error: {file}: OrderFlow:maxConcurrency is in namespace `OrderFlow`, which this program does not read; "
      "did you mean `orderflow:maxConcurrency`?"]),
    ("  orderflow:functionTimeoutSeconds: 0\n",
     ["error: {file}: functionTimeoutSeconds=0 is outside the allowed range 1..900"]),
    ("  orderflow:functionTimeoutSeconds: ' 3'\n",
     ["error: {file}: functionTimeoutSeconds=' 3' is not an integer (allowed range 1..900)"]),
    ("  orderflow:maxReceiveCount: 5\n  orderflow:heartbeatSeconds: 100000\n",
     ["error: {file}: taskTimeoutSeconds=1080 (derived: visibilityTimeoutSeconds=180 x (maxReceiveCount=5 + 1)) "
      "must be > heartbeatSeconds=100000 (AWS rule)"]),
    ("  orderflow:functionTimeoutSeconds: 3\n  orderflow:batchingWindowSeconds: 60\n"
     "  orderflow:visibilityTimeoutSeconds: 20\n",
     ["error: {file}: visibilityTimeoutSeconds=20 must be >= 6 x functionTimeoutSeconds + batchingWindowSeconds "
      "(6 x 3 + 60 = 78): a record must not reappear while an invocation still holds it (AWS rule for Lambda SQS "
      "triggers)"]),
    ("  orderflow:kmsKeyArn: arn:aws:kms:us-east-1:123456789012:alias/orders\n",
     ["error: {file}: kmsKeyArn='arn:aws:kms:us-east-1:123456789012:alias/orders' is an alias ARN; give the key "
      "ARN it points to (IAM grants key use on the key ARN only: `aws kms describe-key --key-id <alias ARN>` "
      "prints it)"]),
    ("  orderflow:alarmEmails: ops@example.com\n",
     ["error: {file}: alarmEmails needs alarmTopic=true: the stack subscribes them to the topic it creates "
      "(subscribe to an existing alarmTopicArn where that topic is managed)"]),
    ("  orderflow:batchsize: 10\n  orderflow:logLevel: TRACE\n",
     ["error: {file}: orderflow:batchsize is not a known key; did you mean `orderflow:batchSize`?",
      "error: {file}: logLevel='TRACE' is not one of {DEBUG, INFO, WARNING, ERROR}"]),
]


def synth(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tools.synth", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(("body", "lines"), CASES)
def test_bad_config_is_one_line_per_problem_and_exit_2(tmp_path: Path, body: str, lines: list[str]) -> None:
    stack_file = tmp_path / "Pulumi.hunt.yaml"
    stack_file.write_text(BASE + body)
    done = synth("--stack", "hunt", "--stack-file", str(stack_file), "--out", str(tmp_path / "out.json"))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [line.replace("{file}", str(stack_file)) for line in lines]
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(("text", "line"), [
    ("config: [a, b]\n", "error: {file}: `config` must be a mapping of key: value"),
    ("config:\n  a: 1\n - b\n", "error: {file} is not valid YAML (line 3: expected <block end>, but found "
                                 "'<block sequence start>'); fix the file"),
])
def test_unreadable_stack_file(tmp_path: Path, text: str, line: str) -> None:
    stack_file = tmp_path / "Pulumi.hunt.yaml"
    stack_file.write_text(text)
    done = synth("--stack", "hunt", "--stack-file", str(stack_file))
    assert (done.returncode, done.stderr.splitlines()) == (2, [line.replace("{file}", str(stack_file))])


def test_unknown_stack_names_the_file_and_the_stacks() -> None:
    done = synth("--stack", "nosuch")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: no stack file Pulumi.nosuch.yaml for stack 'nosuch'; stacks here: dev, prod (give one with STACK= to "
        "make or --stack to orderflow, or write Pulumi.nosuch.yaml)"]


def test_a_good_stack_writes_only_its_own_line_and_the_alarm_warning(tmp_path: Path) -> None:
    """Pulumi.prod.yaml as shipped subscribes no one to its alarm topic: the synth (as a preview) says so."""
    done = synth("--stack", "prod", "--out", str(tmp_path / "prod.json"))
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        "warning: stack prod: its alarms notify no one (alarmTopic creates a topic that nothing subscribes to); set "
        "orderflow:alarmEmails or orderflow:alarmHttpsEndpoints (with alarmTopic: true), or orderflow:alarmTopicArn",
        f"wrote {tmp_path / 'prod.json'}: 28 resources of stack prod"]


def test_a_stack_name_too_long_for_iam_names_is_bad_input(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.x.yaml"
    stack_file.write_text(BASE)
    stack = "a" * 40
    done = synth("--stack", stack, "--stack-file", str(stack_file))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {stack_file}: name prefix 'orderflow-{stack}-inventory' (<project>-<stack>-<component>) is 60 "
        "characters; at most 52 fit IAM's 64-character role names: use a shorter stack or component name"]
