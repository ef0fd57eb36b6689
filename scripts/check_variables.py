"""Refuse variables given to make that the Makefile, or the targets asked for, do not read, naming the one meant.

    python3 scripts/check_variables.py NAME=VALUE... -- KNOWN... [-- GOAL... TARGET=VAR,VAR...]

One ``error:`` line per unknown variable on stderr, then exit 2: a lower-case variable names its upper-case form
(``stack=prod`` -> ``STACK=prod``: make's variables are case-sensitive, so ``stack`` would be ignored and the
default stack used), a near miss its nearest variable (difflib), anything else the list of variables. A known
variable that none of the goals reads (``make local ACCOUNT=x.json``: ``ACCOUNT`` is ``roles``') names the targets
that read it and, when one of the goals reads a near name, that name (``did you mean ACCOUNTS?``). Exit 0 when
nothing is given. Standard library only (it runs before any environment exists).
"""

from __future__ import annotations

import difflib
import sys


def problem(given: str, known: list[str]) -> str:
    """The error line for one unknown ``NAME=VALUE`` given to make."""
    name, _, value = given.partition("=")
    if name.upper() in known:
        return (f"error: {name}={value}: {name} is not a variable of this Makefile (variables are upper case); "
                f"give {name.upper()}={value}")
    close = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else f"variables: {' '.join(known)}"
    return f"error: {name}={value}: {name} is not a variable of this Makefile ({hint})"


def unread(given: str, goals: list[str], reads: dict[str, list[str]]) -> str:
    """The error line for a known ``NAME=VALUE`` that none of ``goals`` reads (``reads``: target -> variables)."""
    name, _, value = given.partition("=")
    readers = sorted(t for t, variables in reads.items() if name in variables)
    wanted = sorted({v for g in goals for v in reads.get(g, [])})
    close = difflib.get_close_matches(name, wanted, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else f"; {' '.join(goals)} reads {' '.join(wanted) or 'none'}"
    return (f"error: {name}={value}: make {' '.join(goals)} does not read {name} (read by "
            f"{', '.join(readers) or 'no target'}){hint}")


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("usage: python3 scripts/check_variables.py NAME=VALUE... -- KNOWN... [-- GOAL... TARGET=VAR,...]",
              file=sys.stderr)
        return 2
    cut = argv.index("--")
    given, rest = argv[:cut], argv[cut + 1:]
    known, tail = (rest[:rest.index("--")], rest[rest.index("--") + 1:]) if "--" in rest else (rest, [])
    goals = [a for a in tail if "=" not in a]
    reads = {t: [v for v in vs.split(",") if v] for t, _, vs in (a.partition("=") for a in tail if "=" in a)}
    read_by_some = {v for variables in reads.values() for v in variables}
    for name in given:
        unknown = name.partition("=")[0] not in read_by_some
        print(problem(name, known) if unknown else unread(name, goals, reads), file=sys.stderr)
    return 2 if given else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
