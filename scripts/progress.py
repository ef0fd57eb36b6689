"""Run a command that can be quiet for long, saying what it waits for: a line before, then one every 10 s.

    python3 scripts/progress.py "LABEL" -- COMMAND [ARG...]

Prints ``LABEL`` when the command starts and ``LABEL: still running (N s)`` every INTERVAL seconds until it ends;
the command's own output passes through untouched. Exits with the command's exit code (127 when it cannot be
started, 128+N when a signal N ended it). Standard library only: it runs before any environment exists.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

INTERVAL = 10.0
"""Seconds between two lines while the command runs (no documented command is silent longer)."""


def ticker(label: str, done: threading.Event, interval: float) -> None:
    started = time.monotonic()
    while not done.wait(interval):
        print(f"{label}: still running ({time.monotonic() - started:.0f} s)", flush=True)


def run(label: str, command: list[str], interval: float = INTERVAL) -> int:
    """Run ``command`` with a progress line every ``interval`` seconds; returns its exit code."""
    print(label, flush=True)
    try:
        process = subprocess.Popen(command)
    except OSError as error:
        print(f"error: {command[0]}: {error.strerror}", file=sys.stderr)
        return 127
    done = threading.Event()
    thread = threading.Thread(target=ticker, args=(label, done, interval), daemon=True)
    thread.start()

    def forward(signum: int, _frame: object) -> None:
        process.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    code = process.wait()
    done.set()
    thread.join()
    return 128 - code if code < 0 else code


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python3 scripts/progress.py LABEL -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    return run(argv[0], argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
