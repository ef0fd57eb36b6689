"""callback-task-timeout, callback-requires-standard, callback-task-heartbeat: judged by effect, wherever the task
runs (top level, Parallel branches, Map iterators, Distributed Map children of either execution type)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy.rules import CALLBACK_HEARTBEAT, CALLBACK_STANDARD, CALLBACK_TIMEOUT

from .cases import check

SM = "aws:sfn/stateMachine:StateMachine"


def task(**extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": True, **extra}


def machine(state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "S", "States": {"S": state}}


def distributed(inner: dict[str, Any], execution_type: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {"Mode": "DISTRIBUTED"}
    if execution_type:
        config["ExecutionType"] = execution_type
    return machine({"Type": "Map", "End": True, "ItemProcessor": {**inner, "ProcessorConfig": config}})


OK = task(TimeoutSeconds=60, HeartbeatSeconds=20)
# (definition, machine type, timeout rule's message holds ("" = passes), standard rule violated)
CASES = [
    (machine(OK), "STANDARD", "", False),
    (machine(task(TimeoutSecondsPath="$.t")), "STANDARD", "", False),
    (machine(task(TimeoutSeconds="{% $states.input.timeout %}")), "STANDARD", "", False),  # JSONata, run time
    (machine(task()), "STANDARD", "has no timeout", False),
    (machine(task(TimeoutSeconds=99999999)), "STANDARD", "Step Functions' default", False),
    (machine(task(TimeoutSeconds=100000000)), "STANDARD", "Step Functions' default", False),
    (machine(task(TimeoutSeconds=1209601)), "STANDARD", "above the 1209600 s", False),
    (machine(task(TimeoutSeconds=1209600)), "STANDARD", "", False),
    (machine(task(TimeoutSeconds=0)), "STANDARD", "not a positive whole number", False),
    (machine(task(TimeoutSeconds=-5)), "STANDARD", "not a positive whole number", False),
    (machine(task(TimeoutSeconds="60")), "STANDARD", "not a positive whole number", False),
    (machine(task(TimeoutSeconds=1.5)), "STANDARD", "not a positive whole number", False),
    (machine(task(TimeoutSeconds=True)), "STANDARD", "not a positive whole number", False),
    (machine({"Type": "Parallel", "End": True, "Branches": [machine(task())]}), "STANDARD", "no timeout", False),
    (machine({"Type": "Map", "End": True, "Iterator": machine(task())}), "STANDARD", "no timeout", False),
    (machine({"Type": "Map", "End": True, "ItemProcessor": machine(task(TimeoutSeconds=5))}), "STANDARD", "", False),
    (machine({"Type": "Map", "End": True, "ItemProcessor": machine(
        {"Type": "Parallel", "End": True, "Branches": [machine(task())]})}), "STANDARD", "no timeout", False),
    (machine(OK), "EXPRESS", "", True),
    (machine(OK), "express", "", True),
    (machine({"Type": "Pass", "End": True}), "EXPRESS", "", False),
    (distributed(machine(OK), "EXPRESS"), "STANDARD", "", True),
    (distributed(machine(OK), "STANDARD"), "STANDARD", "", False),
    (distributed(machine(OK), None), "STANDARD", "", False),
    (distributed(machine({"Type": "Parallel", "End": True, "Branches": [machine(OK)]}), "EXPRESS"), "STANDARD", "",
     True),
    (distributed(machine({"Type": "Map", "End": True, "ItemProcessor": machine(OK)}), "EXPRESS"), "STANDARD", "",
     True),
    (distributed(distributed(machine(OK), "STANDARD"), "EXPRESS"), "STANDARD", "", False),
    (distributed(machine(task(TimeoutSeconds=99999999)), "STANDARD"), "STANDARD", "Distributed Map 'S'", False),
    # settings that disable a timeout that is set: retries on States.Timeout, a machine that times out first
    (machine(task(TimeoutSeconds=600000, Retry=[{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 5}])),
     "STANDARD", "retried 5 time(s) on States.Timeout (waits 3600000 s)", False),
    (machine(task(TimeoutSeconds=600000, Retry=[{"ErrorEquals": ["States.ALL"]}])), "STANDARD",
     "retried 3 time(s)", False),
    (machine(task(TimeoutSeconds=60, Retry=[{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2}])), "STANDARD", "",
     False),
    (machine(task(TimeoutSeconds=600000, Retry=[{"ErrorEquals": ["SQS.SdkClientException"], "MaxAttempts": 9}])),
     "STANDARD", "", False),
    ({**machine(task(TimeoutSeconds=600)), "TimeoutSeconds": 300}, "STANDARD", "the execution times out at 300 s",
     False),
    ({**machine(task(TimeoutSeconds=200, Retry=[{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 1}])),
      "TimeoutSeconds": 300}, "STANDARD", "the execution times out at 300 s", False),
    ({**machine(task(TimeoutSeconds=200)), "TimeoutSeconds": 300}, "STANDARD", "", False),
    (machine({**task(TimeoutSeconds=60, Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "S"}])}), "STANDARD",
     "path back to itself", False),
    ({"StartAt": "S", "States": {
        "S": {**task(TimeoutSeconds=60, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Again"}])},
        "Again": {"Type": "Pass", "Next": "S"}}}, "STANDARD", "path back to itself", False),
    ({"StartAt": "S", "States": {
        "S": {**task(TimeoutSeconds=60, Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Count"}])},
        "Count": {"Type": "Choice", "Choices": [], "Default": "S"}}}, "STANDARD", "", False),
    ({"StartAt": "S", "States": {
        "S": {**task(TimeoutSeconds=60, Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Release"}])},
        "Release": {"Type": "Pass", "End": True}}}, "STANDARD", "", False),
]


@pytest.mark.parametrize(("definition", "kind", "timeout", "not_standard"), CASES)
def test_callback_rules(definition: dict[str, Any], kind: str, timeout: str, not_standard: bool) -> None:
    props = {"definition": json.dumps(definition), "type": kind}
    found = check(CALLBACK_TIMEOUT, SM, props)
    assert (len(found) == 1 and timeout in found[0]) if timeout else found == [], found
    assert bool(check(CALLBACK_STANDARD, SM, props)) is not_standard


def test_the_longest_timeout_is_configurable() -> None:
    props = {"definition": json.dumps(machine(task(TimeoutSeconds=7200))), "type": "STANDARD"}
    assert check(CALLBACK_TIMEOUT, SM, props) == []
    (found,) = check(CALLBACK_TIMEOUT, SM, props, {"maxTimeoutSeconds": 3600})
    assert "above the 3600 s" in found


# (task, heartbeat advisory's message holds ("" = passes))
HEARTBEATS = [
    (OK, ""),
    (task(TimeoutSeconds=60, HeartbeatSecondsPath="$.beat"), ""),
    (task(TimeoutSeconds=60, HeartbeatSeconds="{% $states.input.beat %}"), ""),
    (task(TimeoutSeconds=60), "has no heartbeat"),
    (task(TimeoutSeconds=60, HeartbeatSeconds=60), "can never fire"),
    (task(TimeoutSeconds=60, HeartbeatSeconds=600), "can never fire"),
    (task(TimeoutSeconds=60, HeartbeatSeconds="20"), "not a positive whole number"),
    (task(TimeoutSeconds=60, HeartbeatSeconds=0), "not a positive whole number"),
]


@pytest.mark.parametrize(("state", "expected"), HEARTBEATS)
def test_heartbeats_that_can_fire(state: dict[str, Any], expected: str) -> None:
    found = check(CALLBACK_HEARTBEAT, SM, {"definition": json.dumps(machine(state))})
    assert (len(found) == 1 and expected in found[0]) if expected else found == [], found
