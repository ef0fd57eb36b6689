"""orderflow: the queue-based Step Functions callback pattern as Pulumi components (see the README).

Public API: :class:`CallbackWorker` and its args (:mod:`orderflow.args`), the queue's and the workflow's grants
(:class:`WorkerQueue`, :class:`Workflow`), the embeddable :func:`callback_task`, the workflow's
:class:`FailurePath` and :class:`CallbackDefinition`, :func:`check_definition`, and :class:`WorkerSettings`.
"""

from .args import AwsContextArgs, CallbackWorkerArgs, FailurePathArgs, WorkerGrantArgs, WorkerSettingsArgs
from .callback_worker import CallbackWorker
from .definition import (
    CallbackDefinition,
    CallbackTask,
    DefinitionError,
    FailurePath,
    callback_task,
    check_definition,
)
from .grants import WorkerQueue, Workflow
from .settings import SettingsError, WorkerSettings

COMPONENTS = (CallbackWorker,)
"""Every public component of the package (what a component provider hosts)."""

__all__ = [
    "COMPONENTS",
    "AwsContextArgs",
    "CallbackDefinition",
    "CallbackTask",
    "CallbackWorker",
    "CallbackWorkerArgs",
    "DefinitionError",
    "FailurePath",
    "FailurePathArgs",
    "SettingsError",
    "WorkerGrantArgs",
    "WorkerQueue",
    "WorkerSettings",
    "WorkerSettingsArgs",
    "Workflow",
    "callback_task",
    "check_definition",
]
