"""Every rule of the pack, one per module; the pack and the offline audit both read POLICIES."""

from .access_readable import POLICY as ACCESS_READABLE
from .callback_heartbeat import POLICY as CALLBACK_HEARTBEAT
from .callback_standard import POLICY as CALLBACK_STANDARD
from .callback_timeout import POLICY as CALLBACK_TIMEOUT
from .iam_escalation import POLICY as IAM_ESCALATION
from .iam_scoping import POLICY as IAM_SCOPING
from .managed_policies import AWS_MANAGED, NO_FULL_ACCESS
from .mapping_batch_failures import POLICY as MAPPING_BATCH_FAILURES
from .queue_encryption import POLICY as QUEUE_ENCRYPTION
from .queue_redrive import POLICY as QUEUE_REDRIVE
from .resource_exposure import POLICY as RESOURCE_EXPOSURE
from .runtime_lifecycle import CREATABLE as RUNTIME_CREATABLE
from .runtime_lifecycle import SUPPORTED as RUNTIME_SUPPORTED
from .state_machine_observability import POLICY as STATE_MACHINE_OBSERVABILITY
from .trust_policies import POLICY as TRUST_POLICIES
from .visibility_timeout import POLICY as VISIBILITY_TIMEOUT

POLICIES = (
    IAM_SCOPING,
    IAM_ESCALATION,
    RESOURCE_EXPOSURE,
    TRUST_POLICIES,
    ACCESS_READABLE,
    NO_FULL_ACCESS,
    CALLBACK_TIMEOUT,
    CALLBACK_STANDARD,
    QUEUE_REDRIVE,
    RUNTIME_CREATABLE,
    AWS_MANAGED,
    CALLBACK_HEARTBEAT,
    QUEUE_ENCRYPTION,
    STATE_MACHINE_OBSERVABILITY,
    RUNTIME_SUPPORTED,
    VISIBILITY_TIMEOUT,
    MAPPING_BATCH_FAILURES,
)
