"""Every rule of the pack, one per module; the pack and the offline audit both read POLICIES."""

from policy.rules.callback_heartbeat import POLICY as CALLBACK_HEARTBEAT
from policy.rules.callback_standard import POLICY as CALLBACK_STANDARD
from policy.rules.callback_timeout import POLICY as CALLBACK_TIMEOUT
from policy.rules.deprecated_runtime import POLICY as DEPRECATED_RUNTIME
from policy.rules.iam_scoping import POLICY as IAM_SCOPING
from policy.rules.managed_policies import AWS_MANAGED, NO_FULL_ACCESS
from policy.rules.mapping_batch_failures import POLICY as MAPPING_BATCH_FAILURES
from policy.rules.queue_encryption import POLICY as QUEUE_ENCRYPTION
from policy.rules.queue_redrive import POLICY as QUEUE_REDRIVE
from policy.rules.state_machine_observability import POLICY as STATE_MACHINE_OBSERVABILITY
from policy.rules.visibility_timeout import POLICY as VISIBILITY_TIMEOUT

POLICIES = (
    IAM_SCOPING,
    NO_FULL_ACCESS,
    CALLBACK_TIMEOUT,
    CALLBACK_STANDARD,
    QUEUE_REDRIVE,
    AWS_MANAGED,
    CALLBACK_HEARTBEAT,
    QUEUE_ENCRYPTION,
    STATE_MACHINE_OBSERVABILITY,
    DEPRECATED_RUNTIME,
    VISIBILITY_TIMEOUT,
    MAPPING_BATCH_FAILURES,
)
