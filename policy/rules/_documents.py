"""Where a resource grants access, whatever its provider: every policy document and every attached managed policy.

A policy document is found by its shape, not by the resource type: any property value (an object, or a string
holding JSON) with a ``Statement`` is one, at any depth (``aws:iam/role:Role.inlinePolicies[0].policy``,
``aws:sqs/queue:Queue.policy``, ``aws-native:iam:Role.policies[0].policyDocument``, ``aws:kms/key:Key.policy``, an
unknown provider's ``accessPolicy``). A ``templateBody`` is parsed as a CloudFormation template (:mod:`_cfn`) and its
resources' properties are searched the same way. A document is a trust policy when its property names a role
assumption (``assumeRolePolicy``, ``AssumeRolePolicyDocument``), a resource-based policy when a statement names a
``Principal``, an identity policy otherwise. Managed policies are found in ``policyArn``, ``policyArns``,
``managedPolicyArn(s)`` properties.

Only properties that can hold a grant are read through :func:`_common.judged` (so an unknown or encrypted value is
named); the search is bounded (depth, nodes, sizes), so no input makes it slow.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from . import _cfn
from ._common import NotJudgeable, UnknownInPreview, is_unknown, judged, raw_props
from ._guard import check

MAX_DEPTH = 24
MAX_NODES = 20_000
MAX_DOCUMENT = 131_072
"""Characters; IAM's largest policy is 10,240 (a role's inline policies together), resource policies 20 KiB (SQS),
so a larger document is not a policy AWS accepts (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""
DOCUMENT_KEYS = frozenset({"policy", "policydocument", "assumerolepolicy", "assumerolepolicydocument", "keypolicy",
                           "accesspolicies", "repositorypolicytext", "resourcepolicy", "inlinepolicy",
                           "lifecyclepolicytext"})
"""Property names (lower case) whose string value must be a JSON policy document."""
ATTACHING_KEYS = re.compile(r"^((managed)?policyarns?|managedpolicies)$", re.IGNORECASE)
"""``policyArn(s)``, ``managedPolicyArn(s)`` (pulumi-aws, aws-native, CloudFormation), ``managedPolicies`` (IAM
Identity Center permission sets in aws-native)."""
TEMPLATE_KEYS = frozenset({"templatebody", "template"})
HIDING = frozenset({"AWS::CloudFormation::Stack", "AWS::CloudFormation::CustomResource", "AWS::Serverless::Application",
                    "AWS::CloudFormation::StackSet"})
"""Template resources whose grants are elsewhere: nested stacks and applications (their own templates), custom
resources (a function's code runs at deploy time)."""
GRANT_HINT = re.compile(r"Statement|polic|template|assume", re.IGNORECASE)


@dataclass(frozen=True)
class Document:
    """One policy document: ``kind`` is identity, resource or trust; ``where`` the property path; ``document``
    the parsed object, or None when the property is not a JSON policy document."""

    kind: str
    where: str
    document: Any


@dataclass
class Grants:
    documents: list[Document] = field(default_factory=list)
    attached: list[tuple[str, str]] = field(default_factory=list)
    """(property path, managed policy ARN)."""
    unreadable: list[str] = field(default_factory=list)
    """Why a part that may grant access cannot be read (a template that does not parse, a search cut short)."""
    pending: list[tuple[str, NotJudgeable]] = field(default_factory=list)
    """(kind it may hold: identity, resource, trust, attached or "any"; why it cannot be read yet)."""

    def of_kind(self, kind: str) -> list[Document]:
        """The documents of one kind; raises the first pending NotJudgeable that may hold that kind, so a rule
        reports "can't run" only for what it judges (a role's unknown trust policy does not stop its inline ones)."""
        for holds, error in self.pending:
            if holds in (kind, "any"):
                raise error
        return [d for d in self.documents if d.kind == kind]

    def attached_arns(self) -> list[tuple[str, str]]:
        for holds, error in self.pending:
            if holds in ("attached", "any"):
                raise error
        return self.attached


IDENTITY_TYPES = ("aws:iam/", "aws-native:iam:", "aws:ssoadmin/", "aws-native:sso:", "AWS::IAM::", "AWS::SSO::")
"""Types whose documents (other than trust policies) are identity policies whatever they hold: IAM refuses a
``Principal`` there, so one cannot move a grant out of the identity rules' sight."""
TEMPLATE_TYPE = re.compile(r"\((AWS::\w+::\w+)\)")


def _kind(path: str, document: dict[str, Any], resource_type: str) -> str:
    last = path.rsplit(".", 1)[-1]
    if "assume" in last.lower():
        return "trust"
    in_template = TEMPLATE_TYPE.findall(path)
    if (in_template[-1] if in_template else resource_type).startswith(IDENTITY_TYPES):
        return "identity"
    statements = document.get("Statement")
    for st in statements if isinstance(statements, list) else [statements]:
        if isinstance(st, dict) and ("Principal" in st or "NotPrincipal" in st):
            return "resource"
    return "identity"


class _Search:
    def __init__(self, grants: Grants, resource_type: str) -> None:
        self.grants = grants
        self.resource_type = resource_type
        self.nodes = 0

    def walk(self, value: Any, path: str, key: str, depth: int) -> None:
        self.nodes += 1
        check()
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            if self.nodes == MAX_NODES + 1 or depth == MAX_DEPTH + 1:
                self.grants.unreadable.append(f"{path}: nested beyond what the pack reads")
            return
        if isinstance(value, dict):
            self._object(value, path, depth)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.walk(item, f"{path}[{i}]", key, depth + 1)
        elif isinstance(value, str):
            self._string(value, path, key, depth)

    def _object(self, value: dict[str, Any], path: str, depth: int) -> None:
        if "Statement" in value:
            self.grants.documents.append(Document(_kind(path, value, self.resource_type), path, value))
            return
        for k, v in value.items():
            name = str(k)
            child = f"{path}.{name}" if path else name
            if ATTACHING_KEYS.match(name):
                for arn in v if isinstance(v, list) else [v]:
                    if isinstance(arn, str) and arn:
                        self.grants.attached.append((child, arn))
                    else:
                        self.walk(arn, child, name, depth + 1)
                continue
            self.walk(v, child, name, depth + 1)

    def _string(self, value: str, path: str, key: str, depth: int) -> None:
        lowered = key.lower()
        if lowered in TEMPLATE_KEYS:
            self._template(value, path, depth)
            return
        text = value.strip()
        if not text.startswith("{") and lowered not in DOCUMENT_KEYS:
            return
        if len(text) > MAX_DOCUMENT:
            self.grants.documents.append(Document("identity", path, None))
            return
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict) and "Statement" in parsed:
            self.grants.documents.append(Document(_kind(path, parsed, self.resource_type), path, parsed))
        elif isinstance(parsed, dict):
            self.walk(parsed, path, key, depth + 1)
        elif lowered in DOCUMENT_KEYS and text:
            self.grants.documents.append(Document("identity", path, None))

    def _template(self, text: str, path: str, depth: int) -> None:
        try:
            template = _cfn.parse(text)
        except _cfn.TemplateError as error:
            self.grants.unreadable.append(f"{path} is not a readable CloudFormation template ({error})")
            return
        for logical, typ, props in _cfn.resources(template):
            if typ in HIDING or typ.startswith("Custom::"):
                self.grants.unreadable.append(f"{path}: {logical} ({typ}) runs code or a template the pack cannot "
                                              f"read")
            self.walk(props, f"{path}: {logical} ({typ})", typ, depth + 1)


def grants(args: Any) -> Grants:
    """Every policy document and attached managed policy of a resource (ResourceValidationArgs or PolicyResource).

    A property that may hold a grant but is not known (a preview) or encrypted (see :func:`_common.judged`) is kept
    in ``pending``: :meth:`Grants.of_kind` raises it for the rules that judge what it may hold."""
    found = Grants()
    search = _Search(found, str(args.resource_type))
    for key, value in raw_props(args).items():
        name = str(key)
        if not (ATTACHING_KEYS.match(name) or GRANT_HINT.search(name) or GRANT_HINT.search(_peek(value))):
            continue
        try:
            value = judged(args, name)
        except NotJudgeable as error:
            found.pending.append((_holds(name, str(args.resource_type)), error))
            continue
        if ATTACHING_KEYS.match(name):
            found.attached += [(name, str(a)) for a in (value if isinstance(value, list) else [value]) if a]
            continue
        search.walk(value, name, name, 0)
    for document in found.documents:
        if is_unknown(document.document):
            found.pending.append((document.kind, UnknownInPreview(
                f"{args.name}: {document.where} is not known in this preview; it is judged when `pulumi up` registers "
                f"{args.name}")))
    return found


def _holds(key: str, resource_type: str) -> str:
    """What kind of grant a property may hold: by its name, and for a provider's policy resources by their type
    (an IAM policy resource's ``policy`` is an identity policy, a QueuePolicy's a resource-based one)."""
    if ATTACHING_KEYS.match(key):
        return "attached"
    if "assume" in key.lower():
        return "trust"
    provider, _, rest = resource_type.partition(":")
    if provider in ("aws", "aws-native") and key.lower() in ("policy", "policydocument"):
        if rest.startswith(("iam", "ssoadmin")):
            return "identity"
        if rest.lower().endswith("policy"):
            return "resource"
    return "any"


def _peek(value: Any) -> str:
    """Enough of a value's text to tell whether it may hold a grant (bounded, never raises)."""
    if isinstance(value, str):
        return value[:MAX_DOCUMENT]
    try:
        return json.dumps(value, default=str)[:MAX_DOCUMENT]
    except (TypeError, ValueError, RecursionError):
        return ""
