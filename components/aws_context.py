"""Account, region and partition, resolved once, so every ARN can be built from a name at preview."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws


@dataclass(frozen=True)
class AwsContext:
    """Where the stack deploys; ARNs built from it are plain strings, known in the first preview."""

    partition: str
    region: str
    account_id: str

    @classmethod
    def current(cls) -> AwsContext:
        """Resolve through provider invokes, which answer during preview as well as during update."""
        identity = aws.get_caller_identity()
        return cls(
            partition=aws.get_partition().partition,
            region=aws.get_region().region,
            account_id=identity.account_id,
        )

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def queue_arn(self, name: str) -> str:
        return self.arn("sqs", name)

    def queue_url(self, name: str) -> str:
        return f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{name}"

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
