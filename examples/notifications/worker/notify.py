"""Lambda entry point of the notifications worker on ``orderflow_runtime``: records each notification in
``TABLE_NAME`` (DynamoDB, key ``id``) and answers it; ``InvalidRecipient`` and ``Unsubscribed`` are its business
rejections. Work item: ``{"id": str, "recipient": str (an email), "message": str, "unsubscribed"?: bool}``."""

from __future__ import annotations

import botocore.session
from orderflow_runtime.config import require
from orderflow_runtime.envelope import Envelope
from orderflow_runtime.runtime import Answer, CallbackRuntime, Rejection, Worker

table = require("TABLE_NAME", who_sets="the notifications program sets it")
dynamodb = botocore.session.get_session().create_client("dynamodb")


def send(envelope: Envelope, deadline: float | None) -> Answer:
    item = envelope.work_item
    if "@" not in str(item.get("recipient", "")):
        raise Rejection("InvalidRecipient", f"recipient must be an email address; got {item.get('recipient')!r}")
    if item.get("unsubscribed"):
        raise Rejection("Unsubscribed", f"{item['recipient']} unsubscribed")
    dynamodb.put_item(TableName=table, Item={"id": {"S": str(item["id"])}, "recipient": {"S": item["recipient"]},
                                             "message": {"S": str(item.get("message", ""))}})
    return Answer.success({"notified": item["recipient"], "id": item["id"]})


runtime = CallbackRuntime(Worker(decide=send, log_keys=lambda item: {"notification_id": item.get("id")}
                                 if isinstance(item, dict) else {}))
lambda_handler = runtime.lambda_handler
