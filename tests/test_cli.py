"""`orderflow <command>` and the Makefile's surface: help, dispatch, exit codes, variable typos."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.project_uv import project_uv
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
    (["roles", "--stack", "nosuch"], 2, "err", "error: no stack file Pulumi.nosuch.yaml for stack 'nosuch'; stacks "
                                               "here: dev, prod"),
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


def test_the_command_runs_through_the_makefiles_uv_from_any_folder(tmp_path: Path) -> None:
    """``python -P -m tools.cli``: the repository's environment finds the CLI wherever it runs (the wheel, the library
    other teams install, carries no ``tools`` module and no console script), and a ``tools`` folder in the working
    directory cannot shadow it (``-P``)."""
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "cli.py").write_text("raise SystemExit('shadowed')\n")
    done = subprocess.run([project_uv(), "run", "--project", str(ROOT), "--frozen", "--no-sync", "python", "-P", "-m",
                           "tools.cli", "stock", "--help"], cwd=tmp_path, capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: orderflow stock ")


def test_the_makefile_uses_only_its_private_uv() -> None:
    """One uv everywhere: the Makefile never takes one from PATH (a CI machine's global uv hid missing steps)."""
    makefile = (ROOT / "Makefile").read_text()
    assert "UV := $(TOOLS)/bin/uv\n" in makefile
    assert "command -v uv" not in makefile and "which uv" not in makefile


@pytest.mark.parametrize(("args", "code", "stdout", "stderr"), [
    (["stock", "--help"], 0, "usage: orderflow stock ", ""),
    (["audit", str(TUTORIAL_STACK)], 1, "", ""),
    (["synth", "--stack", "nosuch"], 2, "", "error: no stack file Pulumi.nosuch.yaml for stack 'nosuch'"),
    (["synth", "--stack", "acme/dev", "--out", "dev.json"], 0, "", "wrote dev.json: 27 resources of stack acme/dev"),
])
def test_scripts_orderflow_works_as_written_without_uv_on_path(tmp_path: Path, args: list[str], code: int,
                                                               stdout: str, stderr: str) -> None:
    """The README's form of a command that needs its own exit code: from any folder, PATH without uv."""
    env = {"HOME": str(tmp_path), "PATH": "/usr/local/bin:/usr/bin:/bin"}
    assert subprocess.run(["sh", "-c", "command -v uv"], env=env, check=False).returncode != 0
    done = subprocess.run([str(ROOT / "scripts" / "orderflow"), *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, check=False, timeout=300)
    assert done.returncode == code, done.stderr
    assert done.stdout.startswith(stdout) and done.stderr.startswith(stderr)


def test_scripts_pulumi_puts_the_makefiles_uv_first_on_path(tmp_path: Path) -> None:
    """`scripts/pulumi` runs whatever `pulumi` is on PATH with `.tools/bin` in front (a stand-in CLI shows it)."""
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "$PATH"; command -v uv; echo "$@"\n')
    fake.chmod(0o755)
    env = {"HOME": str(tmp_path), "PATH": f"{fake.parent}:/usr/local/bin:/usr/bin:/bin"}
    done = subprocess.run([str(ROOT / "scripts" / "pulumi"), "preview", "--policy-pack", "policy"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{ROOT}/.tools/bin:{env['PATH']}", f"{ROOT}/.tools/bin/uv",
                                        "preview --policy-pack policy"]
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    done = subprocess.run([str(ROOT / "scripts" / "pulumi"), "version"], env=env, capture_output=True, text=True,
                          check=False, timeout=120)
    assert (done.returncode, done.stderr) == (
        2, "error: the Pulumi CLI is not on PATH; install it (https://www.pulumi.com/docs/iac/download-install/)\n")


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


VARIABLES = "STACK OUT FILE ORDERS INVENTORY SUMMARY FAULTS BENCH_OUT OUTPUTS DRY_RUN ACCOUNT BACKEND_URL PROGRAM"


@pytest.mark.parametrize(("target", "given", "line"), [
    ("synth", "stack=prod", "error: stack=prod: stack is not a variable of this Makefile (variables are upper case); "
                            "give STACK=prod"),
    ("local", "Orders=x.json", "error: Orders=x.json: Orders is not a variable of this Makefile (variables are upper "
                               "case); give ORDERS=x.json"),
    ("help", "dry_run=1", "error: dry_run=1: dry_run is not a variable of this Makefile (variables are upper case); "
                          "give DRY_RUN=1"),
    ("local", "ORDER=x", "error: ORDER=x: ORDER is not a variable of this Makefile (did you mean ORDERS?)"),
    ("local", "INVENTROY=x", "error: INVENTROY=x: INVENTROY is not a variable of this Makefile (did you mean "
                             "INVENTORY?)"),
    ("synth", "STAK=prod", "error: STAK=prod: STAK is not a variable of this Makefile (did you mean STACK?)"),
    ("smoke", "OUTPUT=o.json", "error: OUTPUT=o.json: OUTPUT is not a variable of this Makefile (did you mean "
                               "OUTPUTS?)"),
    ("stock", "DRYRUN=1", "error: DRYRUN=1: DRYRUN is not a variable of this Makefile (did you mean DRY_RUN?)"),
    ("test", "XYZZY=it's", f"error: XYZZY=it's: XYZZY is not a variable of this Makefile (variables: {VARIABLES})"),
    ("local", "ACCOUNT=x.json", "error: ACCOUNT=x.json: make local does not read ACCOUNT (read by roles); did you mean "
                                "ACCOUNTS?"),
    ("roles", "ACCOUNTS=x.json", "error: ACCOUNTS=x.json: make roles does not read ACCOUNTS (read by local); did you "
                                 "mean ACCOUNT?"),
    ("synth", "FILE=x.json", "error: FILE=x.json: make synth does not read FILE (read by audit); synth reads OUT "
                             "PROGRAM STACK"),
    ("test", "STACK=prod", "error: STACK=prod: make test does not read STACK (read by audit, checkov, local, roles, "
                           "smoke, stock, synth); test reads none"),
    ("smoke", "PROGRAM=examples/order-workflow", "error: PROGRAM=examples/order-workflow: make smoke does not read "
                                                 "PROGRAM (read by local, roles, synth); smoke reads OUTPUTS STACK "
                                                 "SUMMARY"),
])
def test_make_refuses_an_unknown_variable_before_anything_runs(target: str, given: str, line: str) -> None:
    """`make synth stack=prod` used to synthesize dev and exit 0, `make local ACCOUNT=x.json` ran on the default
    accounts: every target now stops first, exit 2, on a variable it does not know or does not read."""
    done = make(target, given)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines()[0] == line


@pytest.mark.parametrize(("args", "message"), [
    (["stock"], "error: make stock writes to a deployed table: give STACK=<stack> explicitly"),
    (["stock", "STACK=dev"], "error: make stock needs INVENTORY=<file> (a JSON object sku -> stock)"),
])
def test_make_stock_needs_stack_and_inventory(args: list[str], message: str) -> None:
    done = make(*args)
    assert done.returncode == 2
    assert message in done.stderr


OWNED_SECTIONS = ("## Two commands on a fresh machine", "## Commands and variables", "## Stack config",
                  "## First deploy", "## One key for everything at rest", "## Scanner findings (checkov)")


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start:end if end > 0 else None]


@pytest.mark.parametrize("where", [*OWNED_SECTIONS, "make help", *sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.yml"))])
def test_documented_commands_need_no_uv_on_path(where: str) -> None:
    """The README, make help and the workflows give commands that work as written on a machine with no uv."""
    if where.startswith("## "):
        text = readme_section(where)
    elif where == "make help":
        text = make("help").stdout
    else:
        text = (ROOT / where).read_text()
    assert "uv run" not in text and "setup-uv" not in text
    assert not [line for line in text.splitlines() if line.strip().startswith("uv ")]


def test_each_targets_reads_list_is_what_its_recipe_uses() -> None:
    """READS.<target> in the Makefile (what the variable check lets through) equals the variables its recipe names
    (through ROLES_OUT for roles; audit reads STACK through FILE's default, build/$(STACK).json)."""
    text = (ROOT / "Makefile").read_text()
    known = [*VARIABLES.split(), "ACCOUNTS"]
    reads = {m[1]: set(m[2].split()) for m in re.finditer(r"^READS\.(\w+) := (.*)$", text, re.MULTILINE)}
    expansions = {"ROLES_OUT": "$(OUT) $(STACK)"}
    for target, declared in reads.items():
        recipe = re.search(rf"^{target}: .*\n((?:\t.*\n)+)", text, re.MULTILINE)
        assert recipe, target
        body = recipe[1]
        for name, expansion in expansions.items():
            body = body.replace(f"$({name})", expansion)
        used = {v for v in known if re.search(rf"[$(,]\(?{v}\b|\$\({v}\)", body)}
        if target == "audit":
            used.add("STACK")
        assert used == declared, (target, used ^ declared)
