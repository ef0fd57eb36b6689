"""The SQS batch processor: records of one batch worked concurrently, each failure reported alone and logged.

Powertools' ``BatchProcessor`` with ``process_partial_response`` answers Lambda with ``batchItemFailures``
(the event source mapping's ``ReportBatchItemFailures``): only the records that raised come back to the queue,
and SQS moves one to the dead-letter queue after maxReceiveCount receives
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting,
https://docs.powertools.aws.dev/lambda/python/latest/utilities/batch/).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from orderflow_runtime.envelope import UnanswerableMessage
from orderflow_runtime.logs import redact

ERROR_LOG_CHARS = 2000
"""A failed record's error message is logged up to this many characters."""


class ConcurrentBatchProcessor(BatchProcessor):
    """Handles the records of one batch concurrently, at most ``workers`` at a time; logs every failure once
    (ERROR for an UnanswerableMessage, WARNING otherwise) with the error's class and message, the current
    record's task token (``token_of()``, read on the failing record's thread) replaced by ``<taskToken>``."""

    def __init__(self, workers: int, logger: Any, token_of: Callable[[], str] = lambda: "") -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="record")
        self._logger = logger
        self._token_of = token_of

    def process(self) -> list[tuple]:
        return list(self._pool.map(self._process_record, self.records))

    def failure_handler(self, record: Any, exception: Any) -> Any:
        error = exception[1]
        message = redact(str(error), self._token_of())
        log = self._logger.error if isinstance(error, UnanswerableMessage) else self._logger.warning
        log("record failed; SQS redelivers it, and moves it to the dead-letter queue after maxReceiveCount",
            extra={"error_class": type(error).__name__, "error": message[:ERROR_LOG_CHARS]})
        return super().failure_handler(record, exception)
