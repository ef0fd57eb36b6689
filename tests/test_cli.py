"""`orderflow <command>` and the Makefile's surface: help, dispatch, exit codes, variable typos."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tools.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL_STACK = ROOT / "samples" / "tutorial-stack.json"
"""The console tutorial's setup as a stack export: the pack finds mandatory violations in it."""


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args], capture_output=True, text=True,
                          check=False, timeout=120)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: orderflow {command} ")


@pytest.mark.parametrize(("argv", "code", "stream", "text"), [
    ([], 2, "out", "usage: orderflow [-h] command ..."),
    (["--help"], 0, "out", "exit codes: 0 ok, 1 violation or broken invariant, 2 bad input"),
    (["nosuch"], 2, "err", "argument command: invalid choice: 'nosuch'"),
    (["synth", "--nosuch"], 2, "err", "unrecognized arguments: --nosuch"),
    (["audit", str(TUTORIAL_STACK)], 1, "out", "mandatory"),
    (["roles", "--stack", "nosuch"], 2, "err", "error: --stack nosuch: no Pulumi.nosuch.yaml; stacks: dev, prod"),
])
def test_dispatch_returns_the_commands_exit_code(argv: list[str], code: int, stream: str, text: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == code
    captured = capsys.readouterr()
    assert text in (captured.out if stream == "out" else captured.err)
    assert "Traceback" not in captured.err


def test_synth_then_audit_of_a_clean_stack_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "dev.json"
    assert main(["synth", "--stack", "dev", "--out", str(out)]) == 0
    assert main(["audit", str(out)]) == 0


def test_console_script_runs_through_uv() -> None:
    uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")  # as the Makefile finds it
    done = subprocess.run([uv, "run", "--frozen", "--no-sync", "orderflow", "stock", "--help"], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: orderflow stock ")


@pytest.mark.parametrize("args", [[], ["help"]])
def test_make_without_a_target_prints_help(args: list[str]) -> None:
    done = make(*args)
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0] == "usage: make <target> [VARIABLE=value ...]"
    targets = {line.split()[0] for line in lines if line.startswith("  ") and not line.startswith("   ")}
    assert {"help", "setup", "test", "synth", "audit", "local", "bench", "roles", "smoke", "stock"} <= targets
    for variable in ("STACK", "OUT", "FILE", "ORDERS", "INVENTORY", "SUMMARY", "FAULTS", "BENCH_OUT", "OUTPUTS",
                     "DRY_RUN"):
        assert any(line.startswith(f"  {variable} ") for line in lines), variable


@pytest.mark.parametrize(("typo", "suggestion"), [
    ("ORDER", "ORDERS"), ("INVENTROY", "INVENTORY"), ("STAK", "STACK"), ("OUTPUT", "OUTPUTS"), ("DRYRUN", "DRY_RUN"),
    ("XYZZY", None),
])
def test_make_warns_on_an_unknown_variable(typo: str, suggestion: str | None) -> None:
    done = make("help", f"{typo}=x")
    assert done.returncode == 0
    (warning,) = [line for line in done.stderr.splitlines() if "is not a variable of this Makefile" in line]
    assert f"warning: {typo} is not a variable of this Makefile" in warning
    if suggestion:
        assert f"(did you mean {suggestion}?)" in warning
    else:
        assert "did you mean" not in warning


@pytest.mark.parametrize(("args", "message"), [
    (["stock"], "error: make stock writes to a deployed table: give STACK=<stack> explicitly"),
    (["stock", "STACK=dev"], "error: make stock needs INVENTORY=<file> (a JSON object sku -> stock)"),
])
def test_make_stock_needs_stack_and_inventory(args: list[str], message: str) -> None:
    done = make(*args)
    assert done.returncode == 2
    assert message in done.stderr
