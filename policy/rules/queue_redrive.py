"""Stack rule: every queue a consumer reads has a dead-letter queue that is not itself, with maxReceiveCount >= 5.

Queues are pulumi-aws's and aws-native's; a redrive policy is the queue's own or a ``RedrivePolicy`` resource's. A
queue is exempt only as a dead-letter queue that no event source mapping reads: a queue that is another queue's
target but is also consumed (a reversed redrive: the DLQ redrives into the work queue) still needs its own. A queue
whose redrive target is itself never moves a failing message anywhere. ``maxReceiveCount`` must be a whole number
from 1 to 1,000 (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
A dead-letter queue that keeps messages for less time than its source loses them on arrival: a message keeps its
original enqueue timestamp when it is moved, and AWS advises a longer retention on the dead-letter queue (same page;
the default retention is 345,600 s). And a message that fails every time is received once per visibility timeout
(30 s unless set): when ``maxReceiveCount`` receives take longer than the queue keeps the message, it expires before
it is ever moved.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, StackValidationArgs, StackValidationPolicy

from ._common import ALLOWLIST_SCHEMA, UnknownInPreview, allowlisted, as_json, is_unknown, judged, raw_props
from ._guard import guarded

QUEUES = frozenset({"aws:sqs/queue:Queue", "aws-native:sqs:Queue"})
REDRIVE = "aws:sqs/redrivePolicy:RedrivePolicy"
MAPPINGS = frozenset({"aws:lambda/eventSourceMapping:EventSourceMapping", "aws-native:lambda:EventSourceMapping"})
DEFAULT_RETENTION = 345_600
DEFAULT_VISIBILITY = 30
REMEDIATION = ("give the queue its own dead-letter queue: redrivePolicy {deadLetterTargetArn: another queue, "
               "maxReceiveCount >= 5}")


def queue_name(props: dict[str, Any]) -> str:
    """A queue's name from its ``name`` (``queueName``), ``arn`` or ``url``; may hold an unknown sentinel."""
    for key in ("name", "queueName"):
        if isinstance(props.get(key), str) and props[key]:
            return str(props[key])
    return str(props.get("arn") or props.get("url") or "").replace("/", ":").rsplit(":", 1)[-1]


def receive_count(value: Any) -> int | None:
    """maxReceiveCount as a whole number (SQS accepts its JSON number or digit string), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 10:
        return int(value.strip())
    return None


def _policies(args: StackValidationArgs) -> dict[str, Any]:
    """Queue name -> its redrive policy, inline on the queue or from a RedrivePolicy resource."""
    policies: dict[str, Any] = {}
    for r in args.resources:
        if r.resource_type in QUEUES:
            policy = judged(r, "redrivePolicy")
            if policy:
                policies[queue_name(raw_props(r))] = as_json(policy)
        elif r.resource_type == REDRIVE:
            url = raw_props(r).get("queueUrl")
            if is_unknown(url):
                raise UnknownInPreview(f"{r.name}: queueUrl is not known in this preview; the queues it may apply "
                                       f"to are judged when `pulumi up` registers {r.name}")
            policies[queue_name({"url": url})] = as_json(judged(r, "redrivePolicy"))
    return policies


def _target(policy: Any) -> str:
    return str(policy.get("deadLetterTargetArn", "")).rsplit(":", 1)[-1] if isinstance(policy, dict) else ""


def _consumed(args: StackValidationArgs) -> set[str]:
    return {queue_name({"arn": raw_props(r).get("eventSourceArn")}) for r in args.resources
            if r.resource_type in MAPPINGS and isinstance(raw_props(r).get("eventSourceArn"), str)}


def _retention(resource: Any) -> int | None:
    value = receive_count(judged(resource, "messageRetentionSeconds"))
    return DEFAULT_RETENTION if raw_props(resource).get("messageRetentionSeconds") is None else value


def _expiring(r: Any, policy: Any, queues: dict[str, Any]) -> str | None:
    target = queues.get(_target(policy))
    if target is None:
        return None
    mine, theirs = _retention(r), _retention(target)
    if mine is not None and theirs is not None and theirs < mine:
        return (f"its dead-letter queue {target.name} keeps messages {theirs} s, less than this queue's {mine} s: a "
                f"message keeps its first enqueue time, so dead letters expire on arrival")
    return None


def _never_moved(r: Any, policy: Any) -> str | None:
    count = receive_count(policy.get("maxReceiveCount")) if isinstance(policy, dict) else None
    retention = _retention(r)
    visibility = receive_count(judged(r, "visibilityTimeoutSeconds"))
    if raw_props(r).get("visibilityTimeoutSeconds") is None:
        visibility = DEFAULT_VISIBILITY
    if count and retention and visibility and count * visibility >= retention:
        return (f"{count} receives {visibility} s apart ({count * visibility} s) outlast the {retention} s the queue "
                f"keeps a message: a failing message expires before it is moved to the dead-letter queue")
    return None


def _problem(name: str, policy: Any, minimum: int, consumed: bool) -> str | None:
    if not isinstance(policy, dict):
        read = " and a consumer reads it (being another queue's dead-letter queue is not enough)" if consumed else ""
        return f"queue has no dead-letter queue{read}; a message that keeps failing is retried until it expires " \
               f"and is lost"
    if _target(policy) == name:
        return "queue's dead-letter queue is itself: a failing message never leaves it"
    count = receive_count(policy.get("maxReceiveCount"))
    if count is None:
        return f"maxReceiveCount {policy.get('maxReceiveCount')!r} is not a whole number, so SQS refuses the policy"
    if count < minimum:
        return f"maxReceiveCount {count} is below {minimum}; a throttled burst would send good messages to the DLQ"
    return None


def _validate(args: StackValidationArgs, report_violation: Any) -> None:
    config = args.get_config()
    minimum = config.get("minMaxReceiveCount", 5)
    minimum = minimum if isinstance(minimum, int) and not isinstance(minimum, bool) else 5
    policies = _policies(args)
    targets = {_target(p) for n, p in policies.items() if _target(p) != n}
    consumed = _consumed(args)
    queues = {queue_name(raw_props(r)): r for r in args.resources if r.resource_type in QUEUES}
    for r in args.resources:
        if r.resource_type not in QUEUES or allowlisted(config, r.urn):
            continue
        name = queue_name(raw_props(r))
        if name in targets and name not in consumed:
            continue
        policy = policies.get(name)
        if policy is None and is_unknown(name):
            raise UnknownInPreview(f"{r.name}: its name is not known in this preview, so whether it is a "
                                   f"dead-letter queue is judged when `pulumi up` registers it")
        problem = (_problem(name, policy, minimum, name in consumed) or _expiring(r, policy, queues)
                   or _never_moved(r, policy))
        if problem:
            report_violation(f"{r.name}: {problem}. Fix: {REMEDIATION}.", r.urn)


POLICY = StackValidationPolicy(
    name="queue-dead-letter",
    description="Every SQS queue a consumer reads redrives to another queue with maxReceiveCount >= 5.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=guarded(_validate),
    config_schema=PolicyConfigSchema(properties={
        "allowlist": ALLOWLIST_SCHEMA,
        "minMaxReceiveCount": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 5},
    }),
    remediation_steps=REMEDIATION,
)
