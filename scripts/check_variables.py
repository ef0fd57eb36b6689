"""Refuse variables given to make that the Makefile does not read, naming the one that was meant.

    python3 scripts/check_variables.py NAME=VALUE... -- KNOWN...

One ``error:`` line per unknown variable on stderr, then exit 2: a lower-case variable names its upper-case form
(``stack=prod`` -> ``STACK=prod``: make's variables are case-sensitive, so ``stack`` would be ignored and the
default stack used), a near miss its nearest variable (difflib), anything else the list of variables. Exit 0
when nothing is given. Standard library only (it runs before any environment exists).
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


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("usage: python3 scripts/check_variables.py NAME=VALUE... -- KNOWN...", file=sys.stderr)
        return 2
    cut = argv.index("--")
    given, known = argv[:cut], argv[cut + 1:]
    for name in given:
        print(problem(name, known), file=sys.stderr)
    return 2 if given else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
