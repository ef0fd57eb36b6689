"""The pack's audit of the dev stack against the pack as it was before it read every grant, side by side.

Both run the whole ``orderflow audit`` process (a fresh interpreter: imports, data loading, every rule, the report)
on the same synthesized dev stack, interleaved run by run so both see the same machine; the figures are medians.
The baseline is the pack at BASELINE_COMMIT, taken from git with ``git archive`` into a scratch folder that comes
first on the baseline process's path (the project's tools and the locked environment are shared).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

BASELINE_COMMIT = "900f8d9"
"""The last commit before the pack judged resource-based and trust policies, providers and danger."""
RUN = "import sys; from tools.cli import main; sys.exit(main(['audit', sys.argv[1]]))"


def extract(root: Path, commit: str, into: Path) -> Path:
    """``policy/`` as it was at ``commit``, unpacked under ``into``; returns ``into``."""
    archive = subprocess.run(["git", "archive", "--format=tar", commit, "policy"], cwd=root, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4+ (PEP 706); Debian 12's 3.11.2 has no filters
            tar.extractall(into, filter="data")
        else:
            _refuse_unsafe(tar.getmembers())
            tar.extractall(into)  # members checked above
    return into


def _refuse_unsafe(members: list[tarfile.TarInfo]) -> None:
    """What PEP 706's ``data`` filter refuses that ``git archive`` could hold: absolute or escaping paths, links."""
    for member in members:
        path = Path(member.name)
        if path.is_absolute() or ".." in path.parts or member.issym() or member.islnk():
            raise RuntimeError(f"refusing to extract {member.name!r} from the baseline archive")


def _seconds(cwd: Path, root: Path, export: Path) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(cwd), str(root)])}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUN, str(export)], cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - started, done.returncode


def _which_pack(cwd: Path, root: Path) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(cwd), str(root)])}
    return subprocess.run([sys.executable, "-c", "import policy; print(policy.__file__)"], cwd=cwd, env=env,
                          capture_output=True, text=True, check=True).stdout.strip()


def measure(root: Path, export: Path, repeats: int = 15) -> dict[str, Any]:
    """``audit_seconds`` (ours), ``audit_baseline_seconds`` and ``audit_ratio``: medians of ``repeats`` interleaved
    runs of the whole process on ``export``; the exit codes of both (0 for a clean stack)."""
    with tempfile.TemporaryDirectory() as scratch:
        baseline = extract(root, BASELINE_COMMIT, Path(scratch))
        if not _which_pack(baseline, root).startswith(str(baseline)):
            raise RuntimeError("the baseline process does not import the extracted pack")
        _seconds(root, root, export), _seconds(baseline, root, export)  # compile and cache bytecode, warm the disk
        ours, base, codes = [], [], set()
        for _ in range(repeats):
            seconds, code = _seconds(root, root, export)
            ours.append(seconds)
            seconds_base, code_base = _seconds(baseline, root, export)
            base.append(seconds_base)
            codes.add((code, code_base))
    mine, theirs = statistics.median(ours), statistics.median(base)
    (code, code_base), *_ = codes
    return {"audit_seconds": round(mine, 3), "audit_baseline_seconds": round(theirs, 3),
            "audit_ratio": round(mine / theirs, 3), "audit_exit_codes": {"ours": code, "baseline": code_base},
            "audit_baseline": f"the pack at {BASELINE_COMMIT} (git archive)", "audit_runs": repeats}
