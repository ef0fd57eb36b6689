"""Whole-string patterns for the ARNs and endpoints stack config accepts (always used with ``fullmatch``).

Forms are those AWS documents:

- KMS key ARN (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id-key-ARN):
  ``arn:<partition>:kms:<region>:<account>:key/<key-id>``, where the key id is a UUID (single-Region key) or
  ``mrk-`` and 32 hex digits (multi-Region key,
  https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html#mrk-id).
- Alias ARNs (``...:alias/<name>``) are recognised only to refuse them with a reason: IAM authorizes the use of a
  key (``kms:Decrypt``, ``kms:GenerateDataKey``) on the key's ARN, never on an alias ARN
  (https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html), so the roles' grants
  could not name it, and an alias can be re-pointed to another key after the grants are written.
- SNS topic ARN (https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html): ``arn:<partition>:sns:
  <region>:<account>:<name>``, name 1-256 of letters, digits, ``-`` and ``_`` (alarm actions cannot target FIFO
  topics, so ``.fifo`` is refused).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

PARTITION = r"aws(?:-[a-z]+)*"
"""aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc."""
REGION = r"[a-z]{2,4}(?:-[a-z]+)+-[0-9]+"
"""A region name's shape (us-east-1, us-isob-east-1, eusc-de-east-1); stack config checks the name itself
against botocore's regions (:mod:`orderflow.regions`)."""
ACCOUNT = r"[0-9]{12}"
KEY_ID = r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"

KMS_KEY_ARN = re.compile(rf"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}")
KMS_ALIAS_ARN = re.compile(rf"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:alias/[A-Za-z0-9/_-]+")
SNS_TOPIC_ARN = re.compile(rf"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:[A-Za-z0-9_-]{{1,256}}")
LAYER_VERSION_ARN = re.compile(rf"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:layer:[A-Za-z0-9_-]{{1,140}}:[0-9]+")
"""A Lambda layer version ARN (https://docs.aws.amazon.com/lambda/latest/api/API_LayerVersionsListItem.html)."""
EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[A-Za-z]{2,}")
"""An address SNS can subscribe (local part @ domain with a dot); SNS confirms it by mail."""


def is_https_endpoint(text: str) -> bool:
    """True for an absolute ``https://host[...]`` URL with no whitespace (what an SNS HTTPS subscription takes)."""
    if re.search(r"\s", text):
        return False
    parts = urlsplit(text)
    return parts.scheme == "https" and bool(parts.hostname)
