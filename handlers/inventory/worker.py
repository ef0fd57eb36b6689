"""The inventory's functions on the callback runtime: decide a check, release on the failure path, settle holds.

- a check: validate the order (``inventory.orders``), reserve (idempotent per order, see ``inventory.stock`` for
  the order contract), answer: reserved -> success ``{orderId, status: "RESERVED", items}``; OutOfStock /
  UnknownSku / InvalidOrder -> a rejection with that error name;
- a release (``action: "release"``, sent by the state machine's failure path) gives back what its execution
  reserved, and leaves a record so that a late delivery of the check cannot reserve any more;
- settling (``orderflow_runtime.runtime.SettleHooks``): an accepted answer settles its hold
  (``inventory.holds``) when its own status is a kept one (see below); a message that can never be answered gives
  back what it reserved; a dead token (TaskTimedOut, TaskDoesNotExist, InvalidToken) releases the stock this order
  reserved unless its execution succeeded with it (``kept``).

Kept statuses (``orderflow_runtime.contract.KEPT_STATUSES``, default ``DEFAULT_KEPT``: the answer's own
``RESERVED``, right when the check is the execution's last task): the output statuses of a SUCCEEDED execution
that mean it kept its reservation. A workflow that goes on after the check (the order workflow sets
``COMPLETED``) leaves an accepted reservation unsettled until its execution's fate says kept or ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderflow_runtime.envelope import Envelope
from orderflow_runtime.runtime import Answer, SettleHooks, TransientError, Worker
from orderflow_runtime.tasks import Kept, TaskClient, kept_by, output_status

from inventory.envelope import RELEASE, log_keys, order_id_of
from inventory.orders import ORDER_ID, Rejection, parse_order
from inventory.stock import Outcome, Stock

DEFAULT_KEPT = ("RESERVED",)
"""The kept statuses when ``KEPT_STATUSES`` is unset: the check's own answer ends the execution."""


kept: Kept = kept_by(DEFAULT_KEPT)
"""A DescribeExecution response -> True when the execution succeeded with its reservation (``DEFAULT_KEPT``)."""


def answer_of(outcome: Outcome) -> Answer:
    """The task's answer for an order's recorded outcome (RESERVED or REJECTED); the outcome rides along."""
    if outcome.reserved:
        return Answer(output=outcome.output(), status=outcome.status, held=outcome)
    return Answer(error=outcome.reason, cause=outcome.detail, status=outcome.status, held=outcome)


class InventoryWorker:
    """The stock functions the runtime calls: ``stock`` (the table), ``tasks`` (the Step Functions calls),
    ``logger`` (the worker's Powertools Logger), ``kept_statuses`` (see the module doc)."""

    def __init__(self, stock: Stock, tasks: TaskClient, logger: Any,
                 kept_statuses: tuple[str, ...] = DEFAULT_KEPT) -> None:
        self.stock = stock
        self.tasks = tasks
        self.logger = logger
        self.kept_statuses = frozenset(kept_statuses)
        self.kept: Kept = kept_by(kept_statuses)

    def runtime_worker(self) -> Worker:
        """These functions, as the runtime takes them."""
        settle = SettleHooks(accepted=self.accepted, unanswerable=self.give_back, dead_token=self.settle_dead_token,
                             done=self.done)
        return Worker(decide=self.decide, compensations={RELEASE: self.release}, settle=settle, log_keys=log_keys)

    def decide(self, envelope: Envelope, deadline: float | None) -> Answer | None:
        """The order's answer; None for a stale check (its order was released and its token is dead)."""
        try:
            order = parse_order(envelope.work_item)
        except Rejection as rejection:
            return answer_of(Outcome(status="REJECTED", reason=rejection.reason, detail=rejection.detail))
        outcome = self.stock.reserve(order, envelope.execution, deadline=deadline)
        if outcome.status != "RELEASED":
            return answer_of(outcome)
        if not self.tasks.token_is_live(envelope.token):
            self.tasks.describe(envelope.execution)  # an execution that never existed: unanswerable, to the DLQ
            self.logger.warning("check for a released order with a dead task token; message deleted",
                                extra={"released_by": outcome.execution})
            return None
        outcome = self.stock.reserve(order, envelope.execution, over_released=True, deadline=deadline)
        if outcome.status == "RELEASED":
            raise TransientError("the order's record is still RELEASED after a fresh decision")
        return answer_of(outcome)

    def accepted(self, envelope: Envelope, answer: Answer) -> None:
        """The answer was accepted: a reservation of this execution is settled (its hold counts as kept) when the
        answer's status is a kept one (the answer ended the execution with it); else its fate tells later."""
        outcome: Outcome = answer.held
        if outcome.reserved and outcome.execution == envelope.execution \
                and output_status(answer.output) in self.kept_statuses:  # its execution succeeded with it
            self.stock.settled.add([item.sku for item in outcome.items], outcome.hold)

    def done(self, answer: Answer) -> None:
        """The answer was sent (accepted or not): this environment no longer answers for its hold."""
        self.stock.settled.end(answer.held.hold)

    def give_back(self, envelope: Envelope, answer: Answer) -> bool:
        """Release what this message's execution holds for the order; False when it holds nothing."""
        outcome: Outcome = answer.held
        if not (outcome.reserved and outcome.execution == envelope.execution):
            return False
        return self.stock.release(outcome.order_id, outcome.items, envelope.execution, hold=outcome.hold)

    def settle_dead_token(self, envelope: Envelope, answer: Answer, execution: Mapping[str, Any],
                          code: str) -> dict[str, Any]:
        """The task is gone: keep the stock only if its execution succeeded with this reservation."""
        outcome: Outcome = answer.held
        owned = outcome.reserved and outcome.execution == envelope.execution
        if execution["status"] == "RUNNING" and owned:
            raise TransientError(f"{code} while the execution still runs; deciding when it ends")
        if self.kept(execution):
            if owned:
                self.stock.settled.add([item.sku for item in outcome.items], outcome.hold)
            return {"released": False}
        return {"released": self.give_back(envelope, answer)}

    def release(self, envelope: Envelope, deadline: float | None) -> str:
        """The execution is on its failure path: give back what it reserved, unless it succeeded with it."""
        order_id = order_id_of(envelope.work_item)
        if not order_id or not ORDER_ID.fullmatch(order_id):
            self.logger.info("release: the order has no valid id, so nothing was reserved for it")
            return "NOTHING_TO_RELEASE"
        if self.kept(self.tasks.describe(envelope.execution)):
            self.logger.warning("release refused: the execution succeeded with its reservation")
            return "KEPT"
        result = self.stock.abandon(order_id, envelope.execution, deadline)
        self.logger.info("released", extra={"result": result})
        return result
