"""Stack rule: every queue that is not a dead-letter target has a redrive policy with maxReceiveCount >= 5."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, StackValidationArgs, StackValidationPolicy

from policy.rules._common import ALLOWLIST_SCHEMA, allowlisted, as_json

QUEUE = "aws:sqs/queue:Queue"
REDRIVE = "aws:sqs/redrivePolicy:RedrivePolicy"
REMEDIATION = "give the queue a dead-letter queue: redrivePolicy {deadLetterTargetArn, maxReceiveCount >= 5}"


def _queue_name(props: dict[str, Any]) -> str:
    if props.get("name"):
        return str(props["name"])
    return str(props.get("arn") or props.get("url") or "").replace("/", ":").rsplit(":", 1)[-1]


def _validate(args: StackValidationArgs, report_violation: Any) -> None:
    config = args.get_config()
    minimum = int(config.get("minMaxReceiveCount", 5))
    queues = [r for r in args.resources if r.resource_type == QUEUE]
    policies: dict[str, Any] = {}
    for r in queues:
        if r.props.get("redrivePolicy"):
            policies[_queue_name(dict(r.props))] = as_json(r.props["redrivePolicy"])
    for r in args.resources:
        if r.resource_type == REDRIVE:
            policies[_queue_name({"url": r.props.get("queueUrl")})] = as_json(r.props.get("redrivePolicy"))
    targets = {str(p.get("deadLetterTargetArn", "")).rsplit(":", 1)[-1] for p in policies.values()
               if isinstance(p, dict)}
    for r in queues:
        name = _queue_name(dict(r.props))
        if name in targets or allowlisted(config, r.name):
            continue
        policy = policies.get(name)
        if not isinstance(policy, dict):
            report_violation(f"{r.name}: queue has no dead-letter queue; a message that keeps failing is retried "
                             f"until it expires and is lost. Fix: {REMEDIATION}.", r.urn)
        elif int(policy.get("maxReceiveCount", 0)) < minimum:
            report_violation(f"{r.name}: maxReceiveCount {policy.get('maxReceiveCount')} is below {minimum}; a "
                             f"throttled burst would send good messages to the DLQ. Fix: {REMEDIATION}.", r.urn)


POLICY = StackValidationPolicy(
    name="queue-dead-letter",
    description="Every SQS queue that is not a dead-letter target redrives to one with maxReceiveCount >= 5.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    config_schema=PolicyConfigSchema(properties={
        "allowlist": ALLOWLIST_SCHEMA,
        "minMaxReceiveCount": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 5},
    }),
    remediation_steps=REMEDIATION,
)
