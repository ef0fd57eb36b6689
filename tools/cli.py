"""One entry for the project's tools: `orderflow <command> [arguments]`; each command is a module's main(argv).

Exit codes, the same for every command: 0 ok, 1 a violation or a broken invariant, 2 bad input (or a bad
command line), 3 an internal error (a fault of the tool, not of the input: one line says so and where the full
traceback was written), 4 an operation on a deployed stack failed part-way (``stock``, ``smoke``: what was
written and what was not is named), 130 interrupted (Ctrl-C). ``orderflow <command> --help`` shows the command's own options.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

INTERNAL_ERROR = 3
"""Exit code of an unexpected error inside a command (apart from 1, a violation, and 2, bad input)."""
OPERATION_FAILED = 4
"""Exit code of an operation on a deployed stack that failed part-way (some writes made, others not, each listed)."""
INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT, as a shell reports it)."""


class Command(NamedTuple):
    module: str
    summary: str


COMMANDS: dict[str, Command] = {
    "synth": Command("tools.synth", "run the program under Pulumi mocks and write a `pulumi stack export`"),
    "audit": Command("policy.audit", "evaluate the policy pack on a stack export; 1 on a blocking violation"),
    "local": Command("tools.local", "deploy a stack into the in-process emulator and run orders end to end"),
    "bench": Command("tools.bench.__main__", "measure against the tutorial's design (about 8 minutes)"),
    "roles": Command("tools.roles", "write the identity policies of a stack's CI roles (preview, deploy, smoke)"),
    "smoke": Command("tools.smoke", "run a few orders against a deployed stack and check the invariants"),
    "stock": Command("tools.stock", "set stock levels in a deployed stack's table from an INVENTORY file"),
}


def _parser() -> argparse.ArgumentParser:
    listing = "\n".join(f"  {name:7} {command.summary}" for name, command in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="orderflow",
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"commands:\n{listing}\n\nexit codes: 0 ok, 1 violation or broken invariant, 2 bad input, "
               f"3 internal error (the traceback goes to a file), 4 an operation on a deployed stack failed "
               f"part-way (stock, smoke), 130 interrupted",
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
    return guarded(args.command, lambda: importlib.import_module(command.module).main(argv[1:]))


def guarded(command: str, run: Callable[[], int | None]) -> int:
    """``run()``'s exit code; an unexpected exception is one ``error:`` line naming the file that holds its full
    traceback (``build/<command>-internal-error.log``, or a temporary file when build/ is not writable), exit 3;
    Ctrl-C is one line, exit 130. SystemExit (argparse: --help 0, a bad option 2) keeps its code."""
    try:
        return int(run() or 0)
    except SystemExit as exit_:
        return _code(exit_)
    except KeyboardInterrupt:
        print(f"error: orderflow {command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as error:
        where = _write_traceback(command)
        summary = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ")
        print(f"error: internal error in orderflow {command} ({summary[:200]}), not a problem of the input; the full "
              f"traceback is in {where} (include it in a report)", file=sys.stderr)
        return INTERNAL_ERROR


def _write_traceback(command: str) -> str:
    text = traceback.format_exc()
    try:
        path = Path("build") / f"{command}-internal-error.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return str(path)
    except OSError:
        with tempfile.NamedTemporaryFile("w", prefix=f"orderflow-{command}-", suffix=".log", delete=False) as file:
            file.write(text)
            return file.name


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
