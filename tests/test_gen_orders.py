"""`python -m tools.gen_orders`: the README's commands write into folders that do not exist yet; bad arguments
exit 2 naming the option, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def gen_orders(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.gen_orders", *args], cwd=ROOT, capture_output=True,
                          text=True, check=False)


def test_writes_into_new_folders_with_accounts(tmp_path: Path) -> None:
    out = tmp_path / "build" / "wf"
    done = gen_orders("--count", "40", "--seed", "3", "--orders", str(out / "orders.json"),
                      "--inventory", str(out / "sub" / "inventory.json"), "--accounts", str(out / "accounts.json"))
    assert done.returncode == 0, done.stderr
    orders = json.loads((out / "orders.json").read_text())
    accounts = json.loads((out / "accounts.json").read_text())
    assert len(orders) == 40
    assert all({"orderId", "items", "customerId", "amountCents"} <= set(o) for o in orders)
    assert accounts["cust-hal"] == 0  # the customer with no credit
    assert set(json.loads((out / "sub" / "inventory.json").read_text())) >= {"SKU-DATE", "SKU-FIG"}


@pytest.mark.parametrize(("args", "message"), [
    (["--count", "0"], "argument --count: 0 is not at least 1"),
    (["--count", "many"], "argument --count: 'many' is not a whole number"),
    (["--count", "3", "--orders", "{blocker}/orders.json"], "--orders {blocker}/orders.json: cannot write it"),
    (["--count", "3", "--accounts", "{blocker}/a.json"], "--accounts {blocker}/a.json: cannot write it"),
])
def test_bad_arguments_exit_2_naming_the_option(tmp_path: Path, args: list[str], message: str) -> None:
    blocker = tmp_path / "a-file"  # a file where a folder is needed
    blocker.write_text("")
    defaults = {"--orders": str(tmp_path / "o.json"), "--inventory": str(tmp_path / "i.json")}
    given = [a.format(blocker=blocker) for a in args]
    for option, value in defaults.items():
        if option not in given:
            given += [option, value]
    done = gen_orders(*given)
    assert done.returncode == 2
    assert message.format(blocker=blocker) in done.stderr
    assert "Traceback" not in done.stderr
