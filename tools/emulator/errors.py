"""The error a command's input files raise: one class shared by the file readers (``tools.emulator.inputs``) and
the services' seeding (``tools.emulator.services``), so neither imports the other to raise it."""

from __future__ import annotations


class InputError(ValueError):
    """ORDERS, INVENTORY or ACCOUNTS cannot be used; ``str(error)`` is one line for the user, naming the variable."""
