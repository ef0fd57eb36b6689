"""Stack rule: every queue that is not a dead-letter target has a redrive policy with maxReceiveCount >= 5."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, StackValidationArgs, StackValidationPolicy

from ._common import ALLOWLIST_SCHEMA, UnknownInPreview, allowlisted, as_json, is_unknown, judged, raw_props

QUEUE = "aws:sqs/queue:Queue"
REDRIVE = "aws:sqs/redrivePolicy:RedrivePolicy"
REMEDIATION = "give the queue a dead-letter queue: redrivePolicy {deadLetterTargetArn, maxReceiveCount >= 5}"


def queue_name(props: dict[str, Any]) -> str:
    """A queue's name from its ``name``, ``arn`` or ``url`` (whichever is set); may hold an unknown sentinel."""
    if props.get("name"):
        return str(props["name"])
    return str(props.get("arn") or props.get("url") or "").replace("/", ":").rsplit(":", 1)[-1]


def _policies(args: StackValidationArgs) -> dict[str, Any]:
    """Queue name -> its redrive policy, inline on the queue or from a RedrivePolicy resource."""
    policies: dict[str, Any] = {}
    for r in args.resources:
        if r.resource_type == QUEUE:
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


def _validate(args: StackValidationArgs, report_violation: Any) -> None:
    config = args.get_config()
    minimum = int(config.get("minMaxReceiveCount", 5))
    policies = _policies(args)
    targets = {str(p.get("deadLetterTargetArn", "")).rsplit(":", 1)[-1] for p in policies.values()
               if isinstance(p, dict)}
    for r in args.resources:
        if r.resource_type != QUEUE:
            continue
        name = queue_name(raw_props(r))
        if name in targets or allowlisted(config, r.urn):
            continue
        policy = policies.get(name)
        if policy is None and is_unknown(name):
            raise UnknownInPreview(f"{r.name}: its name is not known in this preview, so whether it is a "
                                   f"dead-letter queue is judged when `pulumi up` registers it")
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
