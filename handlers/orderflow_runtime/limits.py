"""Step Functions' documented limits on what a worker receives and answers, measured as the service does.

- ``taskToken`` is 1..2048 characters; a task's ``output`` (and any state's payload) at most 256 KiB
  (262,144 bytes) as UTF-8 (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html,
  https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions);
- SendTaskFailure ``error`` is at most 256 characters and ``cause`` at most 32,768 characters
  (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html);
- an execution ARN is 1..256 characters
  (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html); state machine and
  execution names are 1..80 characters without white space, brackets, wildcards, ``" # % \\ ^ | ~ ` $ & , ; : /``,
  control characters, surrogates or U+FFFE/U+FFFF
  (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
"""

from __future__ import annotations

import json
from typing import Any

PAYLOAD_BYTES = 256 * 1024
TASK_TOKEN_CHARS = 2048
EXECUTION_ARN_CHARS = 256
NAME_CHARS = 80
ERROR_CHARS = 256
CAUSE_CHARS = 32768


def utf8_bytes(text: str) -> int:
    """Bytes of ``text`` as UTF-8, the unit of Step Functions payloads (and DynamoDB sizes).

    A lone surrogate (JSON allows ``"\\ud800"``) cannot be encoded; it is counted as the 3 bytes the
    services' replacement would take, so the count never raises.
    """
    return len(text.encode("utf-8", "surrogatepass"))


def to_json(value: Any) -> str:
    """Compact JSON without ASCII escaping: the bytes the services count are the characters' UTF-8 bytes, so
    escaping a character outside ASCII (6 or 12 bytes instead of 2 to 4) only brings the limits closer."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
