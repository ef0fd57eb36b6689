"""queue-dead-letter: every queue a consumer reads has a DLQ that is not itself; one row per stack shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy.policy import PolicyResource

from policy.rules import QUEUE_REDRIVE

from .cases import check_stack, resource

ARN = "arn:aws:sqs:us-east-1:123456789012:"


def queue(name: str, target: str | None = None, count: Any = 5, native: bool = False,
          retention: int | None = None) -> PolicyResource:
    props: dict[str, Any] = {"queueName" if native else "name": name, "arn": ARN + name}
    if retention is not None:
        props["messageRetentionSeconds"] = retention
    if target is not None:
        policy = {"deadLetterTargetArn": ARN + target, "maxReceiveCount": count}
        props["redrivePolicy"] = policy if native else json.dumps(policy)
    return resource("aws-native:sqs:Queue" if native else "aws:sqs/queue:Queue", name, props)


def mapping(name: str) -> PolicyResource:
    return resource("aws:lambda/eventSourceMapping:EventSourceMapping", f"{name}-trigger",
                    {"eventSourceArn": ARN + name, "functionName": "worker"})


def redrive(queue_name: str, target: str) -> PolicyResource:
    return resource("aws:sqs/redrivePolicy:RedrivePolicy", f"{queue_name}-redrive", {
        "queueUrl": f"https://sqs.us-east-1.amazonaws.com/123456789012/{queue_name}",
        "redrivePolicy": json.dumps({"deadLetterTargetArn": ARN + target, "maxReceiveCount": 5})})


TAIL = "aws:sqs/queue:Queue::lonely"
# (resources, config, (queue, message part) reported)
CASES: list[tuple[list[PolicyResource], dict[str, Any], list[tuple[str, str]]]] = [
    ([queue("work", "dlq"), queue("dlq"), mapping("work")], {}, []),
    ([queue("lonely")], {}, [("lonely", "has no dead-letter queue")]),
    ([queue("work", "dlq", 2), queue("dlq")], {}, [("work", "maxReceiveCount 2 is below 5")]),
    ([queue("work", "dlq", 2), queue("dlq")], {"minMaxReceiveCount": 2}, []),
    ([queue("work", "dlq", "10"), queue("dlq")], {}, []),
    ([queue("work", "dlq", "ten"), queue("dlq")], {}, [("work", "'ten' is not a whole number")]),
    ([queue("work", "dlq", None), queue("dlq")], {}, [("work", "None is not a whole number")]),
    ([queue("work", "dlq", 2.5), queue("dlq")], {}, [("work", "2.5 is not a whole number")]),
    # the redrive reversed: the DLQ redrives into the work queue the worker reads
    ([queue("work"), queue("dlq", "work"), mapping("work")], {}, [("work", "a consumer reads it")]),
    ([queue("work", "work"), mapping("work")], {}, [("work", "dead-letter queue is itself")]),
    ([queue("work"), queue("dlq"), redrive("work", "dlq"), mapping("work")], {}, []),
    ([queue("work", native=True), mapping("work")], {}, [("work", "has no dead-letter queue")]),
    ([queue("work", "dlq", native=True), queue("dlq", native=True), mapping("work")], {}, []),
    # a dead-letter queue that keeps messages for less time than its source
    ([queue("work", "dlq", retention=1209600), queue("dlq"), mapping("work")], {},
     [("work", "dead letters expire on arrival")]),
    ([queue("work", "dlq"), queue("dlq", retention=60)], {}, [("work", "keeps messages 60 s, less than")]),
    ([queue("work", "dlq", retention=345600), queue("dlq", retention=1209600)], {}, []),
    # receives that outlast the retention: the message expires before it is moved
    ([queue("work", "dlq", count=1000, retention=3600), queue("dlq", retention=1209600)], {},
     [("work", "1000 receives 30 s apart (30000 s) outlast the 3600 s")]),
    ([queue("work", "dlq", count=10, retention=3600), queue("dlq", retention=1209600)], {}, []),
    ([queue("lonely")], {"allowlist": [{"resource": TAIL, "reason": "fire-and-forget metrics"}]}, []),
    ([queue("lonely")], {"allowlist": [{"resource": f"urn:pulumi:dev::orderflow::{TAIL}", "reason": "metrics"}]},
     []),
    ([queue("lonely")], {"allowlist": [{"resource": "x$" + TAIL, "reason": "another parent's"}]},
     [("lonely", "has no dead-letter queue")]),
]


@pytest.mark.parametrize(("resources", "config", "reported"), CASES)
def test_queue_dead_letter(resources: list[PolicyResource], config: dict[str, Any],
                           reported: list[tuple[str, str]]) -> None:
    found = check_stack(QUEUE_REDRIVE, resources, {"minMaxReceiveCount": 5, **config})
    assert [name for name, _ in found] == [name for name, _ in reported], found
    for (_, message), (_, part) in zip(found, reported, strict=True):
        assert part in message
