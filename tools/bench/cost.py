"""Cost per million orders, from a stack export and measured usage per order.

The model counts what each order makes AWS bill: Step Functions state transitions (from the definition,
per path), SQS requests, Lambda requests and GB-seconds (at the configured memory and architecture), DynamoDB
request units, X-Ray traces and CloudWatch Logs bytes. Fixed monthly costs (alarms, log storage, KMS keys)
and free tiers are left out: they do not grow with orders. Prices are us-east-1 on-demand list prices.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

PRICES = {
    "stepfunctions_standard_per_state_transition": 0.025 / 1000,
    "sqs_standard_per_request": 0.40 / 1e6,
    "lambda_per_request": 0.20 / 1e6,
    "lambda_per_gb_second_x86_64": 0.0000166667,
    "lambda_per_gb_second_arm64": 0.0000133334,
    "dynamodb_on_demand_per_write_request_unit": 0.625 / 1e6,
    "dynamodb_on_demand_per_read_request_unit": 0.125 / 1e6,
    "xray_per_trace_recorded": 5.00 / 1e6,
    "cloudwatch_logs_per_gb_ingested": 0.50,
}
XRAY_SAMPLED = 0.05
"""X-Ray's default sampling rule beyond its one-per-second reservoir."""
PLATFORM_LOG_BYTES = 350
"""Lambda's START, END and REPORT lines per invocation."""
SQS_PER_INVOCATION = 2
"""Lambda's poller: one ReceiveMessage and one DeleteMessageBatch per batch it hands over."""


@dataclass(frozen=True)
class StackFacts:
    """What the bill depends on, read from a stack export (AWS defaults where the export says nothing)."""

    definition: dict[str, Any]
    memory_mb: int
    architecture: str
    batch_size: int
    function_tracing: bool
    state_machine_tracing: bool

    @classmethod
    def of(cls, export: dict[str, Any]) -> StackFacts:
        resources = export["deployment"]["resources"]

        def inputs(typ: str) -> dict[str, Any]:
            return next(r.get("inputs", {}) for r in resources if r["type"] == typ)

        fn, sm = inputs("aws:lambda/function:Function"), inputs("aws:sfn/stateMachine:StateMachine")
        mapping = inputs("aws:lambda/eventSourceMapping:EventSourceMapping")
        definition = sm["definition"]
        return cls(
            definition=json.loads(definition) if isinstance(definition, str) else definition,
            memory_mb=int(fn.get("memorySize", 128)),
            architecture=(fn.get("architectures") or ["x86_64"])[0],
            batch_size=int(mapping.get("batchSize", 10)),
            function_tracing=(fn.get("tracingConfig") or {}).get("mode") == "Active",
            state_machine_tracing=bool((sm.get("tracingConfiguration") or {}).get("enabled")),
        )


def _chain(states: dict[str, Any], name: str) -> list[str]:
    path = [name]
    while "Next" in states[path[-1]]:
        path.append(states[path[-1]]["Next"])
    return path


def paths(definition: dict[str, Any]) -> dict[str, list[str]]:
    """States entered on each outcome's path (each one a billed transition): the callback task answered with
    success, answered with a rejection error (when the definition catches one apart), or failed."""
    states, start = definition["States"], definition["StartAt"]
    catches = states[start].get("Catch", [])
    out = {"RESERVED": _chain(states, start)}
    for outcome, wanted in (("REJECTED", "OutOfStock"), ("FAILED", "States.ALL")):
        catch = next((c for c in catches if wanted in c["ErrorEquals"]), None)
        if catch:
            out[outcome] = [start, *_chain(states, catch["Next"])]
    return out


@dataclass(frozen=True)
class Usage:
    """Billed units per order."""

    state_transitions: float
    sqs_requests: float
    lambda_requests: float
    lambda_gb_seconds: float
    dynamodb_write_units: float
    dynamodb_read_units: float
    xray_traces: float
    log_bytes: float


def lambda_gb_seconds(facts: StackFacts, seconds_per_invocation: float, invocations: float) -> float:
    """Billed in 1 ms steps, at the configured memory."""
    return facts.memory_mb / 1024 * math.ceil(seconds_per_invocation * 1000) / 1000 * invocations


def cost_per_million(usage: Usage, facts: StackFacts) -> dict[str, float]:
    p = PRICES
    items = {
        "step_functions": usage.state_transitions * p["stepfunctions_standard_per_state_transition"],
        "sqs": usage.sqs_requests * p["sqs_standard_per_request"],
        "lambda_requests": usage.lambda_requests * p["lambda_per_request"],
        "lambda_duration": usage.lambda_gb_seconds * p[f"lambda_per_gb_second_{facts.architecture}"],
        "dynamodb": usage.dynamodb_write_units * p["dynamodb_on_demand_per_write_request_unit"]
        + usage.dynamodb_read_units * p["dynamodb_on_demand_per_read_request_unit"],
        "xray": usage.xray_traces * p["xray_per_trace_recorded"],
        "cloudwatch_logs": usage.log_bytes / 1e9 * p["cloudwatch_logs_per_gb_ingested"],
    }
    per_million = {k: round(v * 1e6, 4) for k, v in items.items()}
    per_million["total"] = round(sum(items.values()) * 1e6, 4)
    return per_million


def usage_as_json(usage: Usage) -> dict[str, float]:
    return {k: round(v, 6) for k, v in asdict(usage).items()}
