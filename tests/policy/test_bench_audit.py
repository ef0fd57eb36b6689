"""`make bench`'s audit section: the baseline is the pack at its pinned commit, run as the whole audit process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.bench import audit

ROOT = Path(__file__).resolve().parents[2]


def test_the_baseline_is_the_pack_at_its_commit(tmp_path: Path) -> None:
    pack = audit.extract(ROOT, audit.BASELINE_COMMIT, tmp_path) / "policy"
    assert (pack / "rules" / "iam_scoping.py").is_file()
    assert not (pack / "rules" / "_documents.py").exists()  # the model came after it
    assert audit._which_pack(tmp_path, ROOT) == str(pack / "__init__.py")


def test_both_audits_run_whole_and_are_compared(dev_export: dict[str, Any], tmp_path: Path) -> None:
    export = tmp_path / "dev.json"
    export.write_text(json.dumps(dev_export))
    found = audit.measure(ROOT, export, repeats=1)
    assert found["audit_exit_codes"] == {"ours": 0, "baseline": 0}
    # the figures are rounded to milliseconds, the ratio is of the unrounded medians
    assert abs(found["audit_ratio"] - found["audit_seconds"] / found["audit_baseline_seconds"]) < 0.01
    assert found["audit_baseline"] == "the pack at 900f8d9 (git archive)"
