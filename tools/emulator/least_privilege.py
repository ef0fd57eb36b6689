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


def prove(d: Deployment) -> list[Check]:
    """Run every check; the neighbours are created here and are not part of the stack."""
    sqs = boto3.client("sqs", region_name=d.region)
    neighbour_queue = sqs.create_queue(QueueName="neighbour-queue")["QueueUrl"]
    ctx = AwsContext(partition="aws", region=d.region, account_id=d.mapping.queue_arn.split(":")[4])
    queue_arn = d.mapping.queue_arn
    neighbour_queue_arn = ctx.queue_arn("neighbour-queue")
    table_arn, neighbour_table_arn = ctx.table_arn(d.table), ctx.table_arn("neighbour-table")
    sm_name = d.state_machine_arn.rsplit(":", 1)[1]
    executions = ctx.executions_arns(sm_name)[0].replace("*", "some-order")
    neighbour_executions = ctx.executions_arns("neighbour-machine")[0].replace("*", "some-order")

    worker_role = next(n for n in d.roles if n.endswith("-worker-role"))
    sm_role = next(n for n in d.roles if n.endswith("-sm-role"))
    checks: list[Check] = []

    targets = {queue_arn: "own queue", neighbour_queue_arn: "neighbour queue", table_arn: "own table",
               neighbour_table_arn: "neighbour table", executions: "own executions",
               neighbour_executions: "neighbour executions", d.state_machine_arn: "own state machine"}

    def real(role: str, action: str, url: str, arn: str, expected: bool, call: Callable[[Any, str], Any]) -> None:
        client = _as_role(d.roles[role], d.region).client("sqs")
        checks.append(Check(role, action, arn, expected, _call_allowed(lambda: call(client, url)), "call",
                            targets[arn]))

    def engine(role: str, action: str, resource: str, expected: bool) -> None:
        allowed = _engine_allows(_policies(role, d.region), action, resource)
        checks.append(Check(role, action, resource, expected, allowed, "policy engine", targets[resource]))

    for url, arn, expected in ((d.work_queue_url, queue_arn, True), (neighbour_queue, neighbour_queue_arn, False)):
        real(worker_role, "sqs:ReceiveMessage", url, arn, expected,
             lambda c, u: c.receive_message(QueueUrl=u, VisibilityTimeout=0))
        real(worker_role, "sqs:GetQueueAttributes", url, arn, expected,
             lambda c, u: c.get_queue_attributes(QueueUrl=u, AttributeNames=["All"]))
        real(worker_role, "sqs:SendMessage", url, arn, False,
             lambda c, u: c.send_message(QueueUrl=u, MessageBody="{}"))
        real(sm_role, "sqs:SendMessage", url, arn, expected, lambda c, u: c.send_message(QueueUrl=u, MessageBody='{"probe": true}'))
        real(sm_role, "sqs:ReceiveMessage", url, arn, False, lambda c, u: c.receive_message(QueueUrl=u))
    for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"):
        engine(worker_role, action, table_arn, True)
        engine(worker_role, action, neighbour_table_arn, False)
    engine(worker_role, "dynamodb:DeleteTable", table_arn, False)
    engine(worker_role, "states:DescribeExecution", executions, True)
    engine(worker_role, "states:DescribeExecution", neighbour_executions, False)
    engine(worker_role, "states:StartExecution", d.state_machine_arn, False)
    engine(sm_role, "dynamodb:GetItem", table_arn, False)
    # the probes the state machine role sent are not orders: take them off the work queue again
    for message in sqs.receive_message(QueueUrl=d.work_queue_url, MaxNumberOfMessages=10).get("Messages", []):
        if message["Body"] == '{"probe": true}':
            sqs.delete_message(QueueUrl=d.work_queue_url, ReceiptHandle=message["ReceiptHandle"])
    sqs.delete_queue(QueueUrl=neighbour_queue)
    return checks
