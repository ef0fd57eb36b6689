"""The tutorial's worker design, for comparison on the same simulated AWS.

- ``tutorial_style``: our reservation and answer, but the tutorial's loop: one record at a time, and the
  first error fails the whole batch (every record comes back, answered or not).
- ``tutorial_exact``: what the tutorial's function does per record: one SendTaskSuccess and nothing else
  (it checks no stock). Its duration feeds the tutorial's cost.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


def tutorial_style(module: ModuleType) -> Handler:
    """Sequential, all-or-nothing, with the worker module's own clients, validation and reservation."""
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            body = json.loads(record["body"])
            try:
                order = module.parse_order(body["order"])
            except module.Rejection as rejection:
                module.sfn.send_task_failure(taskToken=body["taskToken"], error=rejection.reason)
                continue
            outcome = module.stock.reserve(order, body["execution"])
            if outcome.reserved:
                output = {"orderId": order.order_id, "status": "RESERVED", "items": [i.as_json() for i in outcome.items]}
                module.sfn.send_task_success(taskToken=body["taskToken"], output=json.dumps(output))
            else:
                module.sfn.send_task_failure(taskToken=body["taskToken"], error=outcome.reason)
        return {}

    return handler


def tutorial_exact(module: ModuleType) -> Handler:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            token = json.loads(record["body"])["taskToken"]
            module.sfn.send_task_success(taskToken=token, output=json.dumps("Callback task completed successfully."))
        return {}

    return handler
