"""EventBridge rules on Step Functions execution status changes, played in process.

moto's Step Functions emits no events, and moto's input transformer inserts a string value unquoted (a template
``{"order": <input>}`` with ``detail.input`` a JSON string gives an object, where EventBridge gives a string). So
the run plays what EventBridge does for a rule of the export: when an execution of the orchestrating state machine
is seen ended, it builds the "Step Functions Execution Status Change" event
(https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html), matches it against each rule's event
pattern (exact values, nested; https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html),
and sends each matching target what EventBridge would:

- ``InputTransformer``: each ``inputPaths`` variable is the value at its JSON path in the event (dot notation and
  array indices); in ``inputTemplate`` a placeholder ``<var>`` outside a JSON string becomes the value as JSON (a
  string quoted), inside a string its text (a string as is, anything else as JSON) escaped so that the output stays
  valid JSON: EventBridge "replaces input transformers at runtime to ensure a valid JSON output", so a variable
  holding a string is quoted in the template, one holding an object or array is not
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html, "Common Issues with
  transforming input"); ``detail.input`` of a status change is a string, so ``"order": "<input>"`` sends the
  execution's input as a JSON string (which the workers decode);
- ``Input``: that text; ``InputPath``: the value at the path, as JSON; neither: the whole event.

An SQS target is sent the message only when its queue policy allows ``events.amazonaws.com`` to send it with
``aws:SourceArn`` equal to the rule's ARN (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions);
a refused delivery is counted, never sent. Other targets are counted as not played.
"""

from __future__ import annotations

import datetime
import json
import re
import threading
import uuid
from collections import Counter
from typing import Any

import boto3

from tools.emulator.deploy import Deployment, RuleSpec, RuleTarget

DETAIL_TYPE = "Step Functions Execution Status Change"
SOURCE = "aws.states"
PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def status_change_event(description: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """The event Step Functions sends for an ended execution, from its DescribeExecution (dates in epoch ms)."""
    def millis(value: Any) -> int | None:
        return int(value.timestamp() * 1000) if isinstance(value, datetime.datetime) else None

    status = description["status"]
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": DETAIL_TYPE, "source": SOURCE, "account": account,
        "time": datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
        "resources": [description["executionArn"]],
        "detail": {
            "executionArn": description["executionArn"], "stateMachineArn": description["stateMachineArn"],
            "name": description["name"], "status": status, "startDate": millis(description.get("startDate")),
            "stopDate": millis(description.get("stopDate")), "input": description.get("input"),
            "output": description.get("output"), "inputDetails": {"included": True},
            "outputDetails": {"included": True} if description.get("output") is not None else None,
            "error": description.get("error"), "cause": description.get("cause"),
        },
    }


def matches(pattern: Any, event: Any) -> bool:
    """An event pattern of exact values: every key of the pattern is in the event; a list of values matches
    when the event's value (or any element of it, when a list) is one of them; a dict matches recursively."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(key in event and matches(value, event[key])
                                               for key, value in pattern.items())
    if isinstance(pattern, list):
        values = event if isinstance(event, list) else [event]
        return any(v == p for v in values for p in pattern if not isinstance(p, dict))
    return bool(pattern == event)


def path_value(event: Any, path: str) -> tuple[bool, Any]:
    """(found, value) at a JSON path ``$.detail.input`` or ``$.resources[0]``."""
    node = event
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.removeprefix("$").lstrip(".")):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(node, list) or index >= len(node):
                return False, None
            node = node[index]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False, None
    return True, node


def transform(transformer: dict[str, Any], event: dict[str, Any], rule: RuleSpec) -> str:
    """The text EventBridge sends for ``transformer`` (module doc)."""
    values: dict[str, tuple[bool, Any]] = {name: path_value(event, path)
                                           for name, path in (transformer.get("inputPaths") or {}).items()}
    values.update({"aws.events.rule-arn": (True, rule.arn), "aws.events.rule-name": (True, rule.name),
                   "aws.events.event.json": (True, event)})
    template = str(transformer.get("inputTemplate", ""))
    out, in_string, escaped, i = [], False, False, 0
    while i < len(template):
        char = template[i]
        found = PLACEHOLDER.match(template, i) if char == "<" else None
        if found and found.group(1) in values:
            present, value = values[found.group(1)]
            if in_string:  # the text, escaped so the output stays valid JSON
                text = (value if isinstance(value, str) else json.dumps(value)) if present else ""
                out.append(json.dumps(text)[1:-1])
            else:
                out.append(json.dumps(value) if present else "null")
            i = found.end()
            continue
        if in_string and char == "\\" and not escaped:
            escaped = True
        else:
            if char == '"' and not escaped:
                in_string = not in_string
            escaped = False
        out.append(char)
        i += 1
    return "".join(out)


def target_body(target: RuleTarget, event: dict[str, Any], rule: RuleSpec) -> str:
    if target.input_transformer:
        return transform(target.input_transformer, event, rule)
    if target.input is not None:
        return target.input
    if target.input_path:
        return json.dumps(path_value(event, target.input_path)[1])
    return json.dumps(event)


def queue_allows(policy: str | None, queue_arn: str, rule_arn: str) -> bool:
    """A queue policy lets EventBridge send for ``rule_arn``: an Allow of sqs:SendMessage (or sqs:*) to the
    service principal events.amazonaws.com on the queue, with no aws:SourceArn condition or one naming the rule."""
    if not policy:
        return False
    statements = json.loads(policy).get("Statement", [])
    for s in statements if isinstance(statements, list) else [statements]:
        principal = (s.get("Principal") or {}).get("Service") if isinstance(s.get("Principal"), dict) else None
        principals = principal if isinstance(principal, list) else [principal]
        actions = s.get("Action") if isinstance(s.get("Action"), list) else [s.get("Action")]
        resources = s.get("Resource") if isinstance(s.get("Resource"), list) else [s.get("Resource")]
        if s.get("Effect") != "Allow" or "events.amazonaws.com" not in principals or \
                not {"sqs:SendMessage", "sqs:*"} & set(actions) or not {queue_arn, "*"} & set(resources):
            continue
        conditions = [v for test in (s.get("Condition") or {}).values() for k, v in test.items()
                      if k.lower() == "aws:sourcearn"]
        if all(rule_arn in (v if isinstance(v, list) else [v]) for v in conditions):
            return True
    return False


class Rules:
    """The deployment's rules, played for each execution seen ended (once per execution)."""

    def __init__(self, d: Deployment) -> None:
        self.d = d
        self._sqs = boto3.client("sqs", region_name=d.region)
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self.sent: list[dict[str, str]] = []
        """Every message sent: ``{"rule", "queue", "execution", "messageId", "body"}``."""
        self.counts: Counter[str] = Counter()
        """``events`` (status changes played), ``delivered``, ``refused`` (queue policy), ``notPlayed``."""

    def __bool__(self) -> bool:
        return bool(self.d.rules)

    @property
    def played(self) -> set[str]:
        """Executions whose end was played."""
        with self._lock:
            return set(self._seen)

    def ended(self, description: dict[str, Any]) -> None:
        """Play every rule for one ended execution (a RUNNING one, or one already played, is skipped)."""
        arn = description["executionArn"]
        with self._lock:
            if description["status"] == "RUNNING" or arn in self._seen:
                return
            self._seen.add(arn)
        event = status_change_event(description, arn.split(":")[4], self.d.region)
        self.counts["events"] += 1
        for rule in self.d.rules:
            if matches(rule.pattern, event):
                for target in rule.targets:
                    self._deliver(rule, target, event)

    def _deliver(self, rule: RuleSpec, target: RuleTarget, event: dict[str, Any]) -> None:
        if target.arn.split(":")[2] != "sqs":
            self.counts["notPlayed"] += 1
            return
        url = self.d.queue_url_by_arn(target.arn)
        policy = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}).get("Policy")
        if not queue_allows(policy, target.arn, rule.arn):
            self.counts["refused"] += 1
            return
        body = target_body(target, event, rule)
        message = self._sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"]
        self.counts["delivered"] += 1
        self.sent.append({"rule": rule.name, "queue": target.arn, "execution": event["detail"]["executionArn"],
                          "messageId": message, "body": body})
