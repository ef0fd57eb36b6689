"""Faults and invariants: FAULTS parsing, each invariant on a made-up end state, and a faulted run in moto."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Emulated
from tools.bench.throughput import simulated_aws
from tools.emulator.faults import Faults, FaultsError, Injector, poison_bodies
from tools.emulator.invariants import Ended, check
from tools.emulator.poller import worker_clients
from tools.emulator.run import run_orders
from tools.gen_orders import generate
from tools.synth import synthesize

# One row per FAULTS string: what it parses to, or the words its error must contain.
PARSING = [
    ("crash=0.2,duplicate=0.3,throttle=0.1,poison=7", {"crash": 0.2, "duplicate": 0.3, "throttle": 0.1, "poison": 7}),
    (" stall=2 , seed=9 ", {"stall": 2, "seed": 9}),
    ("", {}),
    ("crash=0.6", "crash must be a number from 0.0 to 0.5, got '0.6'"),
    ("crash=-0.1", "crash must be a number from 0.0 to 0.5"),
    ("throttle=lots", "throttle must be a number from 0.0 to 0.5, got 'lots'"),
    ("poison=1.5", "poison must be an integer from 0 to 1000, got '1.5'"),
    ("poison", "poison must be an integer from 0 to 1000"),
    ("stall=101", "stall must be an integer from 0 to 100"),
    ("stop=0.1,timeout=0.05", {"stop": 0.1, "timeout": 0.05}),
    ("stop=0.51", "stop must be a number from 0.0 to 0.5, got '0.51'"),
    ("timeout=-1", "timeout must be a number from 0.0 to 0.5, got '-1'"),
    ("explode=1", "unknown key 'explode'"),
]


@pytest.mark.parametrize(("text", "expected"), PARSING)
def test_faults_parsing(text: str, expected: dict[str, Any] | str) -> None:
    if isinstance(expected, str):
        with pytest.raises(FaultsError, match="FAULTS: " + expected.replace("(", r"\(").replace(")", r"\)")):
            Faults.parse(text)
        return
    faults = Faults.parse(text)
    assert {k: v for k, v in faults.requested().items() if v != getattr(Faults(), k)} == expected


def test_poison_bodies_are_distinct_and_carry_no_usable_token() -> None:
    bodies = poison_bodies(12)
    assert len(set(bodies)) == 12
    for body in bodies:
        try:
            data = json.loads(body)
        except ValueError:
            continue
        assert not isinstance(data, dict) or not data.get("taskToken") or "execution" not in data


ARN = "arn:aws:states:us-east-1:123456789012:execution:sm:"
RESERVED = {"status": "RESERVED", "items": [{"sku": "A", "quantity": 2}]}
POISON = ["not json"]
OUT_OF_STOCK = {"status": "REJECTED", "reason": "OutOfStock"}


def order(order_id: str, **items: int) -> dict[str, Any]:
    return {"orderId": order_id, "items": [{"sku": s, "quantity": q} for s, q in items.items()]}

FAILED_DLQ = json.dumps({"order": {}, "taskToken": "t", "execution": ARN + "f"})
GOOD: dict[str, Any] = {
    "executions": [Ended(ARN + "r", "SUCCEEDED", RESERVED), Ended(ARN + "f", "FAILED", None)],
    "initial": {"A": 5},
    "final": {"A": 3},
    "records": {"r": {"status": "RESERVED", "execution": ARN + "r"}, "f": {"status": "RELEASED", "execution": ARN + "f"}},
    "dead_letters": ["not json", FAILED_DLQ],
    "poison": POISON,
}

# One row per invariant broken (and the all-good state): what changes, and which invariant must fail.
BROKEN = [
    ({}, None),
    ({"executions": [*GOOD["executions"], Ended(ARN + "x", "RUNNING", None)]}, "every execution ends"),
    ({"final": {"A": 1}}, "final stock = initial - reserved"),  # a double reservation
    ({"final": {"A": 5}}, "final stock = initial - reserved"),  # a reservation given back twice
    ({"records": {"r": GOOD["records"]["r"], "f": {"status": "RESERVED", "execution": ARN + "f"}}},
     "reservation records = reserved executions"),  # a leak: the failed execution still holds stock
    ({"dead_letters": [FAILED_DLQ]}, "every poison message is in the DLQ"),
    ({"dead_letters": ["not json", json.dumps({"execution": ARN + "r"})]},
     "other DLQ messages belong to failed executions"),
    # refused for want of stock, yet the final stock (3 of A, nothing failed, nothing given back) covers it
    ({"executions": [GOOD["executions"][0], Ended(ARN + "o", "SUCCEEDED", OUT_OF_STOCK, order("o", A=3))],
      "records": {"r": GOOD["records"]["r"]}, "dead_letters": POISON},
     "no OutOfStock order whose demand the final stock covers"),
    # the same with a failed execution in the run: judged all the same (what it gave back was never its to hold)
    ({"executions": [*GOOD["executions"], Ended(ARN + "o", "SUCCEEDED", OUT_OF_STOCK, order("o", A=2))]},
     "no OutOfStock order whose demand the final stock covers"),
]

# The same refusal is right when the final stock cannot serve it (4 of A asked, 3 left).
SERVED_RIGHT = {"executions": [GOOD["executions"][0], Ended(ARN + "o", "SUCCEEDED", OUT_OF_STOCK, order("o", A=4))],
                "records": {"r": GOOD["records"]["r"]}, "dead_letters": POISON}


def test_an_out_of_stock_the_final_stock_cannot_serve_holds() -> None:
    results = check(**{**GOOD, **SERVED_RIGHT})
    assert [i.name for i in results if not i.holds] == []
    assert results[-1].detail == "1 refused, none covered"


@pytest.mark.parametrize(("change", "broken"), BROKEN)
def test_each_invariant_can_fail(change: dict[str, Any], broken: str | None) -> None:
    results = check(**{**GOOD, **change})
    assert [i.name for i in results if not i.holds] == ([broken] if broken else [])


@pytest.mark.parametrize(("rows", "share"), [
    ([("RESERVED", "SUCCEEDED"), ("FAILED", "FAILED")], (1, 2)),       # a valid order lost to a technical failure
    ([("RESERVED", "SUCCEEDED"), ("FAILED", "ABORTED")], (1, 1)),      # a cancelled order is not a lost one
    ([("RESERVED", "SUCCEEDED"), ("FAILED", "NOT_STARTED")], (1, 1)),
    ([("REJECTED", "SUCCEEDED"), ("FAILED", "TIMED_OUT")], (0, 1)),
])
def test_reserved_share(rows: list[tuple[str, str]], share: tuple[int, int]) -> None:
    from tools.emulator.invariants import reserved_share

    assert reserved_share([(order("o", A=1), result, status) for result, status in rows]) == share


@pytest.fixture(scope="module")
def faults_export() -> dict[str, Any]:
    """Function timeout 2 s (visibility 12 s, heartbeat 24 s): short, yet longer than the emulator's batches."""
    return synthesize("dev", config_overrides={"orderflow:functionTimeoutSeconds": "2"})


def test_faulted_run_keeps_every_invariant(faults_export: dict[str, Any]) -> None:
    orders, inventory = generate(60, seed=3)
    faults = Faults.parse("crash=0.2,duplicate=0.3,throttle=0.1,poison=4,stall=1")
    result = run_orders(faults_export, orders, inventory, faults=faults, check_least_privilege=False)
    assert [(i.name, i.detail) for i in result.invariants if not i.holds] == []
    injected = result.injected
    assert injected["crashBeforeReserve"] and injected["crashBeforeAnswer"], injected
    assert injected["duplicateInBatch"] + injected["duplicateOnQueue"] and injected["throttle"], injected
    assert injected["poison"] == 4 and injected["stall"] == 1, injected
    assert result.dead_letters >= 4, result.poller_stats
    assert all(r.status in ("SUCCEEDED", "FAILED") for r in result.runs)
    reserved, allowed = result.reserved_share
    assert reserved > 0 and reserved / allowed >= 0.9, (reserved, allowed)
    contention = result.contention
    assert set(contention) == {"transactionConflicts", "conflictRetries", "throttled"}, contention
    assert isinstance(contention["transactionConflicts"], int) and isinstance(contention["throttled"], dict)


def test_executions_ended_while_their_check_waits_keep_every_invariant(fast_export: dict[str, Any]) -> None:
    """Field case S1 as a fault: stopped and timed-out executions whose checks still reach the worker race a live
    order for the one unit of their sku (every call 20 ms, as the benchmark models AWS); no order is refused
    stock the final stock still holds."""
    orders = [{"orderId": f"{who}-{n}", "items": [{"sku": f"S{n}", "quantity": 1}]} for n in range(20) for who in "ab"]

    def slow(module: Any) -> None:
        for service, client in worker_clients(module):
            client.meta.events.register_first(f"before-send.{service}", lambda **_: time.sleep(0.02))

    result = run_orders(fast_export, orders, {f"S{n}": 1 for n in range(20)},
                        faults=Faults.parse("stop=0.4,timeout=0.1,seed=5"), check_least_privilege=False,
                        prepare=lambda d: {"on_environment": slow})
    assert [(i.name, i.detail) for i in result.invariants if not i.holds] == []
    assert result.injected["stopWhileWaiting"] > 0 and result.injected["timeoutWhileWaiting"] > 0, result.injected
    statuses = {r.status for r in result.runs}
    assert {"ABORTED", "FAILED", "SUCCEEDED"} <= statuses, statuses


# -- each fault kind against the emulated service's state (field case M2) -------------------------------------------
class Forced(Injector):
    """An injector whose draws come from a list (then never fire)."""

    def __init__(self, faults: Faults, queue_url: str, draws: list[float]) -> None:
        super().__init__(faults, queue_url, heartbeat_seconds=36)
        self.draws = list(draws)

    def _chance(self, p: float) -> float | None:
        return self.draws.pop(0) if self.draws and p > 0 else None


def check_message(e: Emulated, order_id: str, **skus: int) -> tuple[str, dict[str, Any]]:
    arn = e.start({"orderId": order_id, "items": [{"sku": s, "quantity": q} for s, q in skus.items()]}, order_id)
    (record,) = e.receive()
    return arn, record


def test_a_throttled_write_is_not_carried_out(emulated: Emulated) -> None:
    e = emulated
    e.seed({"A": 5})
    injector = Forced(Faults(throttle=0.5), e.d.work_queue_url, [0.0])  # the first HTTP attempt is throttled
    injector.on_environment(e.module)
    e.module.stock._ddb.update_item(TableName=e.d.table, Key={"pk": {"S": "SKU#A"}},
                                    UpdateExpression="SET stock = stock + :one",
                                    ExpressionAttributeValues={":one": {"N": "1"}})
    assert injector.injected()["throttle"] == 1
    assert e.stock("A") == 6  # the SDK's retry carried it out once, the throttled attempt not at all


def test_a_throttled_answer_is_not_carried_out(emulated: Emulated) -> None:
    e = emulated
    e.seed({"A": 5})
    arn, record = check_message(e, "o-throttled", A=1)
    token = json.loads(record["body"])["taskToken"]
    injector = Forced(Faults(throttle=0.5), e.d.work_queue_url, [0.0] * 20)  # every attempt of the first call
    injector.on_environment(e.module)
    with pytest.raises(ClientError) as error:
        e.module.sfn.send_task_success(taskToken=token, output=json.dumps({"answer": "throttled"}))
    assert error.value.response["Error"]["Code"] == "ThrottlingException"
    injector.draws.clear()  # from now on nothing is throttled
    e.module.sfn.send_task_success(taskToken=token, output=json.dumps({"answer": "heard"}))
    desc = e.wait(arn)
    assert json.loads(desc["output"])["answer"] == "heard"  # only the answer that got through counted


def test_a_crash_before_reserving_leaves_no_trace(emulated: Emulated) -> None:
    e = emulated
    e.seed({"A": 5})
    _, record = check_message(e, "o-crash1", A=2)
    injector = Forced(Faults(crash=0.5), e.d.work_queue_url, [0.0])  # under crash/2: before the transaction
    injector.on_environment(e.module)
    assert e.invoke([record]) == {record["messageId"]}
    assert injector.injected()["crashBeforeReserve"] == 1
    assert e.stock("A") == 5 and e.reservation("o-crash1") is None


def test_a_crash_before_answering_keeps_the_reservation_and_no_answer(emulated: Emulated) -> None:
    e = emulated
    e.seed({"A": 5})
    arn, record = check_message(e, "o-crash2", A=2)
    injector = Forced(Faults(crash=0.5), e.d.work_queue_url, [0.4])  # over crash/2: after the transaction
    injector.on_environment(e.module)
    assert e.invoke([record]) == {record["messageId"]}
    assert injector.injected()["crashBeforeAnswer"] == 1
    assert e.stock("A") == 3 and (e.reservation("o-crash2") or {})["status"]["S"] == "RESERVED"
    assert e.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"  # nobody answered


def test_a_duplicate_in_the_batch_reserves_once(emulated: Emulated) -> None:
    e = emulated
    e.seed({"A": 5})
    arn, record = check_message(e, "o-twin", A=2)
    injector = Forced(Faults(duplicate=0.5), e.d.work_queue_url, [0.0])
    batch = injector.before_invoke([record])
    assert [r["messageId"] for r in batch] == [record["messageId"], record["messageId"] + "-twin"]
    e.invoke(batch)
    assert e.wait(arn)["status"] == "SUCCEEDED"
    assert e.stock("A") == 3


def test_a_duplicate_on_the_queue_is_a_second_message(emulated: Emulated) -> None:
    e = emulated
    _, record = check_message(e, "o-copy", A=1)
    injector = Forced(Faults(duplicate=0.5), e.d.work_queue_url, [0.4])
    assert injector.before_invoke([record]) == [record]
    (copy,) = e.receive()
    assert copy["body"] == record["body"] and copy["messageId"] != record["messageId"]
    assert injector.injected()["duplicateOnQueue"] == 1


def test_poison_messages_are_put_on_the_queue(emulated: Emulated) -> None:
    e = emulated
    injector = Injector(Faults(poison=3), e.d.work_queue_url, 36)
    injector.put_poison()
    assert sorted(r["body"] for r in e.receive(count=3)) == sorted(poison_bodies(3))


def test_the_benchmark_simulated_latency_does_not_reach_the_service(emulated: Emulated) -> None:
    e = emulated
    e.seed({"A": 5})
    calls: list[str] = []
    simulated_aws(e.module, 0.0, calls)
    e.module.stock._ddb.update_item(TableName=e.d.table, Key={"pk": {"S": "SKU#A"}},
                                    UpdateExpression="SET stock = stock + :one",
                                    ExpressionAttributeValues={":one": {"N": "1"}})
    assert calls == ["before-send.dynamodb.UpdateItem"]
    assert e.stock("A") == 5
