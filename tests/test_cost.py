"""The benchmark's cost model: one row per billed unit, each priced alone (per million orders, USD)."""

from __future__ import annotations

import pytest

from tools.bench.cost import StackFacts, Usage, cost_per_million, lambda_gb_seconds

FACTS = StackFacts(definition={}, memory_mb=256, architecture="arm64", batch_size=10, function_tracing=True,
                   state_machine_tracing=True)
NONE = dict.fromkeys(Usage.__dataclass_fields__, 0.0)

ROWS = [
    ({"state_transitions": 1}, "step_functions", 25.0),
    ({"sqs_requests": 1}, "sqs", 0.40),
    ({"lambda_requests": 0.1}, "lambda_requests", 0.02),
    ({"lambda_gb_seconds": 1}, "lambda_duration", 13.3334),
    ({"dynamodb_write_units": 6, "dynamodb_read_units": 1}, "dynamodb", 3.875),
    ({"xray_traces": 0.05}, "xray", 0.25),
    ({"log_bytes": 1000}, "cloudwatch_logs", 0.5),
]


@pytest.mark.parametrize(("usage", "line", "usd"), ROWS)
def test_each_line_is_priced(usage: dict[str, float], line: str, usd: float) -> None:
    bill = cost_per_million(Usage(**{**NONE, **usage}), FACTS)
    assert bill[line] == pytest.approx(usd)
    assert bill["total"] == pytest.approx(usd)


def test_lambda_duration_is_billed_in_whole_milliseconds_at_the_configured_memory() -> None:
    assert lambda_gb_seconds(FACTS, 0.0831, 0.1) == pytest.approx(0.25 * 0.084 * 0.1)
