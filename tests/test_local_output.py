"""What `make local` prints, as a CI log shows it: 80 columns, no terminal, JSON not Python reprs."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import tools.local
from tools.emulator.deploy import Deployment
from tools.emulator.faults import Faults
from tools.emulator.invariants import Invariant
from tools.emulator.least_privilege import Check, worker_labels
from tools.emulator.report import branches, detail, show
from tools.emulator.run import OrderRun, RunResult
from tools.local import PROGRESS_SECONDS, _progress_lines, fault_warnings, summary

PREFIX = "orderflow-dev-inventory-"
WORKER, SM = f"{PREFIX}worker-role", f"{PREFIX}sm-role"
QUEUE = "arn:aws:sqs:eu-west-1:123456789012:orderflow-dev-inventory-queue"
EXECUTIONS = "arn:aws:states:eu-west-1:123456789012:execution:orderflow-dev-inventory-sm:some-order"


def _runs() -> list[OrderRun]:
    cause = "items[0].quantity must be a JSON integer >= 1"
    return [
        OrderRun(0, {}, "order-1001", "order-1001", "arn:1", "SUCCEEDED", "RESERVED", None, 0.21,
                 {"orderId": "order-1001", "status": "RESERVED", "items": []}),
        OrderRun(1, {}, "order-1002", "order-1002", "arn:2", "SUCCEEDED", "REJECTED", "InvalidOrder", 0.3,
                 {"status": "REJECTED", "reason": "InvalidOrder", "cause": cause, "execution": "order-1002"}),
        OrderRun(2, 42, None, "order-00002", "arn:3", "FAILED", "FAILED", "States.HeartbeatTimeout", 36.0, None),
        OrderRun(3, {}, "o-" + "x" * 90, "order-00003", "arn:4", "SUCCEEDED", "REJECTED", "UnknownSku", 0.2,
                 {"status": "REJECTED", "reason": "UnknownSku", "cause": "sku 'Z' is not in the inventory"}),
    ]


def _result(contention: dict[str, Any] | None = None) -> RunResult:
    checks = [Check(WORKER, "states:DescribeExecution", EXECUTIONS, True, True, "policy engine", "own executions"),
              Check(WORKER, "sqs:GetQueueAttributes", QUEUE, False, False, "call", "neighbour executions"),
              Check(SM, "dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/t", False, False,
                    "policy engine", "own table")]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = [{"id": 1, "type": "ExecutionStarted", "timestamp": start},
              {"id": 2, "type": "TaskStateEntered", "timestamp": start + timedelta(seconds=1),
               "stateEnteredEventDetails": {"name": "Check Inventory"}}]
    result = RunResult(Deployment(region="eu-west-1", played=["a"], in_process=["b"]), _runs(),
                       {"SKU-APPLE": 5, "Ä": 0}, 0, {"REJECTED": events}, checks, {"timeouts": 0},
                       [Invariant("final stock = initial - reserved", True, "every sku matches " * 6)],
                       {"stall": 0, "crashBeforeReserve": 0, "crashBeforeAnswer": 0}, 1.0)
    if contention is not None:
        result.contention = contention  # type: ignore[attr-defined]
    return result


def _render(result: RunResult) -> str:
    out = io.StringIO()
    show(Console(file=out, width=80, force_terminal=False, soft_wrap=True), result)
    return out.getvalue()


def test_every_table_fits_80_columns_and_cuts_no_name() -> None:
    text = _render(_result({"transactionConflicts": 3, "conflictRetries": 2, "throttled": {"dynamodb": 4}}))
    long = [line for line in text.splitlines() if len(line) > 80]
    assert not long, long
    assert "…" not in text
    words = set(text.split())  # nothing cut at the right edge: every word of every cell and caption is whole
    caption = "how: a real call with the role's credentials, or moto's IAM policy engine (engine) on the exact ARN"
    for word in [*caption.split(" "), "engine", "call", "neighbour", "executions", "want", "got", "secs"]:
        assert word in words, word
    for name in ("states:DescribeExecution", "sqs:GetQueueAttributes", "dynamodb:GetItem", "InvalidOrder",
                 "States.HeartbeatTimeout"):  # names stay whole on one line
        assert re.search(rf"(^|\s){re.escape(name)}(:?\s|:?$)", text, re.MULTILINE), name
    assert f"role: {PREFIX}<role>-role" in text
    assert "(no orderId)" in text and "None" not in text


def test_the_least_privilege_table_of_two_workers_and_a_machine_keeps_every_column() -> None:
    prefix = "order-workflow-dev-"
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/order-workflow-dev-payment"
    checks = [Check(f"{prefix}{role}-role", action, table, expected, expected, method, target)
              for role in ("inventory-worker", "payment-worker", "orders")
              for action, expected, method, target in [
                  ("states:DescribeExecution", True, "policy engine", "own executions"),
                  ("sqs:GetQueueAttributes", False, "call", "payment queue"),
                  ("dynamodb:UpdateItem", False, "policy engine", "inventory table")]]
    result = _result()
    result.least_privilege = checks
    text = _render(result)
    assert not [line for line in text.splitlines() if len(line) > 80]
    header = next(line for line in text.splitlines() if line.startswith("role "))
    assert header.split() == ["role", "action", "on", "want", "got", "how"]
    rows = [line.split() for line in text.splitlines() if line.startswith(("inventory-worker ", "payment-worker ",
                                                                            "orders "))]
    assert len(rows) == 9 and {row[-1] for row in rows} == {"engine", "call"}
    assert f"role: {prefix}<role>-role" in text


def test_contention_line_in_the_run_table() -> None:
    text = _render(_result({"transactionConflicts": 3, "conflictRetries": 2, "throttled": {"dynamodb": 4}}))
    assert re.search(r"^contention: transactionConflicts 3, conflictRetries 2 *$", text, re.MULTILINE)
    assert 'throttled: {"dynamodb": 4}' in text
    assert "contention: not counted" in _render(_result())


def test_detail_is_the_rejection_cause_only() -> None:
    assert [detail(r) for r in _runs()] == [None, "items[0].quantity must be a JSON integer >= 1", None,
                                             "sku 'Z' is not in the inventory"]


def test_summary_carries_detail_contention_and_inputs() -> None:
    contention = {"transactionConflicts": 1, "conflictRetries": 1, "throttled": {}}
    inputs = {"stack": "dev", "orders": "o.json", "inventory": "i.json", "summary": "s.json"}
    got = summary(_result(contention), [], None, inputs, [])
    assert [o["detail"] for o in got["orders"]] == [detail(r) for r in _runs()]
    assert got["contention"] == contention
    assert got["inputs"] == inputs
    assert summary(_result(), [], None, inputs, [])["contention"] == {}
    json.dumps(got)  # JSON all the way


@pytest.mark.parametrize(("faults", "injected", "warned"), [
    ("stall=1", {"stall": 0}, ["FAULTS stall: requested 1, injected 0 (a stall starts at the 10th reserving "
                               "check, one environment at a time, and this run reserved 1 order(s); use more orders)"]),
    ("stall=2", {"stall": 1}, ["FAULTS stall: requested 2, injected 1 (a stall starts at the 10th reserving "
                               "check, one environment at a time, and this run reserved 1 order(s); use more orders)"]),
    ("stall=1", {"stall": 1}, []),
    ("crash=0.1", {"crashBeforeReserve": 0, "crashBeforeAnswer": 0},
     ["FAULTS crash: requested 0.1, injected 0 (no draw hit at crash=0.1 over 4 order(s); raise it or use more "
      "orders)"]),
    ("crash=0.1", {"crashBeforeReserve": 0, "crashBeforeAnswer": 1}, []),
    ("poison=3,seed=5", {"poison": 3}, []),
    ("seed=5", {}, []),
])
def test_a_fault_injected_fewer_times_than_asked_is_a_warning(faults: str, injected: dict[str, int],
                                                               warned: list[str]) -> None:
    result = _result()
    result.injected = injected
    assert fault_warnings(Faults.parse(faults), result) == warned


def test_pictures_label_each_branch_with_its_errors(dev_export: dict[str, Any]) -> None:
    machine = next(r for r in dev_export["deployment"]["resources"] if r["type"] == "aws:sfn/stateMachine:StateMachine")
    labels = branches(json.loads(machine["inputs"]["definition"]))
    assert labels[("Check Inventory", "Notify Rejection")] == "OutOfStock / UnknownSku / InvalidOrder"
    assert labels[("Check Inventory", "Release Reservation")] == \
        "States.Timeout / States.HeartbeatTimeout\nany other error"
    assert labels[("Check Inventory", "End")] == "success"
    assert labels[("Release Reservation", "Order Failed")] == "success\nany other error"


def test_pictures_are_written_beside_the_summary(tmp_path: Path) -> None:
    from tools.emulator.report import pictures

    result = _result()
    result.deployment.state_machine_definition = {
        "StartAt": "A", "States": {"A": {"Type": "Task", "End": True,
                                         "Catch": [{"ErrorEquals": ["OutOfStock"], "Next": "B"}]},
                                   "B": {"Type": "Pass", "End": True}}}
    written = pictures(result, tmp_path / "pictures")
    assert [Path(p).parent for p in written] == [tmp_path / "pictures"]
    assert "OutOfStock" in Path(written[0]).read_text()


def test_progress_lines_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A log gets a line at most every PROGRESS_SECONDS (the run reports every half second)."""
    clock = [1000.0]
    monkeypatch.setattr(tools.local.time, "monotonic", lambda: clock[0])
    out = io.StringIO()
    report = _progress_lines(Console(file=out, width=80, force_terminal=False, soft_wrap=True))  # as main() makes it
    for done in range(0, 60, 2):  # 30 reports, half a second apart
        clock[0] += 0.5
        report(done, 150, f"waiting for {150 - done} execution(s) to end")
    assert out.getvalue().splitlines() == ["executions ended 38/150, running 112; waiting for 112 execution(s) to end"]
    for _ in range(21):  # every execution ended: the line says what the run still waits for
        clock[0] += 0.5
        report(150, 150, "waiting for the work queue to drain: 0 visible, 7 in flight")
    assert out.getvalue().splitlines()[-1] == ("executions ended 150/150, running 0; waiting for the work queue to "
                                               "drain: 0 visible, 7 in flight")
    assert PROGRESS_SECONDS == 10.0


@pytest.mark.parametrize(("order_id", "shown"), [
    ("o-1", "o-1"),
    ("o-1\n", '"o-1\\n"'),          # C06: differs from "o-1" only by a newline, and must read differently
    ("o-2\r\n", '"o-2\\r\\n"'),
    ("a\u2028b", '"a\\u2028b"'),      # a line separator would break the table's rows
    ("[bold]x", "\\[bold]x"),         # rich markup in an id is shown, not applied
    (None, "(no orderId)"),
])
def test_order_ids_read_as_they_are(order_id: str | None, shown: str) -> None:
    from tools.emulator.report import shown_id

    assert shown_id(order_id) == shown


@pytest.mark.parametrize(("names", "labels"), [
    (["orderflow-dev-inventory-worker"], ["worker"]),
    (["order-workflow-dev-inventory-worker", "order-workflow-dev-payment-worker"], ["inventory", "payment"]),
    (["a-worker", "b-worker", "c-worker"], ["a", "b", "c"]),
    (["svc-x-worker", "svc-x-worker-2"], ["worker", "worker-2"]),
    (["same-worker", "other-same-worker"], ["same", "other-same"]),
])
def test_worker_labels_name_each_worker_apart(names: list[str], labels: list[str]) -> None:
    assert list(worker_labels(names).values()) == labels
