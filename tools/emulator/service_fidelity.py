"""Where moto answers differently from AWS in what a run reports, made to answer as AWS does.

- **SQS message size.** SQS measures a message in bytes (the UTF-8 body plus its attributes) against the
  queue's ``MaximumMessageSize``; moto compares the body's length in characters, so a body of multi-byte
  characters passes where AWS refuses it. The emulator refuses it with SQS's own error
  (``InvalidParameterValue``: "Message must be shorter than N bytes").
  Source: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
  and https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html.
- **SendTaskFailure's cause.** moto's API layer drops ``cause``, so a rejection's reason (``$.Cause`` in the
  catching state: ``items[0].quantity must be a JSON integer >= 1``) never reaches the execution's output.
  It is passed on, as AWS does (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html).
- **StartExecution's input size.** Step Functions refuses an execution input over 262,144 bytes of UTF-8
  (the API's length constraint; the payload quota); moto starts it. The emulator refuses it with
  ``ValidationException``, so such an order is never started, as on AWS.
  Source: https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html and
  https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html.
- **JSON as Step Functions writes it.** moto's ASL interpreter serializes state data with ``json.dumps``'
  default ASCII escaping, so each non-ASCII character costs six bytes or more: a 205 KB order of such text
  becomes 610 KB, over the 256 KiB payload quota and the queue's message size, where Step Functions (which
  counts UTF-8 bytes) accepts it. The interpreter's serializer is made to write UTF-8 text.
  Source: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html (payload size, UTF-8).
"""

from __future__ import annotations

from inspect import signature
from typing import Any


def apply() -> None:
    """Idempotent: patch moto once per process."""
    from moto.sqs.models import SQSBackend

    if getattr(SQSBackend, "_orderflow_fidelity", False):
        return
    _sqs_size_in_bytes(SQSBackend)
    _task_failure_cause()
    _utf8_state_json()
    _start_execution_input_size()
    SQSBackend._orderflow_fidelity = True  # type: ignore[attr-defined]


def _sqs_size_in_bytes(backend: Any) -> None:
    from moto.sqs.exceptions import InvalidParameterValue

    original = backend._validate_message

    def validate(self: Any, queue: Any, message_body: str, *args: Any, **kwargs: Any) -> None:
        original(self, queue, message_body, *args, **kwargs)
        if len(message_body.encode("utf-8")) > int(queue.maximum_message_size):
            raise InvalidParameterValue(f"One or more parameters are invalid. Reason: Message must be shorter than "
                                        f"{queue.maximum_message_size} bytes.")

    backend._validate_message = validate


def _task_failure_cause() -> None:
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self: Any) -> Any:
        backend = self.stepfunction_backend  # the ASL interpreter's backend takes a cause; the plain one does not
        cause = {"cause": self._get_param("cause")} if "cause" in signature(backend.send_task_failure).parameters \
            else {}
        backend.send_task_failure(self._get_param("taskToken"), error=self._get_param("error"), **cause)
        return EmptyResult()

    StepFunctionResponse.send_task_failure = send_task_failure  # type: ignore[method-assign]


def _utf8_state_json() -> None:
    """Every interpreter module that imported ``to_json_str`` gets one that keeps non-ASCII text as is."""
    import json
    import sys

    from moto.stepfunctions.parser.asl.utils import encoding

    original = encoding.to_json_str

    def to_json_str(obj: Any, separators: tuple[str, str] | None = None) -> str:
        return json.dumps(obj, cls=encoding._DateTimeEncoder, separators=separators, ensure_ascii=False)

    encoding.to_json_str = to_json_str  # modules imported from now on take this one
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "to_json_str", None) is original:
            module.to_json_str = to_json_str  # type: ignore[attr-defined]


MAX_EXECUTION_INPUT_BYTES = 262_144
"""StartExecution's ``input``: at most 256 KiB as UTF-8 (API_StartExecution, length constraint)."""


def _start_execution_input_size() -> None:
    from moto.stepfunctions.exceptions import ValidationException
    from moto.stepfunctions.responses import StepFunctionResponse

    original = StepFunctionResponse.start_execution

    def start_execution(self: Any) -> Any:
        size = len(str(self._get_param("input", if_none="{}")).encode("utf-8", "surrogatepass"))
        if size > MAX_EXECUTION_INPUT_BYTES:
            raise ValidationException(f"1 validation error detected: Value at 'input' failed to satisfy constraint: "
                                      f"Member must have length less than or equal to {MAX_EXECUTION_INPUT_BYTES} "
                                      f"(got {size} bytes)")
        return original(self)

    StepFunctionResponse.start_execution = start_execution  # type: ignore[method-assign]
