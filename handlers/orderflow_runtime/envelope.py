"""The message envelope the callback task sends, checked whole before the worker writes or calls anything.

A task message is ``{TASK_TOKEN, EXECUTION, WORK_ITEM}`` (``ACTION`` absent or ``contract.TASK_ACTION``); a
compensation message is ``{ACTION: <one of the worker's compensation actions>, EXECUTION, WORK_ITEM}`` with no
token (keys from ``orderflow_runtime.contract``); a work item given as a string holding a JSON object is that object
(``work_item_of``). A body that is not one of these, an execution ARN that is not a
Standard execution's ARN, or a token Step Functions would refuse can never be answered: ``UnanswerableMessage``,
and the record is reported failed, so SQS moves it to the dead-letter queue after maxReceiveCount receives (no
write was made, so nothing needs giving back). Why not straight to the DLQ: that would need the DLQ's URL and
``sqs:SendMessage`` on it; a message refused here costs no AWS call per receive.

Formats (every pattern matches the whole string):
- execution ARN ``arn:<partition>:states:<region>:<account>:execution:<stateMachineName>:<executionName>``,
  1..256 characters, names 1..80 characters without the characters Step Functions forbids
  (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html,
  https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html);
- task token 1..2048 characters (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html);
  tokens are opaque, so only printable ASCII without spaces is required of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from orderflow_runtime import contract, limits

_NAME = r"[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]{1,80}"
EXECUTION_ARN = re.compile(
    rf"arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:states:[a-z]{{2}}(?:-[a-z]+)+-\d:\d{{12}}:execution:{_NAME}:{_NAME}"
)
TASK_TOKEN = re.compile(rf"[\x21-\x7e]{{1,{limits.TASK_TOKEN_CHARS}}}")


class UnanswerableMessage(Exception):
    """No usable task token or execution: nobody can be told, so the message must reach the DLQ."""


@dataclass(frozen=True)
class Envelope:
    """A checked message: a callback task (``token`` set, ``action`` is ``contract.TASK_ACTION``) or a
    compensation (``token`` empty, ``action`` names it). ``work_item`` is the message's ``WORK_ITEM`` value,
    unchecked (any JSON value, or None when absent): checking it is the worker's business."""

    token: str
    execution: str
    work_item: Any
    action: str = contract.TASK_ACTION

    @property
    def is_task(self) -> bool:
        """True for a callback task's message (one that waits for an answer)."""
        return self.action == contract.TASK_ACTION


def parse_envelope(body_text: str, compensations: Collection[str] = ()) -> Envelope:
    """Parse and check a message body. Raises UnanswerableMessage naming the first problem."""
    return check_envelope(decode_body(body_text), compensations)


def decode_body(body_text: str) -> Any:
    """The JSON value of a message body. Raises UnanswerableMessage when it is not JSON."""
    try:
        return json.loads(body_text)
    except (TypeError, ValueError) as error:
        raise UnanswerableMessage(f"body is not JSON: {error}") from error
    except RecursionError as error:  # e.g. "[" * 1000: a body no check can ever be read from
        raise UnanswerableMessage("body is JSON nested deeper than the decoder reads (about 1,000 levels)") \
            from error


def check_envelope(body: Any, compensations: Collection[str] = ()) -> Envelope:
    """Check a decoded message body against the APIs' formats; ``compensations``: the compensation actions this
    worker handles. Raises UnanswerableMessage naming the first problem."""
    if not isinstance(body, dict):
        raise UnanswerableMessage("body is not a JSON object")
    action = body.get(contract.ACTION, contract.TASK_ACTION)
    token, execution = body.get(contract.TASK_TOKEN), body.get(contract.EXECUTION)
    actions = (contract.TASK_ACTION, *compensations)
    if not isinstance(action, str) or action not in actions:
        raise UnanswerableMessage(f"{contract.ACTION} must be one of {', '.join(actions)}; got {_shown(action)}")
    if not isinstance(execution, str) or not EXECUTION_ARN.fullmatch(execution) \
            or len(execution) > limits.EXECUTION_ARN_CHARS:
        raise UnanswerableMessage(f"{contract.EXECUTION} must be a Standard execution ARN of at most "
                                  f"{limits.EXECUTION_ARN_CHARS} characters; got {_shown(execution)}")
    is_task = action == contract.TASK_ACTION
    if is_task and (not isinstance(token, str) or not TASK_TOKEN.fullmatch(token)):
        length = len(token) if isinstance(token, str) else 0
        raise UnanswerableMessage(f"{contract.TASK_TOKEN} must be 1..{limits.TASK_TOKEN_CHARS} printable ASCII "
                                  f"characters; got {type(token).__name__} of length {length}")
    return Envelope(token=str(token) if is_task else "", execution=execution,
                    work_item=work_item_of(body), action=action)


def work_item_of(body: Mapping[str, Any]) -> Any:
    """The message's ``WORK_ITEM`` value, unchecked; a string holding a JSON object is decoded to that object
    (EventBridge passes an execution's input as a string: ``detail.input`` of a "Step Functions Execution Status
    Change" event, https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html). Any other value, and a
    string that is not a JSON object, is returned as it is (None when absent)."""
    item = body.get(contract.WORK_ITEM)
    if not isinstance(item, str):
        return item
    try:
        decoded = json.loads(item)
    except (ValueError, RecursionError):
        return item
    return decoded if isinstance(decoded, dict) else item


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=True)
    except RecursionError:
        return f"a JSON {type(value).__name__} nested too deep to show"
    return text if len(text) <= 120 else text[:117] + "..."
