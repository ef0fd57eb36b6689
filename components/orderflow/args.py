"""The arguments of the callback components, as TypedDicts: the shape Pulumi's component-provider host passes.

A component package maps each input of the schema to a key of these dicts
(``pulumi.provider.experimental.component.ComponentProvider.construct`` calls ``constructor(name, args_dict,
opts)``), and its analyzer infers the schema from the annotations here and the docstring under each key. So: no
``from __future__ import annotations`` in this module (the analyzer reads the annotations as types), optional keys
through ``total=False`` (a required key of such a dict marked ``Required``: the schema's ``requiredInputs``),
nested shapes as TypedDicts too.

``pulumi.Input[...]`` marks a value that may come from another resource of the program (an ``Output``): a key, a
topic, a table's ARN or name. A value a preview-time check must read (timing and sizing, names, the definition's
state names and errors, the code folder) is plain, and its docstring says why.
"""

from typing import TYPE_CHECKING, Any, Required, TypedDict

import pulumi

if TYPE_CHECKING:  # the component's module imports this one
    from .callback_worker import CallbackWorker


class WorkerSettingsArgs(TypedDict, total=False):
    """Timing and sizing of one callback worker (:class:`orderflow.settings.WorkerSettings`), each key optional.

    Plain values: every rule between them (visibility >= 6 x timeout + window, heartbeat > visibility, ...) is
    checked when the component is built, before any resource is registered, and the definition is built from them.
    """

    function_timeout_seconds: int
    """Lambda timeout of the worker, seconds (1..900, default 30); the other timeouts derive from it."""
    function_memory_mb: int
    """Lambda memory size, MB (128..10240, default 256)."""
    architecture: str
    """Lambda instruction set: ``arm64`` (default) or ``x86_64``."""
    reserved_concurrency: int
    """Reserved concurrent executions of the worker (1..1000); unset leaves it in the account's pool."""
    batch_size: int
    """Largest number of records one invocation receives (1..10000, default 10)."""
    batching_window_seconds: int
    """MaximumBatchingWindowInSeconds of the trigger (0..300, default 0; >= 1 above batch size 10)."""
    max_concurrency: int
    """Most concurrent invocations the SQS event source mapping starts (2..1000, default 5)."""
    max_receive_count: int
    """Receives before SQS moves a message to the dead-letter queue (5..1000, default 5)."""
    visibility_timeout_seconds: int
    """Queue visibility timeout, seconds (default 6 x the function timeout + the batching window)."""
    heartbeat_seconds: int
    """HeartbeatSeconds of the callback task (default twice the visibility timeout)."""
    task_timeout_seconds: int
    """TimeoutSeconds of the callback task (default the visibility timeout x (maxReceiveCount + 1))."""
    message_retention_seconds: int
    """Work-queue retention, seconds (60..1209599, default 345600; at least the task timeout)."""
    log_retention_days: int
    """Retention of the worker's and the state machine's log groups, days (a CloudWatch Logs value, default 14)."""
    log_level: str
    """Worker log level: DEBUG, INFO (default), WARNING or ERROR."""
    state_machine_log_level: str
    """Which execution events the state machine logs: ALL, ERROR (default) or FATAL."""
    oldest_message_alarm_seconds: int
    """Alarm threshold on the age of the oldest queued message, seconds (default half the heartbeat, >= 60)."""
    answer_concurrency: int
    """Records of one batch the worker handles at once (1..64, default 10)."""


class FailurePathArgs(TypedDict, total=False):
    """The workflow's failure path (:class:`orderflow.definition.FailurePath`): each key optional, the pattern's
    defaults otherwise. Plain values: the definition is built, and checked, at preview."""

    rejection_errors: list[str]
    """Error names the worker answers SendTaskFailure with for a business rejection: the execution then succeeds
    through the rejection state. Default none (no rejection state)."""
    compensation_action: str
    """When set, a technical failure first puts ``{action: <this>, order, execution}`` on the worker's queue (the
    worker undoes what the execution may have done); unset: no compensation state."""
    task_state: str
    """Name of the callback state (default ``Callback``)."""
    rejection_state: str
    """Name of the rejection state (default ``Rejected``)."""
    compensation_state: str
    """Name of the compensation state (default ``Compensate``)."""
    failed_state: str
    """Name of the final Fail state (default ``Failed``)."""
    failed_error: str
    """Error of the final Fail state (default ``CallbackFailed``; not a ``States.*`` name)."""
    compensation_error_path: str
    """ResultPath where a failed compensation's error is kept before the Fail state (default
    ``$.compensationError``)."""


class AwsContextArgs(TypedDict, total=False):
    """Where the component deploys. Plain strings: every ARN and IAM document is built from them at preview.
    Unset keys are read from the component's provider (``aws.get_caller_identity``, ``get_region``,
    ``get_partition``)."""

    partition: str
    """AWS partition (``aws``, ``aws-cn``, ``aws-us-gov``, ...)."""
    region: str
    """Region of the component's provider (``us-east-1``)."""
    account_id: str
    """12-digit account the component deploys to."""
    dns_suffix: str
    """The partition's service-endpoint DNS suffix (default: the partition's, e.g. ``amazonaws.com``)."""


class WorkerGrantArgs(TypedDict):
    """One extra Allow statement of the worker's role (its table, its bucket, ...), on exact ARNs."""

    sid: str
    """Statement id (letters and digits)."""
    actions: list[str]
    """IAM actions, ``service:Action``."""
    resources: list[pulumi.Input[str]]
    """Exact ARNs (an Output of another resource is fine); ``"*"`` is refused."""


class CallbackWorkerArgs(TypedDict, total=False):
    """Arguments of :class:`orderflow.CallbackWorker`: ``code_path`` and ``handler`` required, the rest optional."""

    settings: WorkerSettingsArgs
    """Timing and sizing; validated (and derived defaults filled) when the component is built."""
    code_path: Required[str]
    """Folder packaged as the worker's code, its root the import root. Plain: archived while the program runs."""
    handler: Required[str]
    """Handler string, ``module.function`` relative to ``code_path``."""
    aws_context: AwsContextArgs
    """Account, region and partition the ARNs are built for; default: the component's provider's."""
    name_prefix: str
    """Prefix of every physical name; default ``<project>-<stack>``. Plain: names (and so every ARN and IAM
    document) are known at preview, and their length is checked against IAM's 64 characters."""
    environment: dict[str, pulumi.Input[str]]
    """Extra environment variables of the worker (values may be Outputs, e.g. a table's name)."""
    worker_statements: list[WorkerGrantArgs]
    """Extra Allow statements of the worker's role, each on exact ARNs (one inline policy ``work``)."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed KMS key of both queues and the log groups; default SSE-SQS. Each role then gets exactly its
    KMS actions on this key. A plain ARN is checked at preview to be in the queues' partition and region."""
    alarm_topic: bool
    """Create an SNS topic ``<base>-alarms`` and send every alarm to it."""
    alarm_topic_arn: pulumi.Input[str]
    """Send every alarm to this existing SNS topic instead (exclusive with ``alarm_topic``)."""
    alarm_emails: list[str]
    """Email addresses subscribed to the created alarm topic. Plain: each names a subscription resource."""
    alarm_https_endpoints: list[str]
    """HTTPS endpoints subscribed to the created alarm topic. Plain: each names a subscription resource."""
    powertools_layer_arn: pulumi.Input[str]
    """Powertools layer to use instead of the public one of the pinned version (for partitions without it)."""
    protect: bool
    """Protect the dead-letter queue (default true: a destroy or replacement needs an explicit unprotect)."""
    failure: FailurePathArgs
    """Rejection errors, compensation and state names of the workflow's failure path."""
    state_machine: bool
    """Create the worker's own Standard state machine (default true). False: the queue, dead-letter queue, worker,
    roles, logs and alarms only (no state machine, no state machine role, no execution alarms), for a worker whose
    callback tasks run in a caller's machine (:class:`orderflow.CallbackStateMachine`, or ``callback_task`` in the
    caller's own): that machine's grants give the worker's role ``states:DescribeExecution`` on its executions, and
    the work queue's resource policy is registered by it (``queue.register_policy``) once its grants are in."""


class StopCompensationArgs(TypedDict):
    """One compensation sent when an execution of a :class:`orderflow.CallbackStateMachine` is stopped or times
    out (no Catch runs then): ``{action, order: <execution input, a JSON string>, execution}`` on the worker's
    queue."""

    worker: "CallbackWorker"
    """The worker whose queue gets the message (one of the machine's ``workers``)."""
    action: str
    """The ``action`` of the message (e.g. ``release``); not ``check`` (a callback task's own action)."""


class CallbackStateMachineArgs(TypedDict, total=False):
    """Arguments of :class:`orderflow.CallbackStateMachine`: ``definition`` and ``workers`` required.

    A Python-only component (not hosted by the component provider: its workers are component objects)."""

    definition: Required[dict[str, Any]]
    """The Amazon States Language definition (a dict), its callback tasks from the workers' ``callback_task``.
    Plain: checked at preview (:func:`orderflow.check_definition`, every SQS task sends to a listed worker)."""
    workers: Required[list["CallbackWorker"]]
    """Every worker the definition sends to (callback tasks and compensation sends). The role gets exactly their
    queues' send statements; each worker's role gets ``states:DescribeExecution`` on this machine's executions."""
    stop_compensations: list[StopCompensationArgs]
    """Compensations an EventBridge rule sends when an execution ends ABORTED or TIMED_OUT; default none."""
    name_prefix: str
    """Prefix of every physical name; default ``<project>-<stack>``. Plain: ARNs are known at preview."""
    aws_context: AwsContextArgs
    """Account, region and partition of the ARNs; default the first worker's."""
    log_retention_days: int
    """Retention of the execution log group, days (a CloudWatch Logs value, default 14)."""
    log_level: str
    """Which execution events the state machine logs: ALL, ERROR (default) or FATAL."""
    log_kms_key_arn: pulumi.Input[str]
    """Customer-managed key of the execution log group; default CloudWatch Logs' own encryption."""
    alarm_topic_arn: pulumi.Input[str]
    """SNS topic the execution alarms (failed, timed out, aborted) notify; default none."""
