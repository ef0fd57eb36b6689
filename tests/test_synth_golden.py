"""The library split keeps every stack's resources: same types, URNs, parents, providers, protect flags,
dependencies and inputs as the exports synthesized before it (tests/fixtures/synth/, written by
``make synth STACK=<stack> OUT=...`` on the commit before the split; ``everything.json``: prod with
tests/test_synth_all_options.py's EVERYTHING).

The worker's ``code`` input is the archive of handlers/ as it is now (the worker runtime's files change with it):
it is compared with the archive the synth writes for the folder today, entry by entry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from orderflow.code_asset import source_archive

from tests.test_synth_all_options import EVERYTHING
from tools.synth import _plain, synthesize

FIXTURES = Path(__file__).parent / "fixtures" / "synth"
ROOT = Path(__file__).resolve().parent.parent
KEYS = ("type", "custom", "parent", "provider", "protect", "inputs")


def by_urn(export: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for r in export["deployment"]["resources"]:
        row = {k: r.get(k) for k in KEYS}
        row["dependencies"] = sorted(r.get("dependencies") or [])
        if r["type"] == "aws:lambda/function:Function":
            row["inputs"] = {**row["inputs"], "code": "<handlers/>"}
        found[r["urn"]] = row
    return found


def code_of(export: dict[str, Any]) -> Any:
    (fn,) = [r for r in export["deployment"]["resources"] if r["type"] == "aws:lambda/function:Function"]
    return fn["inputs"]["code"]


@pytest.mark.parametrize(("golden", "stack", "overrides"), [
    ("dev.json", "dev", {}), ("prod.json", "prod", {}), ("everything.json", "prod", EVERYTHING)])
def test_the_synth_keeps_every_resource(golden: str, stack: str, overrides: dict[str, str]) -> None:
    before = json.loads((FIXTURES / golden).read_text())
    now = synthesize(stack, config_overrides=overrides)
    old, new = by_urn(before), by_urn(now)
    assert sorted(new) == sorted(old)
    for urn, row in old.items():
        assert new[urn] == row, urn
    archive = _plain(source_archive(ROOT / "handlers"))
    assert json.loads(json.dumps(code_of(now))) == json.loads(json.dumps({**archive, "assets": {
        k: {**v, "path": f"handlers/{k}"} for k, v in archive["assets"].items()}}))
