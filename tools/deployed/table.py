"""The deployed inventory table as operator commands use it: one sku's stock read consistently, and every call
retried on DynamoDB's documented transient errors.

DynamoDB's error handling page lists which errors are "OK to retry"
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html, "Error messages and
codes"): among them ``TransactionConflictException`` (a plain write to an item inside a running
TransactWriteItems, "Transaction is ongoing for the item"), ``ProvisionedThroughputExceededException``,
``ThrottlingException``, ``RequestLimitExceeded``, ``InternalServerError`` and ``ServiceUnavailable``. botocore
retries the throttling and 5xx ones a few times itself, and ``TransactionConflictException`` never (it is not in
its retry table); ``retrying`` retries all of them, with full-jitter exponential back-off, on top.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from inventory.stock import LAYOUT
from orderflow_runtime.ledger import read_counter

T = TypeVar("T")

TRANSIENT_ERRORS = frozenset({"TransactionConflictException", "ProvisionedThroughputExceededException",
                              "ThrottlingException", "RequestLimitExceeded", "InternalServerError",
                              "ServiceUnavailable"})
"""DynamoDB errors documented as OK to retry that a command meets while others use the table."""
ATTEMPTS = 8
BASE_SECONDS = 0.05
CAP_SECONDS = 2.0
"""Back-off of attempt n: a uniform draw in [0, min(CAP, BASE x 2^n)]; 8 attempts wait about 4 s at most in all."""


class TransientExhausted(Exception):
    """A transient error came back on every attempt; ``code`` names it, ``str()`` says how often."""

    def __init__(self, error: ClientError, attempts: int) -> None:
        self.code = error.response["Error"]["Code"]
        message = error.response["Error"].get("Message", "")
        super().__init__(f"{self.code} on each of {attempts} attempts ({message})")


def transient(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in TRANSIENT_ERRORS


def retrying(call: Callable[[], T], attempts: int = ATTEMPTS, sleep: Callable[[float], None] = time.sleep) -> T:
    """``call()``, again after a back-off while it raises a transient DynamoDB error; TransientExhausted after
    ``attempts``. Any other error is raised at once."""
    for attempt in range(attempts):
        try:
            return call()
        except ClientError as error:
            if not transient(error):
                raise
            if attempt == attempts - 1:
                raise TransientExhausted(error, attempts) from error
            sleep(random.uniform(0, min(CAP_SECONDS, BASE_SECONDS * 2**attempt)))
    raise AssertionError("unreachable")


def read_stock(ddb: Any, table: str, sku: str) -> int | None:
    """The sku's stock (a strongly consistent read, ``orderflow_runtime.ledger.read_counter`` with the inventory's
    ``LAYOUT``); None when the sku has no item or no stock."""
    return retrying(lambda: read_counter(ddb, table, LAYOUT, sku))
