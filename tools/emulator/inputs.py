"""The input files of a run, read and checked before anything starts (INVENTORY only, in this form)."""

from __future__ import annotations

import json
from pathlib import Path


class InputError(ValueError):
    """ORDERS or INVENTORY cannot be used; ``str(error)`` is one line for the user."""


def load_inventory(path: str, variable: str = "INVENTORY") -> dict[str, int]:
    """The stock of ``path``: a JSON object mapping each sku (string) to a stock (integer >= 0), in units."""
    try:
        inventory = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{variable} {path}: no such file; give {variable}=<path to a JSON file>") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InputError(f"{variable} {path}: cannot read it as JSON: {error}") from None
    if not isinstance(inventory, dict) or not all(
        isinstance(k, str) and k and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in inventory.items()
    ):
        raise InputError(f"{variable} {path}: must be a JSON object mapping each sku to a stock integer >= 0")
    return inventory
