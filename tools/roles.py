"""`orderflow roles`: the identity policies of the two CI roles of a stack, from its synthesized ARNs.

Writes ``OUT/preview-policy.json`` (the role of `pulumi preview` on pull requests) and
``OUT/deploy-policy.json`` (the role of `pulumi up` and of the smoke run after it, one per environment).
Both are written by policy_sentry's policy writer from the stack's ARNs and access levels (CRUD mode:
https://policy-sentry.readthedocs.io/en/latest/command-line/write-policy.html), never from a hand-kept
list of actions:

- preview: Read and List on each resource of the stack, without the reads of the data it holds (messages,
  items, log events); plus what a preview calls beyond the stack: ``sts:GetCallerIdentity`` (the program's
  getCallerIdentity), ``states:ValidateStateMachineDefinition`` (pulumi-aws 7 validates a changed
  definition in preview, Terraform AWS provider 5.67:
  https://github.com/hashicorp/terraform-provider-aws/blob/main/CHANGELOG.md) and ``ssm:GetParameter`` on
  the Powertools layer's public parameters (https://docs.powertools.aws.dev/lambda/python/latest/#lambda-layer);
- deploy: Read, Write, List, Tagging and Permissions management on each resource of the stack and on its
  executions, the layer version read, and the resource-less calls of `pulumi up`; ``iam:PassRole`` only on
  the stack's roles, each to the one service its trust policy names (``iam:PassedToService``:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PassedToService).

Event source mappings get an ARN with a UUID AWS assigns at creation, so the deploy policy grants their
actions on the account's mappings narrowed to the worker by the ``lambda:FunctionArn`` condition key
(https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-conditions.html).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

from components import arn_patterns
from components.aws_context import AwsContext
from tools.emulator.deploy import export_region
from tools.synth_mocks import ACCOUNT_ID

PREVIEW_CALLS = ("sts:GetCallerIdentity", "states:ValidateStateMachineDefinition")
"""Resource-less actions a preview calls (the AWS action database lists them with Resource "*" only)."""
DEPLOY_CALLS = (*PREVIEW_CALLS, "lambda:CreateEventSourceMapping", "lambda:ListEventSourceMappings",
                "logs:DescribeLogGroups")
"""Resource-less actions `pulumi up` calls: the preview's, creating and listing event source mappings,
and the log group lookup the provider does on create."""
DATA_READS = (
    "sqs:ReceiveMessage",
    "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PartiQLSelect",
    "dynamodb:Query", "dynamodb:Scan", "dynamodb:ReadDataForReplication",
    "logs:FilterLogEvents", "logs:GetLogRecord", "logs:GetQueryResults", "logs:StartLiveTail",
    "logs:StartQuery", "logs:Unmask", "states:ListExecutions",
)
"""Read-level actions on the data a stack holds: a preview reads configuration, never orders or logs."""
UNUSED_READS = ("iam:GenerateServiceLastAccessedDetails", "iam:ListPoliciesGrantingServiceAccess",
                "dynamodb:GetResourcePolicy")
"""Reads the access levels include that neither a preview nor `pulumi up` of this program calls."""
NOT_USED = (*UNUSED_READS, "iam:PassRole", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
            "iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "lambda:PassCapacityProvider",
            "lambda:EnableReplication", "lambda:DisableReplication", "dynamodb:PutResourcePolicy",
            "dynamodb:DeleteResourcePolicy")
"""Actions the access levels include that `pulumi up` of this program never calls: iam:PassRole (granted
per role below), managed policies (the pack forbids them), permission boundaries, service-linked roles,
Lambda@Edge replication, capacity providers (policy_sentry adds it beside CreateEventSourceMapping), table
resource policies."""
EVENT_SOURCE_MAPPING_ACTIONS = ("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping",
                                "lambda:DeleteEventSourceMapping")
POWERTOOLS_PARAMETERS = "arn:aws:ssm:{region}::parameter/aws/service/powertools/python/*"
"""The public parameters that name the Powertools layer version (AWS owns them: no account in the ARN)."""


class RolesError(ValueError):
    """A bad argument; ``str(error)`` is one line for the user."""


def stack_arns(export: dict[str, Any], account: str) -> dict[str, list[str]]:
    """The ARNs of a stack export, by kind: ``resources`` (every custom resource's ``outputs.arn``),
    ``executions`` (of its state machines), ``keys`` (the queues' KMS keys), ``roles`` and ``services`` (each
    role's ARN and the service it trusts, in the same order), ``layers`` (every version of each function's
    layers), ``functions``."""
    resources: list[str] = []
    executions: list[str] = []
    roles: dict[str, str] = {}
    layers: list[str] = []
    functions: list[str] = []
    keys: list[str] = []
    for r in export.get("deployment", {}).get("resources", []):
        arn = str((r.get("outputs") or {}).get("arn") or "").replace(f":{ACCOUNT_ID}:", f":{account}:")
        if not r.get("custom") or not arn or r["type"] == "aws:lambda/eventSourceMapping:EventSourceMapping":
            continue
        resources.append(arn)
        if r["type"] == "aws:sfn/stateMachine:StateMachine":
            executions.append(arn.replace(":stateMachine:", ":execution:") + ":*")
        elif r["type"] == "aws:iam/role:Role":
            roles[arn] = _trusted_service(r["inputs"].get("assumeRolePolicy"))
        elif r["type"] == "aws:sqs/queue:Queue" and str(r["inputs"].get("kmsMasterKeyId", "")).startswith("arn:"):
            keys.append(str(r["inputs"]["kmsMasterKeyId"]))
        elif r["type"] == "aws:lambda/function:Function":
            functions.append(arn)
            layers += [_every_version(str(layer)) for layer in r["inputs"].get("layers") or []]
    return {"resources": resources, "executions": executions, "roles": list(roles), "services": list(roles.values()), "layers": layers,
            "functions": functions, "keys": sorted(set(keys))}


def _every_version(layer_version_arn: str) -> str:
    """``arn:...:layer:NAME:*`` for ``arn:...:layer:NAME:VERSION``: the synth's version is a stand-in, and the
    deployed one is whatever the layer parameter names in the stack's region (one layer, any of its versions)."""
    return layer_version_arn.rsplit(":", 1)[0] + ":*"


def _trusted_service(document: Any) -> str:
    doc = json.loads(document) if isinstance(document, str) else document or {}
    for statement in doc.get("Statement", []):
        service = (statement.get("Principal") or {}).get("Service")
        if service:
            return str(service[0] if isinstance(service, list) else service)
    raise RolesError("a role of the stack trusts no AWS service; cannot scope iam:PassRole")


def _crud(levels: dict[str, list[str]], single: tuple[str, ...], exclude: tuple[str, ...]) -> dict[str, Any]:
    """policy_sentry's CRUD template: ``levels`` maps an access level (read, write, list, tagging,
    permissions-management) to its ARNs; ``single`` are resource-less actions; ``exclude`` never appear."""
    from policy_sentry.command.write_policy import write_policy_with_template
    from policy_sentry.writing.template import get_crud_template_dict

    template = copy.deepcopy(get_crud_template_dict())  # the library hands out one shared dict
    template.update({level: list(arns) for level, arns in levels.items()})
    template["wildcard-only"]["single-actions"] = list(single)
    template["exclude-actions"] = list(exclude)
    policy = dict(write_policy_with_template(template))
    policy["Statement"] = _merged(policy["Statement"])
    return policy


LEVELS = re.compile(r"(Read|Write|List|Tagging|Permissionsmanagement)")


def _merged(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One statement per resource list (policy_sentry writes one per access level, repeating the ARNs), so a
    policy fits IAM's inline size quota: 10,240 characters per role, whitespace not counted
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""
    merged: dict[tuple[str, ...], dict[str, Any]] = {}
    for statement in statements:
        key = tuple(statement["Resource"])
        if key not in merged:
            sid = "ResourceLess" if key == ("*",) else LEVELS.sub("", statement["Sid"], count=1)
            merged[key] = {"Sid": sid, "Effect": "Allow", "Action": [], "Resource": list(key)}
        merged[key]["Action"] = sorted({*merged[key]["Action"], *statement["Action"]})
    return list(merged.values())


def preview_policy(export: dict[str, Any], region: str, account: str) -> dict[str, Any]:
    """Read and list on the stack, what a preview calls, and the Powertools parameter read."""
    found = stack_arns(export, account)
    policy = _crud({"read": found["resources"], "list": found["resources"]}, PREVIEW_CALLS, DATA_READS + UNUSED_READS)
    policy["Statement"].append({"Sid": "PowertoolsLayerParameter", "Effect": "Allow", "Action": ["ssm:GetParameter"],
                                "Resource": [POWERTOOLS_PARAMETERS.format(region=region)]})
    return policy


def deploy_policy(export: dict[str, Any], region: str, account: str) -> dict[str, Any]:
    """What `pulumi up` (and the smoke run) needs on the stack's own names; PassRole per role and service."""
    found = stack_arns(export, account)
    arns = found["resources"] + found["executions"]  # the smoke run starts, reads and may stop executions
    levels = dict.fromkeys(("write", "list", "tagging", "permissions-management"), arns)
    levels["read"] = arns + found["layers"]  # the Powertools layer belongs to AWS's account: read it, nothing more
    policy = _crud(levels, DEPLOY_CALLS, NOT_USED)
    statements: list[dict[str, Any]] = policy["Statement"]
    statements.append({"Sid": "PowertoolsLayerParameter", "Effect": "Allow", "Action": ["ssm:GetParameter"],
                       "Resource": [POWERTOOLS_PARAMETERS.format(region=region)]})
    for n, (role, service) in enumerate(zip(found["roles"], found["services"], strict=True)):
        statements.append({"Sid": f"PassRole{n}", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": [role],
                           "Condition": {"StringEquals": {"iam:PassedToService": service}}})
    if found["keys"]:  # the smoke run reads the DLQ: SQS decrypts with the caller's permission on the key
        statements.append({"Sid": "QueueKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": found["keys"]})
    statements.append({
        "Sid": "WorkerEventSourceMapping", "Effect": "Allow", "Action": list(EVENT_SOURCE_MAPPING_ACTIONS),
        "Resource": [AwsContext(_partition(found["functions"]), region, account).arn("lambda", "event-source-mapping:*")],
        "Condition": {"ArnEquals": {"lambda:FunctionArn": found["functions"]}},
    })
    return policy


def _partition(arns: list[str]) -> str:
    """The partition the stack's ARNs name (``aws``, ``aws-cn``, ...)."""
    return arns[0].split(":")[1] if arns else "aws"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default="dev", help="stack name (Pulumi.<stack>.yaml); default dev")
    parser.add_argument("--out", default=None, help="folder for the two policies (default build/roles-<stack>)")
    parser.add_argument("--account", default=ACCOUNT_ID,
                        help=f"the 12-digit AWS account the stack deploys to (default {ACCOUNT_ID}, the synth's)")
    args = parser.parse_args(argv)
    if not re.fullmatch(arn_patterns.ACCOUNT, args.account):
        print(f"error: --account {args.account!r} is not a 12-digit AWS account id; give the account the stack "
              f"deploys to (aws sts get-caller-identity)", file=sys.stderr)
        return 2
    from components.settings import SettingsError
    from tools.synth import available_stacks, synthesize

    if args.stack not in available_stacks():
        print(f"error: --stack {args.stack}: no Pulumi.{args.stack}.yaml; stacks: {', '.join(available_stacks())}",
              file=sys.stderr)
        return 2

    try:
        export = synthesize(args.stack)
        region = export_region(export)
        policies = {"preview-policy.json": preview_policy(export, region, args.account),
                    "deploy-policy.json": deploy_policy(export, region, args.account)}
    except (SettingsError, RolesError) as error:
        print(f"error: stack {args.stack}: {error}", file=sys.stderr)
        return 2
    out = Path(args.out or f"build/roles-{args.stack}")
    out.mkdir(parents=True, exist_ok=True)
    for name, policy in policies.items():
        (out / name).write_text(json.dumps(policy, indent=2) + "\n")
        actions = sum(len(s["Action"]) for s in policy["Statement"])
        print(f"wrote {out / name}: {len(policy['Statement'])} statements, {actions} actions", file=sys.stderr)
    if args.account == ACCOUNT_ID:
        print(f"note: the policies name account {ACCOUNT_ID} (the synth's); for yours: "
              f"uv run orderflow roles --stack {args.stack} --account <12 digits>", file=sys.stderr)
    return 0


if __name__ == "__main__":
    from tools.cli import guarded

    sys.exit(guarded("roles", main))
