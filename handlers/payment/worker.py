"""The payment's functions on the callback runtime: decide an authorization, void on the failure path, settle holds.

- an authorization: validate the payment (``payment.requests``), authorize (idempotent per order, see
  ``payment.credit``), answer: authorized -> success ``{orderId, status: "AUTHORIZED", customerId, amountCents}``;
  PaymentDeclined / UnknownCustomer / InvalidPayment -> a rejection with that error name;
- a void (``action: "void"``, sent by the workflow's failure path, or on a stopped or timed-out execution) gives
  back what its execution authorized, and leaves a record so that a late authorization cannot take any more;
- settling (``orderflow_runtime.runtime.SettleHooks``): an accepted answer settles its hold when its status is a
  kept one; a message that can never be answered gives back what it authorized; a dead token voids the order's
  authorization unless its execution succeeded with it (``kept``).

Kept statuses (``orderflow_runtime.contract.KEPT_STATUSES``, default ``DEFAULT_KEPT``: the answer's own
``AUTHORIZED``): the output statuses of a SUCCEEDED execution that mean it kept its authorization (the order
workflow sets ``COMPLETED``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderflow_runtime.envelope import Envelope
from orderflow_runtime.logs import scalar
from orderflow_runtime.runtime import Answer, Rejection, SettleHooks, TransientError, Worker
from orderflow_runtime.tasks import Kept, TaskClient, kept_by, output_status

from payment.credit import LAYOUT, Credit, Outcome
from payment.requests import ORDER_ID, parse_payment

VOID = "void"
"""The compensation action: give back what the execution authorized."""
DEFAULT_KEPT = (LAYOUT.held_status,)
"""The kept statuses when ``KEPT_STATUSES`` is unset: the authorization's own answer ends the execution."""
ORDER_ID_LOG_CHARS = 100


def log_keys(order: Any) -> dict[str, Any]:
    """The order id for every log line of a record, before anything is checked (shortened; a value that is not a
    string or a number shows as its JSON type)."""
    order_id = order.get("orderId") if isinstance(order, dict) else None
    return {"order_id": scalar(order_id, ORDER_ID_LOG_CHARS)}


def answer_of(outcome: Outcome) -> Answer:
    """The task's answer for a payment's recorded outcome (AUTHORIZED or REJECTED); the outcome rides along."""
    if outcome.authorized:
        return Answer(output=outcome.output(), status=outcome.status, held=outcome)
    return Answer(error=outcome.reason, cause=outcome.detail, status=outcome.status, held=outcome)


class PaymentWorker:
    """The credit functions the runtime calls: ``credit`` (the table), ``tasks`` (the Step Functions calls),
    ``logger`` (the worker's Powertools Logger), ``kept_statuses`` (see the module doc)."""

    def __init__(self, credit: Credit, tasks: TaskClient, logger: Any,
                 kept_statuses: tuple[str, ...] = DEFAULT_KEPT) -> None:
        self.credit = credit
        self.tasks = tasks
        self.logger = logger
        self.kept_statuses = frozenset(kept_statuses)
        self.kept: Kept = kept_by(kept_statuses)

    def runtime_worker(self) -> Worker:
        """These functions, as the runtime takes them."""
        settle = SettleHooks(accepted=self.accepted, unanswerable=self.give_back, dead_token=self.settle_dead_token,
                             done=self.done)
        return Worker(decide=self.decide, compensations={VOID: self.void}, settle=settle, log_keys=log_keys)

    def decide(self, envelope: Envelope, deadline: float | None) -> Answer | None:
        """The payment's answer; None for a stale authorization (its payment was voided and its token is dead)."""
        try:
            payment = parse_payment(envelope.work_item)
        except Rejection as rejection:
            return answer_of(Outcome(status="REJECTED", reason=rejection.error, detail=rejection.cause))

        def authorize(over_voided: bool) -> Outcome:
            return self.credit.authorize(payment.order_id, payment.customer_id, payment.amount_cents,
                                         envelope.execution, over_voided=over_voided, deadline=deadline)

        outcome = authorize(False)
        if outcome.status != LAYOUT.released_status:
            return answer_of(outcome)
        if not self.tasks.token_is_live(envelope.token):
            self.tasks.describe(envelope.execution)  # an execution that never existed: unanswerable, to the DLQ
            self.logger.warning("authorization for a voided payment with a dead task token; message deleted",
                                extra={"voided_by": outcome.execution})
            return None
        outcome = authorize(True)
        if outcome.status == LAYOUT.released_status:
            raise TransientError("the payment's record is still VOIDED after a fresh decision")
        return answer_of(outcome)

    def _owned(self, envelope: Envelope, answer: Answer) -> Outcome | None:
        """The answer's outcome when it is an authorization of this message's execution."""
        outcome: Outcome = answer.held
        return outcome if outcome.authorized and outcome.execution == envelope.execution else None

    def accepted(self, envelope: Envelope, answer: Answer) -> None:
        """The answer was accepted: an authorization of this execution is settled when the answer's status is a
        kept one (the answer ended the execution with it); else its execution's fate tells later."""
        outcome = self._owned(envelope, answer)
        if outcome is not None and output_status(answer.output) in self.kept_statuses:
            self.credit.settled.add([e.counter for e in outcome.entries], outcome.hold)

    def done(self, answer: Answer) -> None:
        """The answer was sent (accepted or not): this environment no longer answers for its hold."""
        self.credit.settled.end(answer.held.hold)

    def give_back(self, envelope: Envelope, answer: Answer) -> bool:
        """Void what this message's execution authorized for the payment; False when it holds nothing."""
        outcome = self._owned(envelope, answer)
        if outcome is None:
            return False
        return self.credit.give_back(outcome.work_id, outcome.entries, envelope.execution, hold=outcome.hold)

    def settle_dead_token(self, envelope: Envelope, answer: Answer, execution: Mapping[str, Any],
                          code: str) -> dict[str, Any]:
        """The task is gone: keep the credit taken only if its execution succeeded with this authorization."""
        outcome = self._owned(envelope, answer)
        if execution["status"] == "RUNNING" and outcome is not None:
            raise TransientError(f"{code} while the execution still runs; deciding when it ends")
        if self.kept(execution):
            if outcome is not None:
                self.credit.settled.add([e.counter for e in outcome.entries], outcome.hold)
            return {"voided": False}
        return {"voided": self.give_back(envelope, answer)}

    def void(self, envelope: Envelope, deadline: float | None) -> str:
        """The execution is on its failure path (or was stopped): give back what it authorized, unless it
        succeeded with it. Returns the result logged (``orderflow_runtime.ledger.Ledger.abandon``'s, or KEPT)."""
        work_item = envelope.work_item
        order_id = work_item.get("orderId") if isinstance(work_item, dict) else None
        if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
            self.logger.info("void: the order has no valid id, so nothing was authorized for it")
            return "NOTHING_TO_VOID"
        if self.kept(self.tasks.describe(envelope.execution)):
            self.logger.warning("void refused: the execution succeeded with its authorization")
            return "KEPT"
        result = self.credit.abandon(order_id, envelope.execution, deadline)
        self.logger.info("voided", extra={"result": result})
        return result
