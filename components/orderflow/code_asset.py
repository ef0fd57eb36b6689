"""The worker's code as a deterministic archive: exactly the source files of the code folder.

``pulumi.FileArchive(folder)`` packages everything under the folder, so a local test run (which writes
``__pycache__/*.pyc``) changes the archive's hash and a preview shows a spurious code update. This archive
lists the files itself, in sorted order, and leaves out interpreter and tool caches.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

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
    """An archive of :func:`source_files`, each at its path relative to ``folder`` (the import root)."""
    root = Path(folder)
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(root / name)) for name in source_files(root)})
