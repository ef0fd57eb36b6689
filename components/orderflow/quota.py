"""Preflight of the worker's reserved concurrency against the account's Lambda concurrency quota.

Lambda refuses a reservation that would leave fewer than 100 unreserved concurrent executions in the account
(PutFunctionConcurrency: https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html,
"Configuring reserved concurrency"); new accounts often have a quota of 10 or 50 (quota ``L-B99A9384``,
"Concurrent executions": https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). Without a
preflight the first ``pulumi up`` of such a stack stops half applied. The quota is read through Service Quotas
(an invoke, so it answers in preview as well as in update), once per program.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .settings import SettingsError

QUOTA_CODE = "L-B99A9384"
MIN_UNRESERVED = 100


def check_reserved_concurrency(reserved: int | None, opts: pulumi.InvokeOptions | None = None) -> float | None:
    """Compare ``reserved`` (reservedConcurrency; None: nothing reserved) with the account's quota.

    Returns the quota read (None when not read). Raises SettingsError naming the key, the quota and the value
    when fewer than 100 would remain unreserved. When the quota cannot be read (no permission, no Service
    Quotas in the partition) it logs a warning and returns None: the check is then left to Lambda at update.
    """
    if reserved is None:
        return None
    try:
        quota = aws.servicequotas.get_service_quota(service_code="lambda", quota_code=QUOTA_CODE, opts=opts).value
    except Exception as error:  # any failure of the lookup (AccessDenied, no such quota) is a warning only
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        pulumi.log.warn(f"reservedConcurrency={reserved} not checked: the account's Lambda concurrency quota "
                        f"({QUOTA_CODE}) could not be read ({first}); grant servicequotas:GetServiceQuota to check it")
        return None
    unreserved = quota - reserved
    if unreserved < MIN_UNRESERVED:
        raise SettingsError([
            f"reservedConcurrency={reserved} leaves {unreserved:g} of the account's Lambda concurrency quota "
            f"{quota:g} ({QUOTA_CODE}) unreserved; Lambda keeps at least {MIN_UNRESERVED} unreserved: lower "
            f"reservedConcurrency to at most {max(quota - MIN_UNRESERVED, 0):g}, unset it, or raise the quota"
        ])
    return quota
