"""The order workflow (examples/order-workflow) run end to end in the emulator: `make local PROGRAM=...` on the
example's samples, a run with stopped executions (the EventBridge stop rule's compensations), a flash sale, and the
issue's faulted acceptance run (long: ORDERFLOW_LONG=1)."""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tools.bench.flash_sale import NEAR_LIMIT, with_customers
from tools.bench.flash_sale import generate as flash_sale
from tools.emulator.faults import Faults
from tools.emulator.run import RunResult, run_program
from tools.gen_orders import generate, with_payments
from tools.local import main
from tools.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = ROOT / "examples" / "order-workflow"
SAMPLES = PROGRAM / "samples"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return synthesize("dev", program=PROGRAM, stack_file=PROGRAM / "Pulumi.dev.yaml")


def run(export: dict[str, Any], orders: list[Any], inventory: dict[str, int], accounts: dict[str, int],
        **options: Any) -> RunResult:
    return run_program(export, orders, {"INVENTORY": inventory, "ACCOUNTS": accounts}, project_folder=PROGRAM,
                       check_least_privilege=False, worker_log=io.StringIO(), **options)


def broken(result: RunResult) -> list[tuple[str, str]]:
    return [(i.name, i.detail) for i in result.invariants if not i.holds]


def test_make_local_runs_the_example_on_its_samples(tmp_path: Path) -> None:
    summary = tmp_path / "out" / "summary.json"
    assert main(["--program", str(PROGRAM), "--summary", str(summary)]) == 0
    result = json.loads(summary.read_text())
    rows = [(o["orderId"], o["result"], o["reason"]) for o in result["orders"]]
    assert rows == [
        ("order-2001", "COMPLETED", None), ("order-2002", "COMPLETED", None),
        ("order-2003", "REJECTED", "OutOfStock"), ("order-2004", "REJECTED", "PaymentDeclined"),
        ("order-2005", "REJECTED", "UnknownCustomer"), ("order-2006", "REJECTED", "InvalidPayment"),
        ("order-2007", "REJECTED", "InvalidPayment"), ("order-2008", "REJECTED", "UnknownSku"),
        ("order-2009", "REJECTED", "InvalidOrder"), ("order-2010", "COMPLETED", None),
        ("order-2011", "REJECTED", "PaymentDeclined"), ("order-2012", "COMPLETED", None),
    ]
    assert result["inventory"] == {"SKU-APPLE": 5, "SKU-BANANA": 0, "SKU-CHERRY": 0}  # 10 - 2 - 3; 3 - 1 - 2
    assert result["credit"] == {"cust-ada": 500, "cust-bob": 400, "cust-eve": 0}  # 5000 - 1500 - 2000 - 1000
    assert result["inputs"] == {"stack": "dev", "program": str(PROGRAM), "orders": str(SAMPLES / "orders.json"),
                                "inventory": str(SAMPLES / "inventory.json"),
                                "accounts": str(SAMPLES / "accounts.json"), "summary": str(summary)}
    assert all(i["holds"] for i in result["invariants"]), result["invariants"]
    names = [i["name"] for i in result["invariants"]]
    assert {"per order inventory and payment both kept or neither", "trace context reaches every worker",
            "no PaymentDeclined order whose demand the final credit covers"} <= set(names)
    assert set(result["workers"]) == {"order-workflow-dev-inventory-worker", "order-workflow-dev-payment-worker"}
    checks = result["leastPrivilege"]
    assert checks and all(c["expected"] == c["allowed"] for c in checks)
    assert {(c["on"], c["expected"]) for c in checks if c["action"] == "dynamodb:PutItem"} == {
        ("own table", True), ("neighbour table", False), ("payment table", False), ("inventory table", False)}
    assert {c["on"] for c in checks if c["role"] == "order-workflow-dev-orders-role"} == {
        "inventory queue", "payment queue", "neighbour queue", "inventory table", "payment table"}
    sm_sends = [(c["resource"].rsplit(":", 1)[1], c["allowed"]) for c in checks
                if c["role"] == "order-workflow-dev-orders-role" and c["action"] == "sqs:SendMessage"]
    assert sorted(sm_sends) == [("neighbour-queue", False), ("order-workflow-dev-inventory-queue", True),
                                ("order-workflow-dev-payment-queue", True)]
    completed = next(p for p in result["pictures"] if Path(p).stem == "completed")
    text = Path(completed).read_text()
    assert "Reserve Inventory" in text and "Authorize Payment" in text


def test_stopped_executions_are_compensated_through_the_stop_rule(workflow: dict[str, Any]) -> None:
    orders, inventory = generate(24, seed=5)
    orders, accounts = with_payments(orders, seed=5)
    result = run(workflow, orders, inventory, accounts, faults=Faults.parse("stop=0.4,seed=3"))
    assert broken(result) == []
    aborted = [r for r in result.runs if r.status == "ABORTED"]
    assert aborted and result.injected["stopWhileWaiting"] == len(aborted)
    # one status-change event per ended execution; each stopped one sends a release and a void
    assert result.events["delivered"] == 2 * len(aborted) and "refused" not in result.events, result.events


def test_a_flash_sale_ends_with_no_failed_order_and_nothing_held(workflow: dict[str, Any]) -> None:
    orders, inventory = flash_sale(60, hot=2)
    orders, accounts = with_customers(orders)
    result = run(workflow, orders, inventory, accounts, rate=25.0)
    assert broken(result) == []
    results = Counter(r.result for r in result.runs)
    assert results["FAILED"] == 0 and results["COMPLETED"] and results["REJECTED"], results
    reasons = Counter(r.reason for r in result.runs if r.result == "REJECTED")
    assert reasons["OutOfStock"] and set(reasons) <= {"OutOfStock", "PaymentDeclined"}, reasons
    # which orders get the hot stock depends on arrival, so whether the customer near the limit is declined does
    # too (the samples' run asserts declines exactly); what holds every time: only they are declined, and their
    # credit went to their completed orders and nothing else
    declined = {r.order["customerId"] for r in result.runs if r.reason == "PaymentDeclined"}
    assert declined <= {NEAR_LIMIT}
    paid = sum(r.order["amountCents"] for r in result.runs
               if r.result == "COMPLETED" and r.order["customerId"] == NEAR_LIMIT)
    assert result.credit is not None and result.credit[NEAR_LIMIT] == accounts[NEAR_LIMIT] - paid >= 0


@pytest.mark.skipif(not os.environ.get("ORDERFLOW_LONG"), reason="about 20 minutes (the example's 180 s visibility "
                    "timeout: a crashed delivery waits for it, a poison message five times); ORDERFLOW_LONG=1 runs it")
def test_the_faulted_acceptance_run_keeps_every_invariant(workflow: dict[str, Any]) -> None:
    orders, inventory = generate(100, seed=3)
    orders, accounts = with_payments(orders, seed=3)
    result = run(workflow, orders, inventory, accounts,
                 faults=Faults.parse("crash=0.2,duplicate=0.3,throttle=0.1,poison=5"))
    assert broken(result) == []
    reasons = Counter(r.reason for r in result.runs if r.result == "REJECTED")
    assert reasons["OutOfStock"] and reasons["PaymentDeclined"], reasons
    assert result.injected["poison"] == 10 and result.dead_letters >= 10
