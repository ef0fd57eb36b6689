"""The worker's environment carries the timing settings its heartbeat rule is derived from."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import resources


@pytest.mark.parametrize(("export_name", "heartbeat", "visibility"), [
    ("dev_export", "36", "18"),    # dev: function timeout 3 s -> visibility 6 x 3, heartbeat 2 x visibility
    ("prod_export", "120", "60"),  # prod: function timeout 10 s -> visibility 60, heartbeat 120
])
def test_worker_environment_names_the_timing(request: pytest.FixtureRequest, export_name: str, heartbeat: str,
                                             visibility: str) -> None:
    export: dict[str, Any] = request.getfixturevalue(export_name)
    (function,) = resources(export, "aws:lambda/function:Function")
    variables = function["inputs"]["environment"]["variables"]
    (queue,) = [q for q in resources(export, "aws:sqs/queue:Queue") if not q["inputs"]["name"].endswith("-dlq")]
    assert variables["HEARTBEAT_SECONDS"] == heartbeat
    assert variables["VISIBILITY_TIMEOUT_SECONDS"] == visibility == str(queue["inputs"]["visibilityTimeoutSeconds"])
