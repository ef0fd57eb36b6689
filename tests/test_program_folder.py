"""PROGRAM (``--program``) of synth, roles and local: a folder that is not a Python Pulumi project, or a stack it
has no file for, exits 2 naming the variable and what the folder holds, for every command alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tools import local, roles, synth

ROOT = Path(__file__).resolve().parents[1]
COMMANDS: dict[str, Callable[[list[str]], int]] = {"synth": synth.main, "roles": roles.main, "local": local.main}


def _yaml_project(folder: Path) -> Path:
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text("name: p\nruntime: yaml\n")
    return folder


def _project(text: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        folder = tmp / "p"
        folder.mkdir()
        (folder / "Pulumi.yaml").write_text(text)
        return folder
    return make


def _node_project(folder: Path) -> Path:
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text("name: p\nruntime:\n  name: nodejs\n  options: {typescript: true}\n")
    return folder


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("make_folder", "message"), [
    (lambda tmp: tmp, "PROGRAM {folder}: no Pulumi.yaml there; give a project folder (e.g. examples/order-workflow)"),
    (lambda tmp: _yaml_project(tmp / "y"), "PROGRAM {folder}: its Pulumi.yaml's runtime is 'yaml'; the offline "
                                           "commands run Python programs (runtime: python); run this one with the "
                                           "Pulumi CLI"),
    (lambda tmp: _node_project(tmp / "n"), "PROGRAM {folder}: its Pulumi.yaml's runtime is 'nodejs'"),
    (_project("name: p\n"), "PROGRAM {folder}: its Pulumi.yaml names no runtime (runtime: python), which the Pulumi "
                            "CLI requires"),
    (_project("name: p\nruntime: python\nname: q\n"), "PROGRAM {folder}: its Pulumi.yaml is not a YAML file the "
                                                       'Pulumi CLI reads (line 3: mapping key "name" already defined'),
])
def test_a_folder_that_is_no_python_project(command: str, make_folder: Callable[[Path], Path], message: str,
                                            tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_folder(tmp_path)
    code = COMMANDS[command](["--program", str(folder), "--stack", "dev"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: " + message.format(folder=folder)), err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", COMMANDS)
def test_a_stack_the_program_has_no_file_for_lists_the_programs_stacks(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    program = Path("examples/notifications")
    args = ["--program", str(program), "--stack", "prod"]
    if command != "local":
        args += ["--out", str(tmp_path / "out")]
    code = COMMANDS[command](args)
    err = capsys.readouterr().err
    assert code == 2
    assert (f"no stack file {program}/Pulumi.prod.yaml for stack 'prod'; stacks in {program}: dev (give one "
            f"with STACK= to make or --stack to orderflow, or write {program}/Pulumi.prod.yaml)") in err, err
