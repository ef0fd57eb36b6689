"""The plugin folder as the CLI reads it: its manifest, its requirements, and its entry run the language host's way."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from tests.package.conftest import clean_env, locked_versions
from tests.package.harness import PLUGIN, ROOT

RUNTIME = ROOT / "handlers" / "orderflow_runtime"


def requirements() -> list[str]:
    return [line.strip() for line in (PLUGIN / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_manifest_declares_the_python_runtime_and_its_virtualenv() -> None:
    manifest = yaml.safe_load((PLUGIN / "PulumiPlugin.yaml").read_text())
    assert manifest == {"runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}}
    assert "components/orderflow/venv/" in (ROOT / ".gitignore").read_text().splitlines()


def test_requirements_pin_the_locked_versions() -> None:
    locked = locked_versions()
    pins = dict(line.split("==") for line in requirements())
    assert set(pins) >= {"pulumi", "pulumi-aws"}
    assert {name: locked[name] for name in pins} == pins


def test_the_package_version_is_the_projects() -> None:
    from orderflow.provider import PACKAGE, VERSION

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (project["name"], project["version"]) == (PACKAGE, VERSION)


def _imported_top_level(folder: Path, only: set[str] | None = None) -> set[str]:
    """Every top-level module a folder's code imports, at any depth (function-level imports too); ``only``: just the
    modules of the folder with these names."""
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        if only is not None and path.stem not in only:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def _runtime_modules_used(folder: Path) -> set[str]:
    """The ``orderflow_runtime`` modules a folder's code imports (``from orderflow_runtime import x`` or
    ``import orderflow_runtime.x``)."""
    used: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "orderflow_runtime":
                used.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("orderflow_runtime."):
                used.add((node.module or "").split(".")[1])
            elif isinstance(node, ast.Import):
                used.update(a.name.split(".")[1] for a in node.names if a.name.startswith("orderflow_runtime."))
    return used


def test_the_plugins_virtualenv_provides_every_module_the_library_imports(plugin_python: str) -> None:
    """A module the library imports only inside a function would fail in the middle of a ``Construct``. Of the runtime,
    the provider loads what the library imports (its contract); the rest (Powertools) runs on Lambda only."""
    used = _runtime_modules_used(PLUGIN)
    assert "contract" in used
    modules = _imported_top_level(PLUGIN) | _imported_top_level(RUNTIME, only=used)
    third_party = sorted(m for m in modules - set(sys.stdlib_module_names) - {"orderflow", "orderflow_runtime"})
    assert "pulumi_aws" in third_party
    done = subprocess.run([plugin_python, "-c", "; ".join(f"import {m}" for m in third_party)], cwd="/",
                          env=clean_env(), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


LOADED = """
import runpy, sys
sys.argv = [{plugin!r}]  # no engine address: the provider analyses the components, then its argument parser exits
try:
    runpy.run_path({plugin!r}, run_name="__main__")
except SystemExit as stop:
    print("exit", stop.code)
plugin = {plugin!r}
for name, module in sorted(sys.modules.items()):
    where = getattr(module, "__file__", None) or ""
    entry = name in ("__main__", "__mp_main__")  # the entry script itself, as runpy registers it
    if not entry and (where.startswith(plugin + "/") or where.startswith({runtime!r} + "/")):
        print("module", name)
"""


def test_run_as_a_folder_it_imports_the_library_from_the_checkout_once(plugin_python: str, tmp_path: Path) -> None:
    """``python components/orderflow``, in a virtualenv without the project and from another folder: ``orderflow`` and
    ``orderflow_runtime`` come from the checkout, and no module of the plugin folder is loaded under a second,
    top-level name (the folder Python puts first on ``sys.path`` is taken out)."""
    script = LOADED.format(plugin=str(PLUGIN), runtime=str(RUNTIME))
    done = subprocess.run([plugin_python, "-c", script], cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                          timeout=120, check=False)
    assert "exit 2" in done.stdout.splitlines(), done.stderr[-3000:]
    assert "the following arguments are required: engine" in done.stderr
    modules = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("module ")]
    assert {"orderflow.provider", "orderflow.callback_worker", "orderflow_runtime.contract"} <= set(modules)
    assert [m for m in modules if m.split(".")[0] not in ("orderflow", "orderflow_runtime")] == []


def test_installed_as_a_package_python_m_orderflow_starts_the_same_provider(plugin_python: str,
                                                                           tmp_path: Path) -> None:
    """The wheel carries the plugin files in ``orderflow``: ``python -m orderflow`` leaves ``sys.path`` alone (here the
    library is found through PYTHONPATH, as an installed package is found in site-packages)."""
    env = clean_env(PYTHONPATH=f"{PLUGIN.parent}:{RUNTIME.parent}")
    done = subprocess.run([plugin_python, "-m", "orderflow"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "the following arguments are required: engine" in done.stderr
