"""Where moto's in-memory services differ from AWS in ways a multi-threaded load run would notice.

- Atomicity: DynamoDB applies each item write and each transaction atomically; moto's tables do not when
  called from several threads (concurrent transactions lost updates), so every write is serialized.
- Cost: moto's TransactWriteItems deep-copies every table it touches to be able to roll back, and its
  ReceiveMessage rebuilds all queue attributes (counting every message) for each message it returns. Both
  grow with the data, so a run of 1,000 orders slowed down until heartbeats were missed. The rollback
  snapshots only the items the transaction names, and the retention check reads the one attribute it needs.
- Races: SendTask* and SendTaskHeartbeat look through every execution's environment, and raise an
  AttributeError for an execution whose worker thread has not set one up yet; those are skipped (an
  execution without an environment holds no task token).
Each fix keeps moto's observable behaviour; the tests run the same handler through it.
"""

from __future__ import annotations

import copy
import threading
import time
from types import SimpleNamespace
from typing import Any

_LOCK = threading.RLock()
_in_transaction = threading.local()


def apply() -> None:
    """Idempotent: patch the moto classes once per process."""
    from moto.dynamodb import models as dynamodb_models
    from moto.sqs.models import SQSBackend

    backend = dynamodb_models.DynamoDBBackend
    if getattr(backend, "_orderflow_fixed", False):
        return
    for name in ("update_item", "put_item", "delete_item", "get_item"):
        _serialize(backend, name)
    _fast_transactions(backend, dynamodb_models)
    SQSBackend.is_message_valid_based_on_retention_period = _retained  # type: ignore[method-assign]
    _skip_unready_executions()
    backend._orderflow_fixed = True  # type: ignore[attr-defined]


def _skip_unready_executions() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend._get_executions

    def ready(self: Any, execution_status: Any = None) -> list[Any]:
        return [e for e in original(self, execution_status)
                if getattr(getattr(e, "exec_worker", None), "env", None) is not None]

    StepFunctionsParserBackend._get_executions = ready  # type: ignore[method-assign]


def _serialize(cls: type, name: str) -> None:
    method = getattr(cls, name)

    def serialized(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    setattr(cls, name, serialized)


def _fast_transactions(backend: type, module: Any) -> None:
    """Roll a cancelled transaction back item by item instead of restoring a deep copy of the table."""
    original = backend.transact_write_items  # type: ignore[attr-defined]
    table_class = module.Table

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if getattr(_in_transaction, "active", False) and isinstance(value, table_class):
            return value  # the "backup" is the live table; the items it touches are restored below
        return copy.deepcopy(value, memo)

    module.copy = SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            before = [_snapshot(self, op) for op in transact_items]
            _in_transaction.active = True
            try:
                original(self, transact_items)
            except Exception:
                for table_name, key, attrs in reversed([s for s in before if s is not None]):
                    if attrs is None:
                        if self.get_item(table_name, key) is not None:
                            self.delete_item(table_name, key)
                    else:
                        self.put_item(table_name, attrs, overwrite=True)
                raise
            finally:
                _in_transaction.active = False

    backend.transact_write_items = transact_write_items  # type: ignore[attr-defined]


def _snapshot(backend: Any, item: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any] | None] | None:
    _, op = next(iter(item.items()))
    table_name = op.get("TableName")
    if table_name not in backend.tables:
        return None
    table = backend.tables[table_name]
    if "Key" in op:
        key = op["Key"]
    elif "Item" in op and table.hash_key_attr in op["Item"]:
        key = {k: op["Item"][k] for k in (table.hash_key_attr, table.range_key_attr) if k and k in op["Item"]}
    else:
        return None
    try:
        current = backend.get_item(table_name, key)
    except Exception:  # an invalid key: moto's own validation reports it
        return None
    return table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None


def _retained(self: Any, queue_name: str, message: Any) -> bool:
    retention = int(self.get_queue(queue_name).message_retention_period)
    return bool(retention + message.sent_timestamp / 1000 > time.time())
