"""Least privilege, proven in the emulator: each role may make every call its code makes on its own
resources and is denied the same call on a neighbouring one.

SQS calls are made for real with the role's assumed credentials (moto enforces them per queue). moto
checks DynamoDB and Step Functions calls only against ``"*"``, so those are decided by moto's own IAM
policy engine on the exact ARNs, from the role's policies as deployed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto import settings
from moto.iam.access_control import IAMPolicy, PermissionResult
from orderflow.aws_context import AwsContext

from tools.emulator.deploy import Deployment


@dataclass(frozen=True)
class Check:
    role: str
    action: str
    resource: str
    expected: bool
    allowed: bool
    method: str
    target: str = ""
    """What the resource is to the role, for a reader: ``own queue``, ``neighbour table``, ..."""

    @property
    def ok(self) -> bool:
        return self.expected == self.allowed


def _policies(role: str, region: str) -> list[IAMPolicy]:
    iam = boto3.client("iam", region_name=region)
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    documents = [iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"] for n in names]
    return [IAMPolicy(d if isinstance(d, str) else json.dumps(d)) for d in documents]


def _engine_allows(policies: list[IAMPolicy], action: str, resource: str) -> bool:
    results = [p.is_action_permitted(action, resource) for p in policies]
    return PermissionResult.DENIED not in results and PermissionResult.PERMITTED in results


def _as_role(role_arn: str, region: str) -> boto3.Session:
    creds = boto3.client("sts", region_name=region).assume_role(RoleArn=role_arn, RoleSessionName="least-privilege")
    c = creds["Credentials"]
    return boto3.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                         aws_session_token=c["SessionToken"], region_name=region)


def _call_allowed(call: Callable[[], Any]) -> bool:
    before = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    try:
        call()
        return True
    except ClientError as error:
        if "AccessDenied" in str(error) or error.response["Error"]["Code"] in ("403", "AccessDenied"):
            return False
        raise
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = before


def granted(role: str, region: str, service: str, resource: str) -> list[str]:
    """The ``<service>:`` actions the role's deployed policies allow on exactly ``resource`` (an ARN a statement
    names, not a wildcard), sorted; what the program granted, read back from IAM."""
    iam = boto3.client("iam", region_name=region)
    found: set[str] = set()
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            actions, resources = statement.get("Action", []), statement.get("Resource", [])
            actions = actions if isinstance(actions, list) else [actions]
            resources = resources if isinstance(resources, list) else [resources]
            if statement.get("Effect") == "Allow" and resource in resources:
                found |= {a for a in actions if a.startswith(f"{service}:") and "*" not in a}
    return sorted(found)


@dataclass
class _Prover:
    """The checks of one deployment (see ``prove``)."""

    d: Deployment
    checks: list[Check]

    def real(self, role: str, action: str, url: str, arn: str, expected: bool, target: str,
             call: Callable[[Any, str], Any]) -> None:
        client = _as_role(self.d.roles[role], self.d.region).client("sqs")
        self.checks.append(Check(role, action, arn, expected, _call_allowed(lambda: call(client, url)), "call",
                                 target))

    def engine(self, role: str, action: str, resource: str, expected: bool, target: str) -> None:
        allowed = _engine_allows(_policies(role, self.d.region), action, resource)
        self.checks.append(Check(role, action, resource, expected, allowed, "policy engine", target))


def common_word_prefix(names: list[str]) -> str:
    """The longest run of whole ``-``-separated words every name starts with, ``-`` included, leaving each name at
    least one word of its own."""
    words = [name.split("-") for name in names]
    common = []
    for parts in zip(*words, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "".join(f"{w}-" for w in common[:min(map(len, words)) - 1])


def worker_labels(names: list[str]) -> dict[str, str]:
    """A short label per worker function name, for the checks' ``target``: ``worker`` for a program's only worker,
    else the name without the words all names share and without ``-worker`` (``order-workflow-dev-inventory-worker``
    and ``order-workflow-dev-payment-worker`` -> ``inventory``, ``payment``)."""
    if len(names) == 1:
        return {names[0]: "worker"}
    prefix = common_word_prefix(names)
    labels = {n: n[len(prefix):].removesuffix("-worker") or n for n in names}
    return labels if len(set(labels.values())) == len(names) else {n: n for n in names}


def prove(d: Deployment) -> list[Check]:
    """Run every check; the neighbours are created here and are not part of the stack.

    For each worker (one per event source mapping): its queue calls (receive, read attributes: a real call) allowed
    on its own queue and denied on a neighbour queue and on every other worker's queue, sending denied; each
    DynamoDB action its deployed policies grant on its own table (``granted``) allowed there and denied on a
    neighbour table and on every other worker's table (``target`` names it by its label, e.g. ``payment table``),
    DeleteTable denied; DescribeExecution allowed on the
    orchestrating state machine's executions when granted at all, denied on a neighbour's; StartExecution denied.
    The orchestrating state machine's role: SendMessage allowed on every worker's queue and denied on a neighbour
    queue, ReceiveMessage denied, no DynamoDB read of any worker's table.
    """
    sqs = boto3.client("sqs", region_name=d.region)
    neighbour_queue = sqs.create_queue(QueueName="neighbour-queue")["QueueUrl"]
    workers = d.workers()
    ctx = AwsContext(partition="aws", region=d.region, account_id=workers[0].mapping.queue_arn.split(":")[4])
    neighbour_queue_arn, neighbour_table_arn = ctx.queue_arn("neighbour-queue"), ctx.table_arn("neighbour-table")
    sm_name = d.state_machine_arn.rsplit(":", 1)[1]
    executions = ctx.executions_arns(sm_name)[0].replace("*", "some-order")
    neighbour_executions = ctx.executions_arns("neighbour-machine")[0].replace("*", "some-order")
    sm_role = next((m.role for m in d.state_machines.values() if m.arn == d.state_machine_arn and m.role),
                   next((n for n in d.roles if n.endswith("-sm-role")), ""))
    p = _Prover(d, [])
    labels = worker_labels([w.name for w in workers])
    queues = [(w.queue_url, w.mapping.queue_arn, labels[w.name]) for w in workers]
    tables = {w.name: ctx.table_arn(w.table) for w in workers if w.table}
    for worker in workers:
        role = worker.function.role.rsplit("/", 1)[-1] or next(n for n in d.roles if n.endswith("-worker-role"))
        others = [(u, a, label) for u, a, label in queues if a != worker.mapping.queue_arn]
        for url, arn, expected, target in ((worker.queue_url, worker.mapping.queue_arn, True, "own queue"),
                                           (neighbour_queue, neighbour_queue_arn, False, "neighbour queue"),
                                           *((u, a, False, f"{label} queue") for u, a, label in others)):
            p.real(role, "sqs:ReceiveMessage", url, arn, expected, target,
                   lambda c, u: c.receive_message(QueueUrl=u, VisibilityTimeout=0))
            p.real(role, "sqs:GetQueueAttributes", url, arn, expected, target,
                   lambda c, u: c.get_queue_attributes(QueueUrl=u, AttributeNames=["All"]))
            p.real(role, "sqs:SendMessage", url, arn, False, target,
                   lambda c, u: c.send_message(QueueUrl=u, MessageBody="{}"))
        own = tables.get(worker.name)
        for action in granted(role, d.region, "dynamodb", own) if own else []:
            p.engine(role, action, own, True, "own table")  # type: ignore[arg-type]
            p.engine(role, action, neighbour_table_arn, False, "neighbour table")
            for name, other in tables.items():
                if name != worker.name and other != own:
                    p.engine(role, action, other, False, f"{labels[name]} table")
        if own:
            p.engine(role, "dynamodb:DeleteTable", own, False, "own table")
        if any(granted(role, d.region, "states", r) for r in ctx.executions_arns(sm_name)):
            p.engine(role, "states:DescribeExecution", executions, True, "own executions")
            p.engine(role, "states:DescribeExecution", neighbour_executions, False, "neighbour executions")
        p.engine(role, "states:StartExecution", d.state_machine_arn, False, "own state machine")
    for url, arn, label in [*queues, (neighbour_queue, neighbour_queue_arn, "neighbour")]:
        expected, target = url != neighbour_queue, f"{label} queue"
        p.real(sm_role, "sqs:SendMessage", url, arn, expected, target,
               lambda c, u: c.send_message(QueueUrl=u, MessageBody='{"probe": true}'))
        p.real(sm_role, "sqs:ReceiveMessage", url, arn, False, target, lambda c, u: c.receive_message(QueueUrl=u))
    for name, table in tables.items():
        p.engine(sm_role, "dynamodb:GetItem", table, False, f"{labels[name]} table")
    _take_probes(sqs, [u for u, _, _ in queues])
    sqs.delete_queue(QueueUrl=neighbour_queue)
    return p.checks


def _take_probes(sqs: Any, urls: list[str]) -> None:
    """The probes the state machine role sent are not orders: take them off the work queues again."""
    for url in urls:
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            probes = [m for m in got if m["Body"] == '{"probe": true}']
            for message in probes:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            for message in got:
                if message not in probes:  # not ours: visible again at once
                    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                                  VisibilityTimeout=0)
            if len(probes) < len(got):
                break
