"""Run orders through any emulated program, in small steps every program shares.

``open_stage`` (deploy the export into moto; one worker per event source mapping, each with its queue, its DLQ and
its service's adapter), ``seed`` (each service's table through its own ledger code), ``drive`` (one poller per
worker, faults on every worker, one execution per order started with its own trace header, EventBridge rules played
for ended executions, until everything is quiet), ``collect`` (each execution's end, one history per outcome, each
ledger read back, every dead letter) and ``judge`` (``tools.emulator.judge``). ``run_program`` chains them;
``run_orders`` is the inventory program's call (its INVENTORY alone)."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.emulator import dynamodb_contention, invariants, quotas
from tools.emulator.deploy import Deployment, WorkerSpec, deploy
from tools.emulator.eventbridge import Rules
from tools.emulator.faults import Faults, Injector
from tools.emulator.inputs import InputError
from tools.emulator.invariants import Ended, Invariant
from tools.emulator.judge import Ledger, judge
from tools.emulator.least_privilege import Check, prove
from tools.emulator.poller import Poller, PollerStats, worker_logger
from tools.emulator.services import SERVICES, Service, service_of
from tools.emulator.trace import TraceWatch, new_header, root_of

__all__ = ["Collected", "Driven", "InputError", "OrderRun", "RunResult", "Stage", "Worker", "collect", "drive",
           "execution_names", "judge_run", "open_stage", "run_orders", "run_program", "seed", "stop_running"]

EXECUTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
"""A name Step Functions accepts, matched against the whole string (``fullmatch``)."""


@dataclass
class OrderRun:
    index: int
    order: Any
    order_id: str | None
    execution: str
    arn: str | None = None
    status: str = "NOT_STARTED"
    result: str = "FAILED"
    reason: str | None = None
    duration: float | None = None
    output: Any = None
    trace_header: str | None = None
    """The X-Ray trace header the execution was started with."""


@dataclass
class RunResult:
    deployment: Deployment
    runs: list[OrderRun]
    inventory: dict[str, int]
    dead_letters: int
    histories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    least_privilege: list[Check] = field(default_factory=list)
    poller_stats: dict[str, int] = field(default_factory=dict)
    invariants: list[Invariant] = field(default_factory=list)
    injected: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    """From the first execution started to the end of the run."""
    contention: dict[str, Any] = field(default_factory=dict)
    """``{"transactionConflicts": n, "conflictRetries": n, "throttled": {<api>: n}}``: conflicts and retries counted
    at the emulated DynamoDB (``dynamodb_contention``), calls refused by an API quota (``quotas``)."""
    counters: dict[str, dict[str, int]] = field(default_factory=dict)
    """Each known service's final counters by its summary key (``inventory``, ``credit``)."""
    kept: tuple[str, ...] = ("RESERVED",)
    """The results that mean an order was kept (``RESERVED``; the order workflow's ``COMPLETED``)."""
    services: list[Service] = field(default_factory=list)
    workers: dict[str, dict[str, int]] = field(default_factory=dict)
    """Each worker's poller counts, by function name."""
    events: dict[str, int] = field(default_factory=dict)
    """EventBridge rules played: ``events``, ``delivered``, ``refused``, ``notPlayed`` (``eventbridge.Rules``)."""
    transitions: int = 0
    """State transitions of every execution of the run (``quotas.transitions``)."""
    sends: int = 0
    """Messages the state machine sent through its SQS integration (``quotas.integration_sends``)."""

    @property
    def credit(self) -> dict[str, int] | None:
        """Final credit per customer (the payment service's counters), or None when the program has none."""
        return self.counters.get("credit")

    @property
    def reserved_share(self) -> tuple[int, int]:
        """(kept orders, orders the counters allowed): see ``invariants.reserved_share``; a program of other
        services counts its kept results, and every technical failure of an order each service finds valid."""
        rows = [(r.order, r.result, r.status) for r in self.runs]
        if self.kept == ("RESERVED",):
            return invariants.reserved_share(rows)
        kept = sum(1 for _, result, _ in rows if result in self.kept)
        lost = sum(1 for order, result, status in rows if result == "FAILED" and status not in
                   ("NOT_STARTED", "ABORTED") and all(s.demand_of(order) is not None for s in self.services))
        return kept, kept + lost


def _execution_name(order: Any, index: int, taken: set[str]) -> tuple[str | None, str]:
    """(order id, execution name): the order id when it is a valid name, else ``order-NNNNN`` made unique against
    ``taken`` (the run's usable order ids and the fallback names already given), which it joins."""
    order_id = order.get("orderId") if isinstance(order, dict) else None
    order_id = order_id if isinstance(order_id, str) else None
    if order_id and EXECUTION_NAME.fullmatch(order_id):
        return order_id, order_id
    name = f"order-{index:05d}"
    while name in taken:
        name += "_"
    taken.add(name)
    return order_id, name


def execution_names(orders: list[Any]) -> list[tuple[str | None, str]]:
    """Every order's (order id, execution name); a fallback name never equals an order id of the run."""
    taken = {o["orderId"] for o in orders if isinstance(o, dict) and isinstance(o.get("orderId"), str)
             and EXECUTION_NAME.fullmatch(o["orderId"])}
    return [_execution_name(order, i, taken) for i, order in enumerate(orders)]


def _start_one(sfn: Any, sm_arn: str, name: str, text: str, trace_header: str | None = None) -> str:
    """StartExecution, waiting out throttling as an order intake would (the SDK's own retries come first)."""
    pause = 0.1
    traced = {"traceHeader": trace_header} if trace_header else {}
    while True:
        try:
            return str(sfn.start_execution(stateMachineArn=sm_arn, name=name, input=text, **traced)["executionArn"])
        except ClientError as error:
            if error.response["Error"]["Code"] != "ThrottlingException":
                raise
            time.sleep(pause)
            pause = min(2.0, pause * 2)


def _input_text(order: Any) -> str:
    """The execution input as a client sends it: UTF-8 JSON, escaped only where UTF-8 cannot hold it (a lone
    surrogate), so its size is what Step Functions counts."""
    text = json.dumps(order, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(order)
    return text


def _start(sfn: Any, sm_arn: str, runs: list[OrderRun], rate: float | None = None) -> None:
    started: dict[str, OrderRun] = {}
    began = time.time()
    for n, run in enumerate(runs):
        if rate:  # orders arrive over time, not all at once
            time.sleep(max(0.0, began + n / rate - time.time()))
        text = _input_text(run.order)
        run.trace_header = new_header()
        try:
            run.arn = _start_one(sfn, sm_arn, run.execution, text, run.trace_header)
            started[run.execution] = run
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in ("ValidationException", "InvalidExecutionInput"):  # refused by Step Functions: not started
                run.status, run.result, run.reason = "NOT_STARTED", "FAILED", code
                continue
            if code != "ExecutionAlreadyExists":
                raise
            first = started.get(run.execution)
            # As on AWS: the same name with the same input while it runs is the same execution.
            if first and _input_text(first.order) == text and first.arn and \
                    sfn.describe_execution(executionArn=first.arn)["status"] == "RUNNING":
                run.arn, run.trace_header = first.arn, first.trace_header
            else:
                run.status, run.result, run.reason = "NOT_STARTED", "FAILED", "ExecutionAlreadyExists"


def _settle(sfn: Any, run: OrderRun) -> None:
    if not run.arn:
        return
    desc = sfn.describe_execution(executionArn=run.arn)
    run.status = desc["status"]
    if "stopDate" in desc:
        run.duration = (desc["stopDate"] - desc["startDate"]).total_seconds()
    output = json.loads(desc["output"]) if desc.get("output") else None
    run.output = output
    if run.status == "SUCCEEDED":  # the output's own status (RESERVED, COMPLETED, REJECTED), else SUCCEEDED
        status = output.get("status") if isinstance(output, dict) else None
        run.result = status if isinstance(status, str) and status else "SUCCEEDED"
        run.reason = output.get("reason") if isinstance(output, dict) and run.result == "REJECTED" else None
    else:  # the failure path names the underlying error as its cause; an uncaught States.* error is its own
        run.result = "FAILED"  # reason (the emulator's own fault keeps its cause, which says so)
        error, cause = desc.get("error") or "", desc.get("cause") or ""
        own = error.startswith("States.") and not cause.startswith("emulator fault")
        run.reason = error if own else cause or error or run.status


@dataclass
class Worker:
    """One worker as a run plays it: its spec, its service's adapter (None: a service the emulator does not know,
    run without seeding) and, while the run drives, its poller."""

    spec: WorkerSpec
    service: Service | None
    poller: Poller | None = None

    @property
    def kept_statuses(self) -> tuple[str, ...]:
        """What a SUCCEEDED execution's output status must be to keep this worker's hold: the worker's
        ``KEPT_STATUSES`` (``orderflow_runtime.contract``), else its ledger's held status."""
        given = self.spec.function.environment.get("KEPT_STATUSES", "")
        statuses = tuple(s.strip() for s in given.split(",") if s.strip())
        return statuses or ((self.service.layout.held_status,) if self.service else ())


@dataclass
class Stage:
    """A run's shared state: what ``open_stage`` deployed, passed through every later step."""

    d: Deployment
    workers: list[Worker]
    rules: Rules
    traces: TraceWatch = field(default_factory=TraceWatch)
    initial: dict[str, dict[str, int]] = field(default_factory=dict)
    """Each known service's seeded counters by its summary key."""
    injector: Injector | None = None

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.d.region)

    @property
    def ledgers(self) -> list[Worker]:
        """The first worker of each known service (its table is the service's)."""
        seen: dict[str, Worker] = {}
        for worker in self.workers:
            if worker.service and worker.spec.table and worker.service.package not in seen:
                seen[worker.service.package] = worker
        return list(seen.values())

    @property
    def kept(self) -> tuple[str, ...]:
        """The results that mean an order was kept: every known service's kept statuses, in order, once each."""
        statuses = [s for w in self.ledgers for s in w.kept_statuses]
        return tuple(dict.fromkeys(statuses)) or ("RESERVED",)


def open_stage(export: dict[str, Any], project_folder: Path | None = None) -> Stage:
    """Deploy ``export`` into the active moto mock; one Worker per event source mapping."""
    d = deploy(export, project_folder)
    workers = [Worker(spec, service_of(spec.function.handler)) for spec in d.workers()]
    return Stage(d, workers, Rules(d))


def seed(stage: Stage, counters: dict[str, dict[str, int]]) -> None:
    """Seed each known service's table with ``counters[<its variable>]`` (``INVENTORY``, ``ACCOUNTS``; absent:
    none) through its own ledger code. Raises InputError (a SeedError) for a counter DynamoDB refuses."""
    ddb = stage.client("dynamodb")
    for worker in stage.ledgers:
        assert worker.service and worker.spec.table
        given = counters.get(worker.service.variable, {})
        worker.service.seed(ddb, worker.spec.table, given)
        stage.initial[worker.service.summary_key] = dict(given)


@dataclass
class Driven:
    """What ``drive`` measured."""

    seconds: float
    stats: dict[str, int]
    workers: dict[str, dict[str, int]]


def _hooks(stage: Stage, extra: dict[str, Any], worker_log: IO[str] | None) -> tuple[Any, Any]:
    """(on_environment, before_invoke) for every poller: the caller's, the injector's, the log's, the trace watch
    last (it sees what the worker is handed)."""
    injector = stage.injector
    on_env = [h for h in (extra.pop("on_environment", None), injector and injector.on_environment,
                          worker_log and _log_to(worker_log)) if h]
    before = [h for h in (extra.pop("before_invoke", None) or (injector and injector.before_invoke),
                          stage.traces.observe) if h]

    def before_invoke(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for hook in before:
            records = hook(records)
        return records
    return (lambda module: [hook(module) for hook in on_env]), before_invoke


def drive(stage: Stage, runs: list[OrderRun], *, timeout: float | None = None,
          on_progress: Callable[[int, int, str], None] | None = None,
          prepare: Callable[[Deployment], dict[str, Any]] | None = None, faults: Faults | None = None,
          worker_log: IO[str] | None = None, rate: float | None = None) -> Driven:
    """Start a poller per worker and one execution per order; wait until every execution has ended, every work
    queue is empty and no invocation runs (twice in a row), or ``timeout`` seconds."""
    d, sfn, sqs = stage.d, stage.client("stepfunctions"), stage.client("sqs")
    dynamodb_contention.reset()
    quotas.reset()
    extra = prepare(d) if prepare else {}
    queues = [w.spec.queue_url for w in stage.workers]
    stage.injector = Injector(faults, queues[0], _heartbeat(d), queues) if faults else None
    on_environment, before_invoke = _hooks(stage, extra, worker_log)
    if stage.injector:
        stage.injector.put_poison()
    for worker in stage.workers:
        worker.poller = Poller(worker.spec.function, worker.spec.mapping, worker.spec.queue_url,
                               on_environment=on_environment, before_invoke=before_invoke, **extra).start()
    started = time.time()
    try:
        _start(sfn, d.state_machine_arn, runs, rate)
        total = len({r.arn for r in runs if r.arn})
        deadline = started + (timeout or _longest(sqs, stage.workers, d))
        waits, idle = Waiting(sqs, stage.workers), 0
        while time.time() < deadline:
            time.sleep(0.5)
            _play_rules(stage, sfn)
            running = _running(sfn, d.state_machine_arn)
            depth = sum(_depth(sqs, q) for q in queues)
            busy = sum(w.poller.busy for w in stage.workers if w.poller)
            if on_progress:
                on_progress(total - running, total, waits.line(running, busy))
            idle = idle + 1 if not running and not depth and not busy else 0
            if idle >= 2:  # twice in a row: a message between receive and invocation is seen the second time
                break
    finally:
        _stop_pollers(stage, worker_log)
    per_worker = {w.spec.name: vars(w.poller.stats).copy() for w in stage.workers if w.poller}
    total_stats = {k: sum(s[k] for s in per_worker.values()) for k in vars(PollerStats())}
    return Driven(time.time() - started, total_stats, per_worker)


def _stop_pollers(stage: Stage, worker_log: IO[str] | None) -> None:
    for worker in stage.workers:
        if worker.poller:
            worker.poller.stop()
            if worker_log:  # the logging handler is shared by every copy of the module, and outlives the file
                for module in worker.poller.environments:
                    if (logger := worker_logger(module)) is not None:
                        logger.registered_handler.setStream(sys.stdout)


TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def _play_rules(stage: Stage, sfn: Any) -> None:
    """Play the program's EventBridge rules for every execution newly ended with a status a rule can match."""
    if not stage.rules:
        return
    wanted: set[str] = set()
    for rule in stage.d.rules:
        status = (rule.pattern.get("detail") or {}).get("status") if isinstance(rule.pattern, dict) else None
        wanted |= set(status) & set(TERMINAL) if isinstance(status, list) else set(TERMINAL)
    played = stage.rules.played
    for status in sorted(wanted):
        for arn in _executions(sfn, stage.d.state_machine_arn, status):
            if arn not in played:
                stage.rules.ended(sfn.describe_execution(executionArn=arn))


@dataclass
class Collected:
    """The end state of a run."""

    histories: dict[str, list[dict[str, Any]]]
    snapshots: dict[str, Any]
    """Each known service's ledger snapshot, by summary key."""
    dead_letters: list[str]


def collect(stage: Stage, runs: list[OrderRun]) -> Collected:
    """Settle every run, keep one event history per result, read every ledger, take every dead letter."""
    sfn, sqs, ddb = stage.client("stepfunctions"), stage.client("sqs"), stage.client("dynamodb")
    for run in runs:
        _settle(sfn, run)
    histories: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        if run.arn and run.result not in histories:
            histories[run.result] = sfn.get_execution_history(executionArn=run.arn)["events"]
    snapshots = {w.service.summary_key: w.service.read(ddb, w.spec.table)
                 for w in stage.ledgers if w.service and w.spec.table}
    dlqs = dict.fromkeys(w.spec.dlq_url for w in stage.workers if w.spec.dlq_url)
    letters = [body for url in dlqs if url for body in _bodies(sqs, url)]
    return Collected(histories, snapshots, letters)


def judge_run(stage: Stage, runs: list[OrderRun], collected: Collected) -> list[Invariant]:
    """Every invariant of ``tools.emulator.judge`` on the collected end state."""
    ended = list({r.arn: Ended(r.arn, r.status, r.output, r.order) for r in runs if r.arn}.values())
    ledgers = [Ledger(w.service, w.kept_statuses, stage.initial.get(w.service.summary_key, {}),
                      collected.snapshots[w.service.summary_key].counters,
                      collected.snapshots[w.service.summary_key].records)
               for w in stage.ledgers if w.service]
    expected = {r.arn: root for r in runs if r.arn and (root := root_of(r.trace_header))}
    stage.traces.untraced_by_design |= {sent["messageId"] for sent in stage.rules.sent}
    return judge(ended, ledgers, collected.dead_letters, stage.injector.poison if stage.injector else [],
                 stage.traces.check(expected))


def run_program(export: dict[str, Any], orders: list[Any], counters: dict[str, dict[str, int]], *,
                project_folder: Path | None = None, timeout: float | None = None,
                on_progress: Callable[[int, int, str], None] | None = None,
                prepare: Callable[[Deployment], dict[str, Any]] | None = None,
                check_least_privilege: bool = True, faults: Faults | None = None,
                worker_log: IO[str] | None = None, rate: float | None = None) -> RunResult:
    """Deploy ``export`` (a program run in ``project_folder``; default the repository's root) into moto, seed each
    known service from ``counters`` (by variable: ``{"INVENTORY": {...}, "ACCOUNTS": {...}}``), run every order to
    its end and judge it; everything happens in this process. Options as ``run_orders``."""
    logging.getLogger("moto").setLevel(logging.CRITICAL)  # a failed execution is an outcome here, not an error
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        stage = open_stage(export, project_folder)
        seed(stage, counters)
        checks = prove(stage.d) if check_least_privilege else []
        runs = [OrderRun(i, order, *names) for i, (order, names) in enumerate(zip(orders, execution_names(orders),
                                                                                  strict=True))]
        driven = drive(stage, runs, timeout=timeout, on_progress=on_progress, prepare=prepare, faults=faults,
                       worker_log=worker_log, rate=rate)
        collected = collect(stage, runs)
        found = judge_run(stage, runs, collected)
        contention = {**dynamodb_contention.snapshot(), "throttled": quotas.throttled()}
        transitions, sends = quotas.transitions(), quotas.integration_sends()
        stop_running(stage.d.state_machine_arn)
    finals = {key: dict(snapshot.counters) for key, snapshot in collected.snapshots.items()}
    return RunResult(stage.d, runs, finals.get("inventory", {}), len(collected.dead_letters), collected.histories,
                     checks, driven.stats, found, stage.injector.injected() if stage.injector else {},
                     driven.seconds, contention, finals, stage.kept, [w.service for w in stage.ledgers if w.service],
                     driven.workers, dict(stage.rules.counts), transitions, sends)


def run_orders(export: dict[str, Any], orders: list[Any], inventory: dict[str, int], *,
               timeout: float | None = None, on_progress: Callable[[int, int, str], None] | None = None,
               prepare: Callable[[Deployment], dict[str, Any]] | None = None,
               check_least_privilege: bool = True, faults: Faults | None = None,
               worker_log: IO[str] | None = None, rate: float | None = None) -> RunResult:
    """Deploy ``export`` into moto and run every order to its end; everything happens in this process.

    The run ends when every execution has ended, the work queue is empty and no invocation is running (a
    stalled one included), or after ``timeout`` seconds (default: the longest an execution and a poison
    message can take). ``prepare`` may return Poller keyword arguments once the stack is deployed;
    ``worker_log`` receives the worker's log lines (else they go to standard output, as in Lambda);
    ``rate`` spreads the orders' arrival (executions started per second; default all at once). ``on_progress``
    gets (executions ended, executions started, what the run waits for: a phrase) every half second.
    """
    return run_program(export, orders, {"INVENTORY": inventory}, timeout=timeout, on_progress=on_progress,
                       prepare=prepare, check_least_privilege=check_least_privilege, faults=faults,
                       worker_log=worker_log, rate=rate)


def _seed(ddb: Any, table: str, inventory: dict[str, int]) -> None:
    """Put each sku's stock through the inventory's ledger (``services``); a sku or stock DynamoDB refuses (key
    over 2,048 bytes, number over 38 digits) is bad input, named as such (InputError)."""
    SERVICES["inventory"].seed(ddb, table, inventory)


def stop_running(sm_arn: str) -> None:
    """moto runs each execution in a thread that outlives the mock: one left running would later write into
    the next run's resources of the same name (its timeout path sends a message to the queue)."""
    sfn = boto3.client("stepfunctions", region_name=sm_arn.split(":")[3])
    arns = running_executions(sfn, sm_arn)
    quotas.reset(scale=0)  # the emulator's own cleanup is no customer traffic: no quota applies
    try:
        for arn in arns:
            sfn.stop_execution(executionArn=arn, error="EmulatorShutdown")
    finally:
        quotas.reset()


def _log_to(stream: IO[str]) -> Callable[[ModuleType], None]:
    def hook(module: ModuleType) -> None:
        if (logger := worker_logger(module)) is not None:
            logger.registered_handler.setStream(stream)
    return hook


def _heartbeat(d: Deployment) -> int:
    """The longest HeartbeatSeconds of the orchestrating definition's tasks."""
    return max(int(s["HeartbeatSeconds"]) for s in d.state_machine_definition["States"].values()
               if "HeartbeatSeconds" in s)


def _queue_bounds(sqs: Any, url: str) -> tuple[int, int]:
    """(visibility timeout in seconds, maxReceiveCount; 0 without a redrive policy) of a work queue."""
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "RedrivePolicy"])["Attributes"]
    policy = attrs.get("RedrivePolicy")
    return int(attrs["VisibilityTimeout"]), int(json.loads(policy)["maxReceiveCount"]) if policy else 0


def _longest(sqs: Any, workers: list[Worker], d: Deployment) -> int:
    """An execution's own bound, then a poison message's way to the DLQ on the slowest queue, plus room to settle."""
    longest = max(visibility * (receives + 1) for visibility, receives in
                  (_queue_bounds(sqs, w.spec.queue_url) for w in workers))
    return int(d.state_machine_definition.get("TimeoutSeconds", 3600)) + longest + 60


class Waiting:
    """What the run waits for, in words, once the executions are counted: the progress line of `make local`."""

    def __init__(self, sqs: Any, workers: list[Worker]) -> None:
        self._sqs, self._workers = sqs, workers
        bounds = [_queue_bounds(sqs, w.spec.queue_url) for w in workers]
        self.visibility = max(b[0] for b in bounds)
        self.receives = max(b[1] for b in bounds)

    def line(self, running: int, busy: int) -> str:
        """``""`` while executions run (the count says it); then the queues, the dead letters and the invocations."""
        if running:
            return f"waiting for {running} execution(s) to end"
        counts = [_counts(self._sqs, w.spec.queue_url) for w in self._workers]
        visible, in_flight = sum(c[0] for c in counts), sum(c[1] for c in counts)
        dlqs = dict.fromkeys(w.spec.dlq_url for w in self._workers if w.spec.dlq_url)
        dead = sum(sum(_counts(self._sqs, url)) for url in dlqs if url)
        queues = "the work queue" if len(self._workers) == 1 else f"the {len(self._workers)} work queues"
        if visible or in_flight:
            return (f"waiting for {queues} to drain: {visible} visible, {in_flight} in flight (a failed "
                    f"delivery comes back after the {self.visibility} s visibility timeout; a message no worker "
                    f"can answer moves to the dead-letter queue once received {self.receives} times "
                    f"(maxReceiveCount); {dead} there now)")
        if busy:
            return f"waiting for {busy} invocation(s) still running"
        return "checking that the queue and the poller stay idle"


def _counts(sqs: Any, url: str) -> tuple[int, int]:
    """(visible and delayed, in flight) messages of a queue."""
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return (int(attrs.get("ApproximateNumberOfMessages", 0)) + int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
            int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)))


def _depth(sqs: Any, url: str) -> int:
    """Messages on the queue. In-flight ones are counted first: one whose visibility timeout ends between the two
    readings is counted twice rather than not at all (one reading counts visible and in-flight at two instants)."""
    total = 0
    for names in (["ApproximateNumberOfMessagesNotVisible"],
                  ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]):
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        total += sum(int(attrs.get(n, 0)) for n in names)
    return total


def _bodies(sqs: Any, url: str) -> list[str]:
    """Every message body on the queue (they stay there, hidden for the rest of the run)."""
    bodies: list[str] = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=3600).get("Messages"):
        bodies += [m["Body"] for m in got]
    return bodies


def _running(sfn: Any, sm_arn: str) -> int:
    return len(running_executions(sfn, sm_arn))


def running_executions(sfn: Any, sm_arn: str) -> list[str]:
    """ARNs of the state machine's RUNNING executions. A page token names an execution: when that one ends
    between two pages the token is refused (InvalidToken), and the listing starts over."""
    return _executions(sfn, sm_arn, "RUNNING")


def _executions(sfn: Any, sm_arn: str, status: str) -> list[str]:
    """ARNs of the state machine's executions of one status, listed again from the start on InvalidToken."""
    while True:
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=sm_arn, statusFilter=status)
        try:
            return [e["executionArn"] for page in pages for e in page["executions"]]
        except ClientError as error:
            if error.response["Error"]["Code"] != "InvalidToken":
                raise
