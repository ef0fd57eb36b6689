"""Rule: no resource-based policy lets in everyone or another account, on any service and any provider.

Resource-based policies are found by shape (:mod:`_documents`: a document whose statements name a ``Principal``): an
SQS queue's ``policy`` or QueuePolicy, an SNS topic's, a KMS key policy, an S3 bucket policy, a secret's, an ECR
repository's, an aws-native or CloudFormation ``PolicyDocument`` ... Lambda grants access outside documents too: a
Permission (``principal``, ``sourceArn``, ``sourceAccount``, ``principalOrgId``), a function URL with
``authorizationType: NONE`` (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html), a layer version
permission to ``*``. A statement's principals are judged with its conditions (:mod:`_principals`); the owner's
accounts are those its own ARNs name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy

from ._arns import wide
from ._common import ALLOWLIST_SCHEMA, NotJudgeable, allowlisted, as_list, has_wildcard, judged, raw_props
from ._documents import grants
from ._guard import guarded
from ._principals import accounts_in, matches_everything, outsider, principals, restricted

NAME = "resource-policy-exposure"
REMEDIATION = ("name the exact principals (this account's roles, or an AWS service with aws:SourceArn / "
               "aws:SourceAccount); for another account, allowlist the resource with the reason")
PERMISSIONS = frozenset({"aws:lambda/permission:Permission", "aws-native:lambda:Permission"})
URLS = {"aws:lambda/functionUrl:FunctionUrl": "authorizationType", "aws-native:lambda:Url": "authType"}
LAYER_PERMISSIONS = frozenset({"aws:lambda/layerVersionPermission:LayerVersionPermission",
                               "aws-native:lambda:LayerVersionPermission"})
PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
"""S3 canned ACLs that grant every (authenticated) AWS user access
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl)."""
PUBLIC_GRANTEES = ("acs.amazonaws.com/groups/global/AllUsers", "acs.amazonaws.com/groups/global/AuthenticatedUsers")
KMS_GRANTS = frozenset({"aws:kms/grant:Grant", "aws-native:kms:Grant"})


def statement_problems(document: Any, own: set[str]) -> Iterator[str]:
    if not isinstance(document, dict):
        return
    own = own | accounts_in([st.get("Resource") for st in as_list(document.get("Statement")) if isinstance(st, dict)])
    for index, st in enumerate(as_list(document.get("Statement"))):
        if not isinstance(st, dict) or st.get("Effect") == "Deny":
            continue
        where = f"statement {st.get('Sid') or index}"
        if "NotPrincipal" in st:
            yield f"{where} allows with NotPrincipal (everyone but the principals named)"
            continue
        for kind, value in principals(st):
            if kind == "Federated":
                continue
            who = outsider(kind, value, own)
            if who and not restricted(st):
                actions = ", ".join(map(str, as_list(st.get("Action") or st.get("NotAction"))))[:120]
                yield f"{where} lets {who} ({kind}: {value!r}) do {actions}, with no condition naming who"


def _lambda_problems(args: ResourceValidationArgs, own: set[str]) -> Iterator[str]:
    if args.resource_type in URLS and str(judged(args, URLS[args.resource_type]) or "").upper() == "NONE":
        yield "the function URL has authorization type NONE: anyone on the internet may invoke it"
    if args.resource_type in PERMISSIONS | LAYER_PERMISSIONS:
        principal = str(judged(args, "principal") or "")
        keys = ("sourceArn", "sourceAccount", "principalOrgId", "organizationId")
        narrowing = [k for k in keys if k in raw_props(args) and _narrows(k, judged(args, k))]
        who = outsider("AWS" if ":" in principal or principal.isdigit() else "*", principal, own)
        if principal.endswith(".amazonaws.com"):
            who = None
        if who and not narrowing:
            yield f"principal {principal!r} lets {who} use it, with no sourceArn, sourceAccount or organization"


def _other_problems(args: ResourceValidationArgs, own: set[str]) -> Iterator[str]:
    """S3 ACLs open to every AWS user, KMS grants to another account or that let the grantee grant again."""
    props = raw_props(args)
    if "acl" in props and str(judged(args, "acl") or "").lower() in PUBLIC_ACLS:
        yield f"the canned ACL {judged(args, 'acl')!r} lets every AWS user in"
    if "accessControlPolicy" in props and any(g in str(judged(args, "accessControlPolicy")) for g in PUBLIC_GRANTEES):
        yield "its ACL grants the AllUsers or AuthenticatedUsers group"
    if args.resource_type in KMS_GRANTS:
        grantee = str(judged(args, "granteePrincipal") or "")
        who = outsider("AWS", grantee, own | accounts_in([judged(args, "keyId")]))
        operations = [str(o) for o in as_list(judged(args, "operations"))]
        if who:
            yield f"the grant lets {who} ({grantee!r}) use the key for {', '.join(operations)}"
        if "CreateGrant" in operations:
            yield "the grant includes CreateGrant: the grantee may grant the key onward"


def _narrows(key: str, value: Any) -> bool:
    """Whether a Lambda permission's sourceArn / sourceAccount / organization names one source (not a pattern)."""
    if not isinstance(value, str) or not value or matches_everything(value):
        return False
    return wide(value) is None if key == "sourceArn" else not has_wildcard(value)


def _own_accounts(args: ResourceValidationArgs) -> set[str]:
    """The accounts the resource's own ARNs name (its ``arn``, the function a permission is on, a grant's key)."""
    try:
        return accounts_in([v for k, v in raw_props(args).items() if isinstance(v, str)
                            and "principal" not in k.lower()])
    except NotJudgeable:
        return set()


def validate(args: ResourceValidationArgs, report_violation: Any) -> None:
    if allowlisted(args.get_config(), args.urn):
        return
    own = _own_accounts(args)
    for problem in [*_lambda_problems(args, own), *_other_problems(args, own)]:
        report_violation(f"{args.name}: {problem}. Fix: {REMEDIATION}.", None)
    for document in grants(args).of_kind("resource"):
        for problem in statement_problems(document.document, own):
            report_violation(f"{args.name}: {document.where}: {problem}. Fix: {REMEDIATION}.", None)


POLICY = ResourceValidationPolicy(
    name=NAME,
    description="Resource-based policies and Lambda permissions let in no one outside the account unless named.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=guarded(validate),
    config_schema=PolicyConfigSchema(properties={"allowlist": ALLOWLIST_SCHEMA}),
    remediation_steps=REMEDIATION,
)
