"""One entry for the project's tools: `orderflow <command> [arguments]`; each command is a module's main(argv).

Exit codes, the same for every command: 0 ok, 1 a violation or a broken invariant, 2 bad input (or a bad
command line). ``orderflow <command> --help`` shows the command's own options.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from typing import NamedTuple


class Command(NamedTuple):
    module: str
    summary: str


COMMANDS: dict[str, Command] = {
    "synth": Command("tools.synth", "run the program under Pulumi mocks and write a `pulumi stack export`"),
    "audit": Command("policy.audit", "evaluate the policy pack on a stack export; 1 on a blocking violation"),
    "local": Command("tools.local", "deploy a stack into the in-process emulator and run orders end to end"),
    "bench": Command("tools.bench.__main__", "measure against the tutorial's design (about 8 minutes)"),
    "roles": Command("tools.roles", "write the identity policies of the CI roles (preview, deploy) of a stack"),
    "smoke": Command("tools.smoke", "run a few orders against a deployed stack and check the invariants"),
    "stock": Command("tools.stock", "set stock levels in a deployed stack's table from an INVENTORY file"),
}


def _parser() -> argparse.ArgumentParser:
    listing = "\n".join(f"  {name:7} {command.summary}" for name, command in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="orderflow",
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"commands:\n{listing}\n\nexit codes: 0 ok, 1 violation or broken invariant, 2 bad input",
    )
    parser.add_argument("command", choices=COMMANDS, metavar="command", help="one of: " + ", ".join(COMMANDS))
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the command's own arguments (see <command> --help)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``argv`` (default ``sys.argv[1:]``) to a command; returns its exit code."""
    if argv is None and hasattr(signal, "SIGPIPE"):  # as a command, `orderflow audit ... | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser()
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else 2
    try:
        args = parser.parse_args(argv[:1])
    except SystemExit as exit_:
        return _code(exit_)
    command = COMMANDS[args.command]
    sys.argv[0] = f"orderflow {args.command}"  # each command's --help and usage lines name what the user typed
    module = importlib.import_module(command.module)
    try:
        return int(module.main(argv[1:]) or 0)
    except SystemExit as exit_:  # argparse inside the command: --help (0) or a bad option (2)
        return _code(exit_)


def _code(exit_: SystemExit) -> int:
    """The exit code a SystemExit carries; a message instead of a code is bad input, printed as one line."""
    if exit_.code is None:
        return 0
    if isinstance(exit_.code, int):
        return exit_.code
    text = str(exit_.code)
    print(text if text.startswith("error: ") else f"error: {text}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
