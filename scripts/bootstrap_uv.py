"""Install a pinned uv into a private folder of the repository, never into the system Python.

    python3 scripts/bootstrap_uv.py VERSION DEST      # DEST/bin/uv afterwards

A distribution's Python is "externally managed" (PEP 668: https://peps.python.org/pep-0668/): pip refuses
to install into it, with or without ``--user``. So, in turn:

1. ``python3 -m venv DEST`` and that venv's pip installs ``uv==VERSION`` (pip's own configuration, mirrors
   and certificates apply);
2. where the venv cannot get pip (Debian and Ubuntu without the ``python3-venv`` package: "ensurepip is not
   available"), the uv wheel for this platform is found in PyPI's simple index in its JSON form (PEP 691:
   https://peps.python.org/pep-0691/), checked against the index's SHA-256, and its ``uv`` binary unpacked
   to ``DEST/bin/uv`` (a uv wheel carries the binary under ``uv-VERSION.data/scripts/``).

Standard library only; exit 2 with one line saying what to install when neither works.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import stat
import subprocess
import sys
import urllib.request
import venv
import zipfile
from io import BytesIO
from pathlib import Path

WHEEL_PLATFORMS = {
    ("Linux", "x86_64"): "manylinux_2_17_x86_64",
    ("Linux", "aarch64"): "manylinux_2_17_aarch64",
    ("Darwin", "x86_64"): "macosx_10_12_x86_64",
    ("Darwin", "arm64"): "macosx_11_0_arm64",
}
"""Platform tag of the uv wheel to unpack, by (system, machine); uv publishes these on PyPI."""
SIMPLE_INDEX = "https://pypi.org/simple/uv/"


def with_pip(version: str, dest: Path) -> bool:
    """Route 1: a private venv with pip. False when the venv gets no pip or pip fails."""
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(dest)
    except (subprocess.CalledProcessError, OSError):
        return False
    python = dest / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"uv=={version}"], check=False)
    return done.returncode == 0 and (dest / "bin" / "uv").exists()


def from_wheel(version: str, dest: Path) -> bool:
    """Route 2: unpack the binary of the platform's uv wheel from PyPI, its SHA-256 checked."""
    tag = WHEEL_PLATFORMS.get((platform.system(), platform.machine()))
    if tag is None:
        return False
    request = urllib.request.Request(SIMPLE_INDEX, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.load(response)["files"]
    prefix = f"uv-{version}-py3-none-{tag}"
    wheel = next((f for f in files if f["filename"].startswith(prefix) and f["filename"].endswith(".whl")), None)
    if wheel is None:
        return False
    with urllib.request.urlopen(wheel["url"], timeout=300) as response:
        data = response.read()
    if hashlib.sha256(data).hexdigest() != wheel["hashes"]["sha256"]:
        print(f"error: {wheel['filename']}: SHA-256 does not match PyPI's; not installed", file=sys.stderr)
        return False
    target = dest / "bin" / "uv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(BytesIO(data)) as archive:
        target.write_bytes(archive.read(f"uv-{version}.data/scripts/uv"))
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python3 scripts/bootstrap_uv.py VERSION DEST", file=sys.stderr)
        return 2
    version, dest = argv[0], Path(argv[1])
    if with_pip(version, dest):
        return 0
    shutil.rmtree(dest, ignore_errors=True)
    print(f"note: no pip in a venv here; fetching the uv {version} wheel from PyPI instead", file=sys.stderr)
    try:
        if from_wheel(version, dest):
            return 0
    except OSError as error:
        print(f"note: PyPI: {error}", file=sys.stderr)
    print(f"error: could not install uv {version} into {dest}: install python3-venv (Debian/Ubuntu: "
          f"apt-get install python3-venv) or uv itself (https://docs.astral.sh/uv/getting-started/installation/), "
          f"then run make again", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
