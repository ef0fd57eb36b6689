"""orderflow: the queue-based Step Functions callback pattern as Pulumi components (see the README).

Public API: :class:`CallbackWorker` and its args (:mod:`orderflow.args`), the queue's and the workflow's grants
(:class:`WorkerQueue`, :class:`Workflow`), the embeddable :func:`callback_task` and :func:`compensation_state`,
:class:`CallbackStateMachine` (one machine over several workers, with stop compensation), the workflow's
:class:`FailurePath` and :class:`CallbackDefinition`, :func:`check_definition`, and :class:`WorkerSettings`.
"""

from .args import (
    AwsContextArgs,
    CallbackStateMachineArgs,
    CallbackWorkerArgs,
    FailurePathArgs,
    StopCompensationArgs,
    WorkerGrantArgs,
    WorkerSettingsArgs,
)
from .callback_worker import CallbackWorker
from .definition import (
    CallbackDefinition,
    CallbackTask,
    DefinitionError,
    FailurePath,
    callback_task,
    check_definition,
    compensation_state,
)
from .grants import WorkerQueue, Workflow
from .orchestration import CallbackStateMachine
from .settings import SettingsError, WorkerSettings

COMPONENTS = (CallbackWorker,)
"""Every component the component provider hosts. :class:`CallbackStateMachine` is Python-only: its args hold
worker objects, which no schema type carries."""

__all__ = [
    "COMPONENTS",
    "AwsContextArgs",
    "CallbackDefinition",
    "CallbackStateMachine",
    "CallbackStateMachineArgs",
    "CallbackTask",
    "CallbackWorker",
    "CallbackWorkerArgs",
    "DefinitionError",
    "FailurePath",
    "FailurePathArgs",
    "SettingsError",
    "StopCompensationArgs",
    "WorkerGrantArgs",
    "WorkerQueue",
    "WorkerSettings",
    "WorkerSettingsArgs",
    "Workflow",
    "callback_task",
    "check_definition",
    "compensation_state",
]
