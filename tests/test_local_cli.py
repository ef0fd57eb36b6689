"""`make local` as a user types it (`python -m tools.local ...`, a subprocess): every bad input is one line
on stderr with exit 2 and no traceback; a stack outside us-east-1 runs end to end.

The commands run in a copy of the project whose stack files are the test's own: a `dev` stack with a key
that does not exist, a `broken` one that is not YAML, and an `eu` stack in eu-west-1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("tools", "components", "handlers", "samples", "__main__.py", "stack_config.py",
          "Pulumi.yaml", "Pulumi.prod.yaml")
BAD_KEY = "orderflow:functionTimeout"
EU_STACK = """config:
  aws:region: eu-west-1
  orderflow:functionTimeoutSeconds: 1
  orderflow:maxConcurrency: 2
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("project")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, tree / name)
    (tree / "Pulumi.dev.yaml").write_text(f"config:\n  aws:region: us-east-1\n  {BAD_KEY}: 3\n")
    (tree / "Pulumi.broken.yaml").write_text("config:\n  aws:region: [us-east-1\n")
    (tree / "Pulumi.eu.yaml").write_text(EU_STACK)
    (tree / "Pulumi.mars.yaml").write_text("config:\n  aws:region: mars-1\n")
    (tree / "Pulumi.secret.yaml").write_text("encryptionsalt: v1:fozI5u6B030=:v1:F+6ZduKKd8G0/V7L:PGMFeIzwobWRKmEAzUdaQ"
                                             "HqC5mMRIQ==\nconfig:\n  orderflow:alarmTopic: true\n"
                                             "  orderflow:alarmEmails:\n    secure: v1:AAAA:AAAA\n")
    inputs = {"orders.json": [{"orderId": "a1", "items": [{"sku": "A", "quantity": 2}]},
                              {"orderId": "q0", "items": [{"sku": "A", "quantity": 0}]}],
              "inventory.json": {"A": 5},
              "not-json.json": "[1,", "object.json": {"orderId": "a1"}, "array.json": ["A"],
              "negative.json": {"A": 3, "B": -1}, "long-sku.json": {"S" * 2045: 1},
              "digits.json": {"A": 123456789012345678901234567890123456789}}
    for name, value in inputs.items():
        (tree / name).write_text(value if isinstance(value, str) else json.dumps(value))
    return tree


def local(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project), "COLUMNS": "80"}
    for name in ("AWS_DEFAULT_REGION", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "tools.local", "--summary", "out/summary.json", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize(("args", "message"), [
    (["--orders", "missing.json"], "error: ORDERS missing.json: no such file; give ORDERS=<path to a JSON file>"),
    (["--orders", "not-json.json"], "error: ORDERS not-json.json: not JSON: Expecting value: line 1 column 4 "
                                    "(char 3)"),
    (["--orders", "object.json"], "error: ORDERS object.json: must be a JSON array of orders (each element one "
                                  "execution's input), got a JSON object"),
    (["--orders", "orders.json", "--inventory", "array.json"],
     'error: INVENTORY array.json: must be a JSON object mapping each sku to its stock (e.g. {"A": 5}), got a '
     "JSON array"),
    (["--orders", "orders.json", "--inventory", "negative.json"],
     'error: INVENTORY negative.json: bad stock for sku "B": -1 is not a JSON integer >= 0 (a stock counts units)'),
    (["--orders", "orders.json", "--inventory", "long-sku.json"],
     "its key SKU#<sku> is 2049 bytes in UTF-8, over DynamoDB's partition key limit of 2048 bytes; give each sku "
     "1 to 2044 bytes (UTF-8)"),
    (["--orders", "orders.json", "--inventory", "digits.json"],
     "is beyond a DynamoDB number (at most 38 significant digits, below 1E+126); use a smaller stock"),
    (["--orders", "orders.json", "--inventory", "inventory.json", "--faults", "crash=0.9"],
     "error: FAULTS: crash must be a number from 0.0 to 0.5, got '0.9'"),
    (["--orders", "orders.json", "--inventory", "inventory.json", "--faults", "stal=1"],
     "error: FAULTS: unknown key 'stal'"),
    (["--orders", "orders.json", "--inventory", "inventory.json", "--stack", "nope"],
     "error: no stack file Pulumi.nope.yaml for stack 'nope'; stacks here: broken, dev, eu, mars, prod, secret"),
    (["--orders", "orders.json", "--inventory", "inventory.json", "--stack", "mars"],
     "error: Pulumi.mars.yaml: aws:region='mars-1' is not an AWS region (botocore "),
    (["--orders", "orders.json", "--inventory", "inventory.json", "--stack", "secret"],
     "error: Pulumi.secret.yaml: orderflow:alarmEmails is a secret: set PULUMI_CONFIG_PASSPHRASE (or "
     "PULUMI_CONFIG_PASSPHRASE_FILE)"),
    (["--orders", "orders.json", "--inventory", "inventory.json", "--stack", "acme/other/eu"],
     "error: STACK='acme/other/eu' names project 'other', not 'orderflow'; give <stack>, <org>/<stack> or "
     "<org>/orderflow/<stack> (e.g. dev or acme/dev)"),
    (["--orders", "orders.json", "--inventory", "inventory.json", "--stack", "broken"],
     "error: Pulumi.broken.yaml is not valid YAML (line 3: "),
])
def test_bad_input_is_one_line_exit_2(project: Path, args: list[str], message: str) -> None:
    got = local(project, *args)
    assert got.returncode == 2, got.stderr
    assert "Traceback" not in got.stderr
    assert got.stderr.startswith("error: ") and got.stderr.count("\n") == 1, got.stderr
    assert message in got.stderr
    assert not (project / "out" / "summary.json").exists()


def test_bad_stack_config_reads_as_make_synth_says_it(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(project)}
    synth = subprocess.run([sys.executable, "-m", "tools.synth", "--stack", "dev"], cwd=project, env=env,
                           capture_output=True, text=True, timeout=600, check=False)
    got = local(project, "--orders", "orders.json", "--inventory", "inventory.json", "--stack", "dev")
    assert (synth.returncode, got.returncode) == (2, 2)
    assert BAD_KEY in got.stderr and "Traceback" not in got.stderr
    assert got.stderr == synth.stderr


def test_a_stack_in_eu_west_1_runs_end_to_end(project: Path) -> None:
    """Given as a Pulumi stack reference (org/stack), as `make smoke` and `make stock` take it."""
    got = local(project, "--stack", "acme/eu", "--orders", "orders.json", "--inventory", "inventory.json")
    assert got.returncode == 0, got.stdout[-2000:] + got.stderr[-2000:]
    assert got.stdout.splitlines()[:5] == [
        "STACK     acme/eu (Pulumi.eu.yaml)", "ORDERS    orders.json (2 orders)", "INVENTORY inventory.json (1 sku)",
        "SUMMARY   out/summary.json (pictures/ and worker.log beside it)", "FAULTS    none"]
    assert "region eu-west-1" in got.stdout
    assert 'final stock: {"A": 3})' in got.stdout
    summary = json.loads((project / "out" / "summary.json").read_text())
    assert [(o["orderId"], o["result"], o["reason"], o["detail"]) for o in summary["orders"]] == [
        ("a1", "RESERVED", None, None),
        ("q0", "REJECTED", "InvalidOrder", "items[0].quantity must be a JSON integer >= 1")]
    assert all(":eu-west-1:" in c["resource"] for c in summary["leastPrivilege"] if c["resource"].startswith("arn:"))
    assert summary["leastPrivilege"] and all(c["expected"] == c["allowed"] for c in summary["leastPrivilege"])
    assert {c["on"] for c in summary["leastPrivilege"]} >= {"own queue", "neighbour queue", "own table"}
    assert all(i["holds"] for i in summary["invariants"])
    assert "…" not in got.stdout and "Traceback" not in got.stderr
    (project / "out" / "summary.json").unlink()


@pytest.mark.parametrize("error", [KeyError("eu-centrl-1"), RuntimeError("moto: Set changed size during iteration")])
def test_an_internal_error_is_one_line_exit_3_with_the_traceback_in_a_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: Exception) -> None:
    """What the emulator or moto raise is not the user's input: exit 3 (not 1, not 2), the traceback in a file."""
    import tools.local
    from tools.cli import main as orderflow

    def broken(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(tools.local, "run_program", broken)
    monkeypatch.chdir(tmp_path)
    samples = ROOT / "samples"
    code = orderflow(["local", "--orders", str(samples / "orders.json"), "--inventory",
                      str(samples / "inventory.json"), "--summary", str(tmp_path / "out" / "summary.json")])
    assert code == 3
    (line,) = capsys.readouterr().err.splitlines()
    name = type(error).__name__
    assert line.startswith(f"error: internal error in orderflow local ({name}: ")
    assert line.endswith("not a problem of the input; the full traceback is in build/local-internal-error.log "
                         "(include it in a report)")
    written = (tmp_path / "build" / "local-internal-error.log").read_text()
    assert written.startswith("Traceback (most recent call last):") and f"{name}: " in written


def test_a_seed_file_no_worker_reads_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tools.local import main

    accounts = tmp_path / "accounts.json"
    accounts.write_text('{"cust-ada": 100}')
    assert main(["--accounts", str(accounts), "--summary", str(tmp_path / "s.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: ACCOUNTS {accounts}: no worker of this program reads it (the seed files it "
                          "reads: INVENTORY); leave ACCOUNTS out"), err
    assert not (tmp_path / "s.json").exists()
