"""The largest sustained order rate a stack's settings and the region's published quotas allow on AWS.

Each bound is orders per second, sustained (refill rates, not bursts), us-east-1:

- ``lambda_concurrency_x_batch``: the event source mapping's maximum concurrency (capped by the account's default
  1,000 concurrent executions, https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html) times the
  batch size, over the measured seconds one batch takes (``make bench``'s handler measure, simulated AWS latency);
- ``StartExecution``, ``SendTaskSuccess``, ``SendTaskHeartbeat``: each API's refill rate
  (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html, "Quotas related to API action
  throttling") over the calls one order makes (measured per record on the normal path);
- ``StateTransition``: 5,000 per second (same page, "Quotas related to state throttling") over the transitions of
  the success path of the definition;
- ``dynamodb_hot_sku``: when every order takes one hot SKU, that item's partition serves at most 1,000 write units
  per second (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html,
  "Partition key design": each partition supports up to 1,000 WCU), and a transactional write of an item up to 1 KB
  costs 2 write units (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html,
  "Capacity management for transactions"): 500 orders/s at most, before any conflict between transactions.

``capacity_orders_per_second`` is the smallest bound; ``capacity_bound_by`` names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.bench import cost
from tools.emulator.quotas import PUBLISHED

ACCOUNT_CONCURRENCY = 1000
PARTITION_WCU_PER_SECOND = 1000
TRANSACTIONAL_WCU_PER_ITEM = 2


@dataclass(frozen=True)
class Capacity:
    orders_per_second: float
    bound_by: str
    bounds: dict[str, float]
    inputs: dict[str, Any]


def _mapping(export: dict[str, Any]) -> dict[str, Any]:
    return next(r.get("outputs") or r.get("inputs", {}) for r in export["deployment"]["resources"]
                if r["type"] == "aws:lambda/eventSourceMapping:EventSourceMapping")


def model(export: dict[str, Any], seconds_per_batch: float, calls_per_record: dict[str, float]) -> Capacity:
    """``calls_per_record``: the worker's calls per record by API on the normal path (e.g. ``SendTaskSuccess``)."""
    mapping = _mapping(export)
    batch = int(mapping.get("batchSize", 10))
    concurrency = min(ACCOUNT_CONCURRENCY,
                      int((mapping.get("scalingConfig") or {}).get("maximumConcurrency", ACCOUNT_CONCURRENCY)))
    facts = cost.StackFacts.of(export)
    transitions = len(cost.paths(facts.definition)["RESERVED"])
    bounds = {"lambda_concurrency_x_batch": concurrency * batch / seconds_per_batch,
              "StartExecution": PUBLISHED["StartExecution"][1],
              "StateTransition": PUBLISHED["StateTransition"][1] / transitions,
              "dynamodb_hot_sku": PARTITION_WCU_PER_SECOND / TRANSACTIONAL_WCU_PER_ITEM}
    for api in ("SendTaskSuccess", "SendTaskHeartbeat"):
        per_order = calls_per_record.get(api, 0.0)
        if per_order > 0:
            bounds[api] = PUBLISHED[api][1] / per_order
    bound_by = min(bounds, key=lambda k: bounds[k])
    inputs = {"batch_size": batch, "maximum_concurrency": concurrency, "seconds_per_batch": seconds_per_batch,
              "transitions_per_order": transitions, "calls_per_record": calls_per_record}
    return Capacity(round(bounds[bound_by], 1), bound_by, {k: round(v, 1) for k, v in bounds.items()}, inputs)
