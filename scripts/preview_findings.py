"""The policy pack's findings of a `pulumi preview`, as Markdown for the job summary and the pull request.

    python3 scripts/preview_findings.py PREVIEW_LOG --stack STACK > findings.md

Reads the preview's output (``pulumi preview --color never``) and copies its ``Policies:`` section, where the CLI
lists every pack that ran, each with its mandatory and advisory findings (pulumi/pulumi
pkg/backend/display/progress.go, ``printPolicies``): from that header to the next line that is not indented. The
first line is a marker (``<!-- orderflow-preview:STACK -->``) by which the workflow finds and updates its own
comment. Standard library only. Exit 0 with findings or none; 1 when the log has no Policies section (the
preview failed before the pack ran, or no pack ran) — the Markdown then says so; 2 on a bad command line.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def policies_section(text: str) -> list[str] | None:
    """The lines of the Policies section (without its header), or None when there is none."""
    lines = [ANSI.sub("", line.rstrip()) for line in text.splitlines()]
    if "Policies:" not in lines:
        return None
    section = []
    for line in lines[lines.index("Policies:") + 1:]:
        if line and not line.startswith(" "):
            break
        section.append(line)
    while section and not section[-1]:
        section.pop()
    return section


def counts(section: list[str]) -> dict[str, int]:
    """Findings per enforcement level (``- [mandatory]``, ``- [advisory]``, ``- [remediate]``)."""
    found = {"mandatory": 0, "advisory": 0, "remediate": 0}
    for line in section:
        match = re.match(r"\s*- \[(mandatory|advisory|remediate)\]", line)
        if match:
            found[match.group(1)] += 1
    return found


def markdown(stack: str, text: str | None) -> tuple[str, int]:
    marker = f"<!-- orderflow-preview:{stack} -->"
    section = policies_section(text) if text is not None else None
    if section is None:
        why = "no preview output" if text is None else "the preview printed no Policies section"
        return (f"{marker}\n### Policy pack on `{stack}`\n\n{why}: the pack did not report (see the job's log).\n",
                1)
    n = counts(section)
    head = (f"{n['mandatory']} mandatory, {n['advisory']} advisory" +
            (f", {n['remediate']} remediate" if n["remediate"] else ""))
    body = "\n".join(section) if section else "(no findings)"
    return f"{marker}\n### Policy pack on `{stack}`: {head}\n\n```\n{body}\n```\n", 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--stack", required=True)
    args = parser.parse_args(argv)
    try:
        text: str | None = args.log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = None
    out, code = markdown(args.stack, text)
    sys.stdout.write(out)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
