"""The worker's code as a deterministic archive: exactly the source files of the code folder.

``pulumi.FileArchive(folder)`` packages everything under the folder, so a local test run (which writes
``__pycache__/*.pyc``) changes the archive's hash and a preview shows a spurious code update. This archive
lists the files itself, in sorted order, and leaves out interpreter and tool caches.
"""

from __future__ import annotations

import os
from pathlib import Path

import orderflow_runtime
import pulumi

RUNTIME = "orderflow_runtime"
"""The worker runtime's package: shipped in every worker's archive whose code folder does not hold it already."""

SKIPPED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
"""Cache folders that never ship (any folder whose name starts with a dot is skipped too)."""
SKIPPED_SUFFIXES = (".pyc", ".pyo")


def source_files(folder: str | Path) -> list[str]:
    """Paths (POSIX, relative to ``folder``) of the files that ship, sorted; caches and hidden files left out."""
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"code folder {str(root)!r} does not exist")
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and not path.name.endswith(SKIPPED_SUFFIXES):
            found.append(relative.as_posix())
    return sorted(found)


def source_archive(folder: str | Path) -> pulumi.AssetArchive:
    """An archive of :func:`source_files`, each at its path relative to ``folder`` (the import root), plus the
    worker runtime under ``orderflow_runtime/`` when the folder has none of its own (a worker written on
    ``orderflow_runtime`` imports it at its code root, as on Lambda; a folder that holds it, like this repository's
    ``handlers/``, ships its own copy). The runtime's paths are relative to the program's working directory, so the
    archive's inputs are the same on every checkout."""
    root = Path(folder)
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        name: pulumi.FileAsset(str(root / name)) for name in source_files(root)}
    if not (root / RUNTIME).is_dir():
        runtime = Path(os.path.relpath(Path(orderflow_runtime.__file__).parent, Path.cwd()))
        assets.update({f"{RUNTIME}/{name}": pulumi.FileAsset(str(runtime / name)) for name in source_files(runtime)})
    return pulumi.AssetArchive(assets)
