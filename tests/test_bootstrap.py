"""A fresh clone works with only the distribution's Python, git, make and Node: uv is bootstrapped into
.tools/ without touching the externally managed system Python (PEP 668).

The clone runs under ``env -i`` with an empty HOME and PATH=/usr/local/bin:/usr/bin:/bin, as the README's
first commands do on a stock machine. It shares the host's uv cache (UV_CACHE_DIR) so that a test run does
not download the locked packages again; `.ci/run` does the cold run (`make local` with nothing cached).
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from tests.project_uv import project_uv

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = Path("/usr/bin/python3")
UV_VERSION = "0.13.9"


def bootstrap_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bootstrap_uv", ROOT / "scripts" / "bootstrap_uv.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def host_uv_cache() -> str:
    """The cache of the Makefile's uv here, so the clone installs from it instead of downloading again."""
    return subprocess.run([project_uv(), "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("fresh") / "orderflow"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True, timeout=120)
    return target


def clean_env(home: Path) -> dict[str, str]:
    return {"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", "UV_CACHE_DIR": host_uv_cache()}


@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="this machine has no distribution Python at /usr/bin/python3")
def test_fresh_clone_bootstraps_uv_and_runs_a_command(clone: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    assert subprocess.run(["sh", "-c", "command -v uv"], env=env, capture_output=True, check=False).returncode != 0
    done = subprocess.run(["make", "--no-print-directory", "synth", "OUT=build/dev.json"], cwd=clone, env=env,
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"setup: installing uv {UV_VERSION} into .tools/ (once)" in done.stdout.splitlines()
    assert f"{clone}/.tools/bin/uv run --frozen --no-sync python -P -m tools.cli synth --stack dev" in done.stdout
    assert (clone / "build" / "dev.json").read_text().startswith("{")
    version = subprocess.run([str(clone / ".tools" / "bin" / "uv"), "--version"], capture_output=True, text=True,
                             check=True).stdout
    assert version.startswith(f"uv {UV_VERSION} ")
    system = subprocess.run([str(SYSTEM_PYTHON), "-c", "import uv"], capture_output=True, check=False)
    assert system.returncode != 0, "uv must not be installed into the system Python"


def test_wheel_route_unpacks_the_checked_binary(tmp_path: Path) -> None:
    """The route for a Python without ensurepip (Ubuntu without python3-venv): PyPI's wheel, SHA-256 checked."""
    module = bootstrap_module()
    assert module.from_wheel(UV_VERSION, tmp_path) is True
    version = subprocess.run([str(tmp_path / "bin" / "uv"), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith(f"uv {UV_VERSION} ")


@pytest.mark.parametrize("argv", [[], [UV_VERSION], [UV_VERSION, "a", "b"]])
def test_bootstrap_usage_is_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert bootstrap_module().main(argv) == 2
    assert capsys.readouterr().err.startswith("usage: python3 scripts/bootstrap_uv.py VERSION DEST")
