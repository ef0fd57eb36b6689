"""`orderflow roles`: the identity policies of a stack's three CI identities, from its synthesized resources.

Writes, for STACK, ``OUT/preview-policy.json`` (the role of `pulumi preview` on pull requests: read-only),
``OUT/deploy-policy.json`` (the role of `pulumi up`: what the provider calls to create, read, update, tag and
delete each resource of the stack, and nothing on the data it holds) and ``OUT/smoke-policy.json`` (the role of
the smoke run after a deploy: its own orders, skus and dead letters). The actions per resource type are kept in
:mod:`tools.role_actions`; the ARNs are the stack's own, for the account given.

Each role's policy must fit IAM's quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html):
a role's inline policies total at most 10,240 characters, a managed policy at most 6,144, and a role takes at most
10 managed policies (the default; whitespace is not counted). A policy within the inline quota is written as one
file, put as an inline policy; a larger one is split into managed policies ``<role>-policy-1.json``, ... each within
6,144 characters; a role that needs more than 10 is refused (exit 1, naming the role). Output is deterministic:
statements, actions and resources sorted.

Event source mappings get an ARN with a UUID AWS assigns at creation, so their actions go on the account's mappings
narrowed to the worker by ``lambda:FunctionArn``
(https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-conditions.html); ``lambda:ListTags`` has no
such key (the Service Authorization Reference lists only ``aws:ResourceTag``), so it alone names every mapping:
it reads tags, nothing else. ``iam:PassRole`` is granted only on the stack's roles, each to the one service its
trust policy names (``iam:PassedToService``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from orderflow import arn_patterns
from orderflow.quota import QUOTA_CODE

from tools import role_actions as ra
from tools.synth_mocks import ACCOUNT_ID

ROLES = ("preview", "deploy", "smoke")
INLINE_QUOTA = 10_240
"""Characters (whitespace not counted) of all inline policies of one role."""
MANAGED_QUOTA = 6_144
"""Characters (whitespace not counted) of one managed policy."""
MANAGED_PER_ROLE = 10
"""Managed policies attached to one role (the default quota)."""
POWERTOOLS_PARAMETERS = "arn:{partition}:ssm:{region}::parameter/aws/service/powertools/python/*"
"""The public parameters that name the Powertools layer version (AWS owns them: no account in the ARN)."""
ESM = "aws:lambda/eventSourceMapping:EventSourceMapping"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"


class RolesError(ValueError):
    """A bad argument or a stack the roles cannot be written for; ``str(error)`` is one line for the user."""


class QuotaError(RolesError):
    """A role's policy does not fit IAM's quotas even split into managed policies."""


class Stack:
    """The ARNs of one stack export, for the account given (the synth's account replaced)."""

    def __init__(self, export: dict[str, Any], account: str) -> None:
        self.account = account
        self.resources = [r for r in export.get("deployment", {}).get("resources", [])
                          if r.get("custom") and not r["type"].startswith("pulumi:providers:")]
        providers = [r for r in export.get("deployment", {}).get("resources", [])
                     if r["type"] == "pulumi:providers:aws"]
        self.region = str((providers[0].get("inputs") or {}).get("region", "")) if providers else ""
        arns = [self.arn(r) for r in self.resources if self.arn(r)]
        self.partition = arns[0].split(":")[1] if arns else "aws"

    def arn(self, r: dict[str, Any]) -> str:
        return self._local(str((r.get("outputs") or {}).get("arn") or ""))

    def _local(self, arn: str) -> str:
        return arn.replace(f":{ACCOUNT_ID}:", f":{self.account}:")

    def of_type(self, typ: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == typ]

    def targets(self, r: dict[str, Any]) -> list[str]:
        """The ARNs a resource type's actions act on for resource ``r``."""
        inputs = r.get("inputs") or {}
        if r["type"] == "aws:sqs/queuePolicy:QueuePolicy":
            return [self.build("sqs", str(inputs["queueUrl"]).rstrip("/").rsplit("/", 1)[1])]
        if r["type"] == "aws:iam/rolePolicy:RolePolicy":
            return [f"arn:{self.partition}:iam::{self.account}:role/{inputs['role']}"]
        if r["type"] in (RULE, TARGET):  # a target's actions act on its rule
            return [self.rule_arn(str(inputs["name" if r["type"] == RULE else "rule"]),
                                  str(inputs.get("eventBusName") or "default"))]
        if r["type"] in (ESM, SUBSCRIPTION):
            return []  # statements of their own
        return [self.arn(r)]

    def rule_arn(self, name: str, bus: str) -> str:
        """An EventBridge rule's ARN: ``rule/<name>`` on the default bus, ``rule/<bus>/<name>`` on another
        (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html)."""
        return self.build("events", f"rule/{name}" if bus == "default" else f"rule/{bus.rsplit('/', 1)[-1]}/{name}")

    def build(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def functions(self) -> list[str]:
        return sorted(self.arn(r) for r in self.of_type("aws:lambda/function:Function"))

    def machines(self) -> list[str]:
        return sorted(self.arn(r) for r in self.of_type("aws:sfn/stateMachine:StateMachine"))

    def queue_keys(self) -> list[str]:
        return sorted({str(r["inputs"]["kmsMasterKeyId"]) for r in self.of_type("aws:sqs/queue:Queue")
                       if str((r.get("inputs") or {}).get("kmsMasterKeyId", "")).startswith("arn:")})

    def table_keys(self) -> list[str]:
        return sorted({str(r["inputs"]["serverSideEncryption"]["kmsKeyArn"])
                       for r in self.of_type("aws:dynamodb/table:Table")
                       if ((r.get("inputs") or {}).get("serverSideEncryption") or {}).get("kmsKeyArn")})

    def dead_letter_queues(self) -> list[str]:
        found = set()
        for r in self.of_type("aws:sqs/queue:Queue"):
            policy = (r.get("inputs") or {}).get("redrivePolicy")
            if policy:
                found.add(self._local(str(json.loads(policy)["deadLetterTargetArn"])))
        return sorted(found)


def statement(sid: str, actions: Any, resources: Any, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    st: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)),
                          "Resource": sorted(set(resources))}
    if condition:
        st["Condition"] = condition
    return st


def _scoped(stack: Stack, phases: tuple[str, ...]) -> list[dict[str, Any]]:
    """One statement per resource type: its actions of ``phases`` on the stack's resources of that type."""
    by_type: dict[str, set[str]] = defaultdict(set)
    for r in stack.resources:
        if r["type"] not in ra.RESOURCE_ACTIONS:
            raise RolesError(f"resource type {r['type']} has no actions in tools/role_actions.py; add its provider "
                             "calls there")
        by_type[r["type"]].update(stack.targets(r))
    found = []
    for typ, arns in sorted(by_type.items()):
        if not arns:
            continue
        actions = [a for phase in phases for a in getattr(ra.RESOURCE_ACTIONS[typ], phase)]
        scoped = [a for a in actions if a not in _resource_less()]
        found.append(statement(typ.rsplit(":", 1)[1], scoped, arns))
    return found


def _resource_less() -> frozenset[str]:
    """Actions of the table that the Service Authorization Reference lists with Resource "*" only."""
    return frozenset({"logs:DescribeLogGroups", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes",
                      "sns:Unsubscribe", "lambda:CreateEventSourceMapping"})


def _every_stack_call(stack: Stack, phases: tuple[str, ...]) -> list[dict[str, Any]]:
    """Resource-less calls, mappings, subscriptions, invokes and the layer, for ``phases``."""
    writing = "write" in phases
    star = {*ra.PROVIDER_CALLS, *ra.PREVIEW_CALLS}
    types = {r["type"] for r in stack.resources}
    for typ in types:
        star |= {a for phase in phases for a in getattr(ra.RESOURCE_ACTIONS[typ], phase) if a in _resource_less()}
    star.discard("lambda:CreateEventSourceMapping")  # narrowed to the worker below
    found = [statement("ResourceLess", star, ["*"])]
    functions = {"ArnEquals": {"lambda:FunctionArn": stack.functions()}}
    if ESM in types:
        mappings = stack.build("lambda", "event-source-mapping:*")
        esm = [a for phase in phases for a in getattr(ra.RESOURCE_ACTIONS[ESM], phase)]
        found.append(statement("WorkerEventSourceMapping", [a for a in esm if a not in
                                                            ("lambda:ListTags", "lambda:CreateEventSourceMapping")],
                               [mappings], functions))
        found.append(statement("EventSourceMappingTags", ["lambda:ListTags"], [mappings]))
        if writing:
            found.append(statement("CreateWorkerEventSourceMapping", ["lambda:CreateEventSourceMapping"], ["*"],
                                   functions))
    found += _subscriptions(stack, writing)
    found.append(statement("PowertoolsLayerParameter", ra.LAYER_PARAMETER,
                           [POWERTOOLS_PARAMETERS.format(partition=stack.partition, region=stack.region)]))
    if any(r["inputs"].get("reservedConcurrentExecutions", -1) >= 0
           for r in stack.of_type("aws:lambda/function:Function")):
        found.append(statement("ConcurrencyQuota", ra.QUOTA_PREFLIGHT,
                               [stack.build("servicequotas", f"lambda/{QUOTA_CODE}")]))
    return found


def _subscriptions(stack: Stack, writing: bool) -> list[dict[str, Any]]:
    subscriptions = stack.of_type(SUBSCRIPTION)
    if not subscriptions:
        return []
    topics = sorted({stack._local(str(r["inputs"]["topic"])) for r in subscriptions})
    found = [statement("AlarmSubscriptionsList", ["sns:ListSubscriptionsByTopic"], topics)]
    if writing:
        found.append(statement("AlarmSubscriptions", ["sns:Subscribe"], topics, {"StringEquals": {
            "sns:Protocol": sorted({str(r["inputs"]["protocol"]) for r in subscriptions}),
            "sns:Endpoint": sorted({str(r["inputs"]["endpoint"]) for r in subscriptions})}}))
    return found


def _deploy_only(stack: Stack) -> list[dict[str, Any]]:
    """PassRole per role and service, the layer, and the table key's grant (a deploy's, never a preview's)."""
    found = []
    for n, r in enumerate(sorted(stack.of_type("aws:iam/role:Role"), key=stack.arn)):
        found.append(statement(f"PassRole{n}", ["iam:PassRole"], [stack.arn(r)],
                               {"StringEquals": {"iam:PassedToService": _trusted_service(r)}}))
    layers = sorted({str(layer).rsplit(":", 1)[0] + ":*" for r in stack.of_type("aws:lambda/function:Function")
                     for layer in r["inputs"].get("layers") or []})
    if layers:  # the synth's version number is a stand-in: every version of the one layer
        found.append(statement("PowertoolsLayer", ra.LAYER_READ, layers))
    keys = stack.table_keys()
    if keys:
        via = {"StringEquals": {"kms:ViaService": f"dynamodb.{stack.region}.amazonaws.com"}}
        found.append(statement("TableKeyGrant", ["kms:CreateGrant"], keys,
                               {**via, "Bool": {"kms:GrantIsForAWSResource": "true"}}))
        found.append(statement("TableKeyDescribe", ["kms:DescribeKey"], keys, via))
    return found


def _trusted_service(role: dict[str, Any]) -> str:
    document = role["inputs"].get("assumeRolePolicy")
    doc = json.loads(document) if isinstance(document, str) else document or {}
    for st in doc.get("Statement", []):
        service = (st.get("Principal") or {}).get("Service")
        if service:
            return str(service[0] if isinstance(service, list) else service)
    raise RolesError("a role of the stack trusts no AWS service; cannot scope iam:PassRole")


def _backend(url: str | None, writing: bool) -> list[dict[str, Any]]:
    """A self-managed S3 backend's state: the deploy role reads and writes it, the preview role reads it and takes
    and releases the stack's lock (a preview locks the stack as an update does: pulumi/pulumi
    pkg/backend/diy/backend.go, ``Preview`` calls ``Lock``)."""
    if not url:
        return []
    bucket, prefix = parse_backend_url(url)
    root = f"{prefix}.pulumi"
    objects = [f"arn:aws:s3:::{bucket}/{root}/*"] if writing else [f"arn:aws:s3:::{bucket}/{root}/locks/*"]
    found = [statement("PulumiStateBucket", ra.STATE_BUCKET, [f"arn:aws:s3:::{bucket}"]),
             statement("PulumiStateWrite", ["s3:DeleteObject", "s3:PutObject"], objects)]
    if not writing:
        found.append(statement("PulumiStateRead", ["s3:GetObject"], [f"arn:aws:s3:::{bucket}/{root}/*"]))
    else:
        found[1] = statement("PulumiState", ra.STATE_OBJECTS, objects)
    return found


def parse_backend_url(url: str) -> tuple[str, str]:
    """(bucket, prefix ending in "/" or empty) of ``s3://bucket[/prefix][?query]``; RolesError otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", parts.netloc or ""):
        raise RolesError(f"--backend-url {url!r}: only an S3 backend, s3://<bucket>[/<prefix>], gets statements "
                         "here; for another backend grant the CI identities its access where it lives")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""


def preview_policy(stack: Stack, backend: str | None = None) -> list[dict[str, Any]]:
    """Read-only: each resource's reads, the preview's calls, the program's invokes."""
    return _scoped(stack, ("read",)) + _every_stack_call(stack, ("read",)) + _backend(backend, writing=False)


def deploy_policy(stack: Stack, backend: str | None = None) -> list[dict[str, Any]]:
    """What `pulumi up` calls on the stack's own resources: reads and writes, nothing on their data."""
    return (_scoped(stack, ("read", "write")) + _every_stack_call(stack, ("read", "write")) + _deploy_only(stack)
            + _backend(backend, writing=True))


def smoke_policy(stack: Stack) -> list[dict[str, Any]]:
    """The smoke run's calls on the stack's data (tools/smoke.py): nothing else."""
    machines = stack.machines()
    executions = [m.replace(":stateMachine:", ":execution:") + ":*" for m in machines]
    tables = sorted(stack.arn(r) for r in stack.of_type("aws:dynamodb/table:Table"))
    found = [statement("StartOrders", ra.SMOKE["aws:sfn/stateMachine:StateMachine"], machines),
             statement("WatchOrders", ra.SMOKE["executions"], executions),
             statement("SmokeSkus", ra.SMOKE["aws:dynamodb/table:Table"], tables),
             statement("ReadDeadLetters", ra.SMOKE["dead-letter queue"], stack.dead_letter_queues())]
    if stack.queue_keys():
        found.append(statement("DecryptDeadLetters", ra.SMOKE["queue key"], stack.queue_keys()))
    return found


def merged(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Statements on the same resources and conditions as one (the Sids joined), sorted by Sid: a queue's and its
    queue policy's actions are one statement on the queues."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for st in statements:
        groups[json.dumps([st["Resource"], st.get("Condition")], sort_keys=True)].append(st)
    joined = []
    for group in groups.values():
        sids = sorted(str(st["Sid"]) for st in group)
        joined.append(statement("".join(sids), [a for st in group for a in st["Action"]], group[0]["Resource"],
                                group[0].get("Condition")))
    return sorted(joined, key=lambda st: str(st["Sid"]))


def policies(export: dict[str, Any], account: str, backend: str | None = None) -> dict[str, dict[str, Any]]:
    """The three roles' policy documents (role -> document)."""
    stack = Stack(export, account)
    built = {"preview": preview_policy(stack, backend), "deploy": deploy_policy(stack, backend),
             "smoke": smoke_policy(stack)}
    return {role: {"Version": "2012-10-17", "Statement": merged(statements)} for role, statements in built.items()}


def default_out(stack: str, program: Path | None) -> str:
    """``build/roles-<stack>``; for another program ``build/roles-<its folder's name>-<stack>``, so that its roles
    never overwrite the root program's."""
    folder = f"{program.resolve().name}-" if program is not None else ""
    return f"build/roles-{folder}{stack.rsplit('/', 1)[-1]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None,
                                     epilog="exit codes: 0 written; 1 a role cannot fit IAM's quotas; 2 bad input")
    parser.add_argument("--stack", default="dev", help="stack name or reference (Pulumi.<stack>.yaml); default dev")
    parser.add_argument("--out", default=None, help="folder for the policies (default build/roles-<stack>; for a --program, "
                        "build/roles-<its folder's name>-<stack>)")
    parser.add_argument("--account", default=ACCOUNT_ID,
                        help=f"the 12-digit AWS account the stack deploys to (default {ACCOUNT_ID}, the synth's)")
    parser.add_argument("--backend-url", default=None,
                        help="a self-managed backend s3://bucket[/prefix]: the preview and deploy roles get its state")
    parser.add_argument("--program", type=Path, default=None,
                        help="the program's project folder, with its Pulumi.yaml and Pulumi.<stack>.yaml (default: "
                             "the root program)")
    args = parser.parse_args(argv)
    from tools.synth import program_folder_problem

    if args.program is not None and (problem := program_folder_problem(args.program)):
        print(f"error: PROGRAM {args.program}: {problem}", file=sys.stderr)
        return 2
    if not re.fullmatch(arn_patterns.ACCOUNT, args.account):
        print(f"error: --account {args.account!r} is not a 12-digit AWS account id; give the account the stack "
              f"deploys to (aws sts get-caller-identity)", file=sys.stderr)
        return 2
    from orderflow.settings import SettingsError

    from tools.deployed.outputs import stack_name
    from tools.role_layout import write_roles
    from tools.synth import error_lines, quiet_warnings, synthesize

    quiet_warnings()
    try:
        if args.backend_url:
            parse_backend_url(args.backend_url)
        export = synthesize(args.stack, program=args.program, stack_file=None if args.program is None else
                            args.program / f"Pulumi.{stack_name(args.stack)}.yaml")
        built = policies(export, args.account, args.backend_url)
        out = Path(args.out or default_out(args.stack, args.program))
        if args.program is not None:  # `make smoke` runs the root program's smoke orders only
            del built["smoke"]
            for old in out.glob("smoke-policy*.json"):
                old.unlink()
        written = write_roles(built, out)
    except QuotaError as error:
        print(f"error: stack {args.stack}: {error}", file=sys.stderr)
        return 1
    except RolesError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except SettingsError as error:
        print("\n".join(error_lines(error, f"Pulumi.{args.stack.rsplit('/', 1)[-1]}.yaml")), file=sys.stderr)
        return 2
    for line in written:
        print(line, file=sys.stderr)
    if args.program is not None:
        print(f"note: no smoke role for PROGRAM={args.program}: make smoke runs the root program's smoke orders "
              "only", file=sys.stderr)
    if args.account == ACCOUNT_ID:
        program = f" PROGRAM={args.program}" if args.program else ""
        print(f"note: the policies name account {ACCOUNT_ID} (the synth's); for yours: "
              f"make roles{program} STACK={args.stack} ACCOUNT=<12 digits>", file=sys.stderr)
    return 0


if __name__ == "__main__":
    from tools.cli import guarded

    sys.exit(guarded("roles", main))
