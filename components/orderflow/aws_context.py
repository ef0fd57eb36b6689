"""Account, region and partition, resolved once, so every ARN can be built from a name at preview."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .args import AwsContextArgs

DNS_SUFFIXES = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com",
                "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov", "aws-iso-e": "cloud.adc-e.uk",
                "aws-iso-f": "csp.hci.ic.gov", "aws-eusc": "amazonaws.eu"}
"""Service-endpoint DNS suffix per partition, as ``aws.get_partition().dns_suffix`` reports it."""


@dataclass(frozen=True)
class AwsContext:
    """Where the stack deploys; ARNs built from it are plain strings, known in the first preview."""

    partition: str
    region: str
    account_id: str
    dns_suffix: str | None = None
    """The partition's DNS suffix (``amazonaws.com``, ``amazonaws.com.cn`` in aws-cn, ...); None: from the
    partition (https://docs.aws.amazon.com/general/latest/gr/rande.html, "Service endpoints")."""

    @classmethod
    def current(cls, opts: pulumi.InvokeOptions | None = None) -> AwsContext:
        """Resolve through provider invokes, which answer during preview as well as during update; ``opts``
        (e.g. ``parent=<component>``) chooses the provider that answers (default: the default provider)."""
        identity = aws.get_caller_identity(opts=opts)
        partition = aws.get_partition(opts=opts)
        return cls(
            partition=partition.partition,
            region=aws.get_region(opts=opts).region,
            account_id=identity.account_id,
            dns_suffix=partition.dns_suffix,
        )

    @classmethod
    def from_args(cls, given: Mapping[str, str] | AwsContextArgs | None, opts: pulumi.InvokeOptions | None = None) -> AwsContext:
        """From an :class:`orderflow.args.AwsContextArgs` dict; keys left out are read with :meth:`current`
        (no invoke when partition, region and account_id are all given)."""
        given = {str(k): str(v) for k, v in (given or {}).items()}
        unknown = sorted(set(given) - {"partition", "region", "account_id", "dns_suffix"})
        if unknown:
            raise ValueError(f"aws_context: unknown keys {unknown} (known: account_id, dns_suffix, partition, region)")
        if not {"partition", "region", "account_id"} <= set(given):
            found = cls.current(opts)
            given = {"partition": found.partition, "region": found.region, "account_id": found.account_id,
                     **({"dns_suffix": found.dns_suffix} if found.dns_suffix else {}), **given}
        return cls(given["partition"], given["region"], given["account_id"], given.get("dns_suffix"))

    def as_args(self) -> AwsContextArgs:
        """This context as an :class:`orderflow.args.AwsContextArgs` dict."""
        plain: AwsContextArgs = {"partition": self.partition, "region": self.region, "account_id": self.account_id}
        if self.dns_suffix:
            plain["dns_suffix"] = self.dns_suffix
        return plain

    @property
    def domain(self) -> str:
        """DNS suffix of the partition's service endpoints."""
        return self.dns_suffix or DNS_SUFFIXES.get(self.partition, "amazonaws.com")

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def queue_arn(self, name: str) -> str:
        return self.arn("sqs", name)

    def queue_url(self, name: str) -> str:
        return f"https://sqs.{self.region}.{self.domain}/{self.account_id}/{name}"

    def role_arn(self, name: str) -> str:
        return self.arn("iam", f"role/{name}", regional=False)

    def log_group_arn(self, name: str) -> str:
        return self.arn("logs", f"log-group:{name}")

    def function_arn(self, name: str) -> str:
        return self.arn("lambda", f"function:{name}")

    def state_machine_arn(self, name: str) -> str:
        return self.arn("states", f"stateMachine:{name}")

    def executions_arns(self, state_machine_name: str) -> list[str]:
        """Every execution of one state machine, in both ARN forms AWS documents for execution actions.

        A Standard machine has no express executions; the second form is listed because the action
        database requires both resource types of these actions to be named.
        """
        return [self.arn("states", f"execution:{state_machine_name}:*"),
                self.arn("states", f"express:{state_machine_name}:*:*")]

    def table_arn(self, name: str) -> str:
        return self.arn("dynamodb", f"table/{name}")
