"""The uv every test uses: the Makefile's private, pinned copy (`.tools/bin/uv`, made by `make setup`), never one on
PATH. A fresh machine has no uv on PATH, so a test that looked there would pass only where someone installed one."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UV = ROOT / ".tools" / "bin" / "uv"
"""As the Makefile's ``UV := $(TOOLS)/bin/uv``."""


def project_uv() -> str:
    """The path of the Makefile's uv; fails the test (naming `make setup`) when it was never installed."""
    if not UV.is_file():
        pytest.fail(f"{UV} is missing: run `make setup` (every make target installs it first)")
    return str(UV)
