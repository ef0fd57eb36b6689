"""A ledger's table layout, and the two things every other reader or writer of a ledger's table does: seed, read.

One DynamoDB table (partition key ``pk``, a string) per ledger holds two kinds of items:
- a *counter* ``pk = <counter_prefix><counter id>`` (``SKU#A``, ``CUSTOMER#c-1``): ``<counter_attribute>`` (a
  number: the units available now; ``stock``, ``credit``) and ``held`` (the map of unanswered holds,
  ``orderflow_runtime.ledger.holds``);
- a *record* ``pk = <record_prefix><work item id>`` (``ORDER#o-1``, ``PAYMENT#o-1``): the work item's result,
  string attributes only: ``status`` (``held_status``, ``REJECTED`` or ``released_status``), ``execution``,
  ``items`` (JSON: what the hold took, one ``{<counter key>: id, <amount key>: units}`` per counter), ``hold``
  (the hold's entry key), ``reason`` and ``detail`` (a rejection's error name and cause).

DynamoDB's limits (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html): a partition
key value is 1..2,048 bytes of UTF-8, so a counter id is at most 2,048 bytes less its prefix, and holds no lone
surrogate (UTF-8 cannot encode one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

PARTITION_KEY_BYTES = 2048
HELD = "held"
"""The counter item's map of unanswered holds: ``<work item id>/<nonce>`` -> units (``orderflow_runtime.ledger.holds``)."""
REJECTED = "REJECTED"
"""The record status of a business rejection (every ledger's)."""


@dataclass(frozen=True)
class Layout:
    """How one ledger's table is keyed and what its answers are called (see the module doc).

    The first eight fields are the contract other tools configure a ledger by; the rest (with defaults) shape the
    record's ``items`` and the causes of the ledger's own rejections (``{noun}``, ``{counter}``, ``{available}``,
    ``{requested}``, ``{message}`` are filled in). Raises ValueError when two keys or statuses would collide.
    """

    counter_prefix: str
    """Partition key prefix of a counter item: ``"SKU#"`` (inventory), ``"CUSTOMER#"`` (payment)."""
    record_prefix: str
    """Partition key prefix of a work item's record: ``"ORDER#"``, ``"PAYMENT#"``."""
    counter_attribute: str
    """The number a counter item holds: ``"stock"``, ``"credit"``."""
    held_status: str
    """Record status of a hold: ``"RESERVED"``, ``"AUTHORIZED"``."""
    released_status: str
    """Record status after a give-back, or of a tombstone: ``"RELEASED"``, ``"VOIDED"``."""
    short_error: str
    """Rejection when a counter holds too little: ``"OutOfStock"``, ``"PaymentDeclined"``."""
    unknown_error: str
    """Rejection when a counter does not exist: ``"UnknownSku"``, ``"UnknownCustomer"``."""
    invalid_error: str
    """Rejection when DynamoDB refuses the work item: ``"InvalidOrder"``, ``"InvalidPayment"``."""
    counter_noun: str = "counter"
    """What a counter id names, in messages: ``"sku"``, ``"customer"``."""
    entry_keys: tuple[str, str] = ("counter", "amount")
    """The JSON keys of one entry of a record's ``items``: the counter id's, the units'."""
    unknown_cause: str = "{noun} {counter!r} does not exist"
    short_cause: str = "{noun} {counter!r}: {available} left, {requested} requested"
    refused_cause: str = "DynamoDB refused the work item: {message}"

    def __post_init__(self) -> None:
        if not self.counter_prefix or not self.record_prefix or self.counter_prefix.startswith(self.record_prefix) \
                or self.record_prefix.startswith(self.counter_prefix):
            raise ValueError(f"counter_prefix {self.counter_prefix!r} and record_prefix {self.record_prefix!r} must "
                             "be non-empty and neither a prefix of the other")
        statuses = {self.held_status, self.released_status, REJECTED}
        if len(statuses) != 3 or "" in statuses:
            raise ValueError(f"held_status {self.held_status!r} and released_status {self.released_status!r} must "
                             f"be non-empty, differ, and differ from {REJECTED!r}")
        if self.counter_attribute in ("", "pk", HELD):
            raise ValueError(f"counter_attribute {self.counter_attribute!r}: must be a name other than 'pk' and "
                             f"{HELD!r}")

    def counter_key(self, counter_id: str) -> dict[str, Any]:
        """The DynamoDB key of a counter item."""
        return {"pk": {"S": self.counter_prefix + counter_id}}

    def record_key(self, work_id: str) -> dict[str, Any]:
        """The DynamoDB key of a work item's record."""
        return {"pk": {"S": self.record_prefix + work_id}}

    @property
    def counter_id_bytes(self) -> int:
        """The most UTF-8 bytes a counter id may have (the key's 2,048 less the prefix)."""
        return PARTITION_KEY_BYTES - len(self.counter_prefix.encode("utf-8"))


@dataclass(frozen=True)
class Snapshot:
    """A ledger table read whole: ``counters`` (counter id -> its value) and ``records`` (work item id -> the
    record's string attributes: ``status``, ``execution``, ``items``, ``hold``, ``reason``, ``detail``)."""

    counters: dict[str, int]
    records: dict[str, dict[str, str]]


def counter_key_problem(layout: Layout, counter_id: str) -> str | None:
    """Why DynamoDB cannot store ``counter_id`` as a counter's key (empty, a lone surrogate, over 2,048 bytes with
    the prefix), or None."""
    noun = layout.counter_noun
    if not counter_id:
        return f"a {noun} must not be empty"
    try:
        size = len((layout.counter_prefix + counter_id).encode("utf-8"))
    except UnicodeEncodeError:  # JSON allows "\ud800"; UTF-8, and so DynamoDB, cannot hold a lone surrogate
        return f"a {noun} must be Unicode text that UTF-8 can encode (it holds a lone surrogate)"
    if size > PARTITION_KEY_BYTES:
        return (f"its key {layout.counter_prefix}<{noun}> is {size} bytes in UTF-8, over DynamoDB's partition key "
                f"limit of {PARTITION_KEY_BYTES} bytes")
    return None


def seed(client: Any, table: str, layout: Layout, counters: Mapping[str, int]) -> None:
    """Put each counter item: its value and an empty ``held`` map (PutItem, so idempotent; a counter's earlier
    holds are dropped: seed a table no worker is using). Records are left alone. ``client``: a DynamoDB client.
    Raises botocore's ClientError as DynamoDB returns it (ValidationException for a key or number it refuses)."""
    for counter_id, value in counters.items():
        client.put_item(TableName=table, Item={**layout.counter_key(counter_id),
                                               layout.counter_attribute: {"N": str(value)}, HELD: {"M": {}}})


def read(client: Any, table: str, layout: Layout) -> Snapshot:
    """Every counter and record of the table (a strongly consistent Scan, all pages). A counter item without its
    number is left out; items of neither prefix are ignored. Raises botocore's ClientError."""
    counters: dict[str, int] = {}
    records: dict[str, dict[str, str]] = {}
    pages = client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    for item in (item for page in pages for item in page.get("Items", [])):
        key = item["pk"]["S"]
        if key.startswith(layout.counter_prefix) and "N" in item.get(layout.counter_attribute, {}):
            counters[key[len(layout.counter_prefix):]] = int(item[layout.counter_attribute]["N"])
        elif key.startswith(layout.record_prefix):
            records[key[len(layout.record_prefix):]] = {k: v["S"] for k, v in item.items() if "S" in v and k != "pk"}
    return Snapshot(counters, records)


def read_counter(client: Any, table: str, layout: Layout, counter_id: str) -> int | None:
    """One counter's value (a strongly consistent GetItem); None when it has no item or no number."""
    item = client.get_item(TableName=table, Key=layout.counter_key(counter_id), ConsistentRead=True).get("Item")
    if item is None or layout.counter_attribute not in item:
        return None
    return int(item[layout.counter_attribute]["N"])


def set_counter(client: Any, table: str, layout: Layout, counter_id: str, value: int, before: int | None) -> bool:
    """Set a counter to ``value`` if it still holds ``before`` (None: it has no number yet), giving it an empty
    ``held`` map if it has none (its holds are kept). False when the condition failed (someone wrote in between);
    raises any other ClientError."""
    condition = "attribute_not_exists(#c)" if before is None else "#c = :before"
    values = {":after": {"N": str(value)}, ":empty": {"M": {}}}
    if before is not None:
        values[":before"] = {"N": str(before)}
    try:
        client.update_item(TableName=table, Key=layout.counter_key(counter_id),
                           UpdateExpression="SET #c = :after, #h = if_not_exists(#h, :empty)",
                           ConditionExpression=condition, ExpressionAttributeValues=values,
                           ExpressionAttributeNames={"#c": layout.counter_attribute, "#h": HELD})
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
