"""Where moto's in-memory services differ from AWS in ways a multi-threaded load run would notice; ``apply()``
patches them once per process.

- DynamoDB: a transaction holds its items for a service time and conflicts as on AWS (``dynamodb_contention``);
  documented key, item and number limits are enforced on every write path (``dynamodb_limits``). moto's tables
  are guarded by one re-entrant lock held only while moto itself reads or writes them. A cancelled transaction is
  rolled back item by item (moto deep-copies every table it touches, which grew with the data until a 1,000-order
  run missed heartbeats).
- SQS: moto's queues are sets that ReceiveMessage iterates while other threads send and delete ("Set changed
  size during iteration"): every queue operation runs under one lock, long polls wait outside it. The retention
  check reads the one attribute it needs (moto rebuilt every attribute per message).
- Requests: one that the emulator answered itself (an injected fault, a simulated latency) carries
  ``NOT_SENT_HEADER`` and never reaches moto; one over an API quota (``quotas``) is answered ThrottlingException
  without being carried out.
- Step Functions: the ASL parser keeps state in class attributes, so executions started at once are parsed one at
  a time; an execution whose interpreter thread fails ends FAILED (``States.Runtime``, cause names the emulator)
  instead of staying RUNNING; StopExecution aborts at once (ABORTED, no further state runs) and kills the
  execution's task tokens (a later SendTask* gets ``TaskTimedOut``); each state entered takes a StateTransition
  token; SendTask* skip executions whose thread has not set up its environment yet. An answer or a heartbeat that
  comes however early (right after the SQS message is sent, before the task has set up its heartbeat wait) is kept
  and counts: moto's callback task (copied from LocalStack's ``state_task_service_callback.py``) set up the
  heartbeat endpoint after the SQS call and then waited for a heartbeat without first reading an outcome already
  stored, so an early SendTaskSuccess was lost and the task timed out; an early SendTaskHeartbeat got
  ``InvalidToken``. A Task state whose input after Parameters is over the 256 KiB payload quota (262,144 bytes of
  UTF-8, as are state outputs) fails with ``States.DataLimitExceeded``, and ``States.ALL`` in a Retry or Catch
  matches neither ``States.DataLimitExceeded`` nor ``States.Runtime``: both end the execution unless named
  explicitly (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html, "Error names").
  moto sent the over-size message, got SQS's size error, retried it and caught it with States.ALL.
- Trace context: StartExecution's ``traceHeader`` reaches the execution (moto's response layer dropped it) and
  DescribeExecution returns it; a message an execution sends through the SQS integration carries the execution's
  trace header as its ``AWSTraceHeader`` system attribute (``Root`` kept, a new ``Parent``), as SQS sets it from the
  caller's trace context (SQS is among Step Functions' integrations with native X-Ray support,
  https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html; SQS "AWSTraceHeader",
  https://docs.aws.amazon.com/xray/latest/devguide/xray-services-sqs.html). A definition that sets the attribute
  itself keeps its own.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from tools.emulator import dynamodb_contention as contention
from tools.emulator import dynamodb_limits as limits
from tools.emulator import quotas

NOT_SENT_HEADER = "x-orderflow-not-sent"
"""Set on a request the emulator answered itself: moto must not carry it out."""

SQS_LOCK = threading.RLock()
_PARSE_LOCK = threading.Lock()
_dead_tokens: set[str] = set()
_dead_lock = threading.Lock()
_in_transaction = threading.local()
LOG = logging.getLogger(__name__)


def apply() -> None:
    """Idempotent: patch the moto classes once per process."""
    from moto.dynamodb import models as dynamodb_models

    backend = dynamodb_models.DynamoDBBackend
    if getattr(backend, "_orderflow_fixed", False):
        return
    _dynamodb(backend, dynamodb_models)
    _sqs()
    _stubber()
    _stepfunctions()
    backend._orderflow_fixed = True  # type: ignore[attr-defined]


# -- requests -------------------------------------------------------------------------------------------------
def _stubber() -> None:
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

    original = BotocoreStubber.__call__

    def call(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if not self.enabled or request.headers.get(NOT_SENT_HEADER):
            return None
        api = _operation(request)
        if api and not quotas.admit(api):
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
            headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "quota"}
            return AWSResponse(request.url, 400, headers, MockRawResponse(body))
        return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = call  # type: ignore[method-assign]


def _operation(request: Any) -> str | None:
    target = request.headers.get("X-Amz-Target")
    if isinstance(target, bytes):
        target = target.decode()
    return target.rpartition(".")[2] if target else None


# -- DynamoDB ---------------------------------------------------------------------------------------------------
def _locked(cls: type, name: str, check: Callable[..., None] | None = None) -> None:
    method = getattr(cls, name)

    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        if check:
            check(self, *args, **kwargs)
        with contention.DATA_LOCK:
            return method(self, *args, **kwargs)

    setattr(cls, name, guarded)


def _validation(error: limits.LimitError) -> Exception:
    from moto.dynamodb.exceptions import MockValidationException

    return MockValidationException(str(error))


def _check_put(backend: Any, table_name: str, item_attrs: dict[str, Any], *_: Any, **__: Any) -> None:
    table = backend.tables.get(table_name)
    if table is None:
        return
    try:
        limits.check_put(table, item_attrs)
    except limits.LimitError as error:
        raise _validation(error) from None
    contention.check_plain_write(backend, table_name, item_attrs)


def _check_key(backend: Any, table_name: str, key: dict[str, Any], *_: Any, **__: Any) -> None:
    table = backend.tables.get(table_name)
    if table is None or not isinstance(key, dict):
        return
    try:
        limits.check_key(table, key)
    except limits.LimitError as error:
        raise _validation(error) from None


def _check_delete(backend: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> None:
    _check_key(backend, table_name, key)
    contention.check_plain_write(backend, table_name, key)


def _dynamodb(backend: type, module: Any) -> None:
    _locked(backend, "put_item", _check_put)
    _locked(backend, "delete_item", _check_delete)
    _locked(backend, "get_item", _check_key)
    for name in ("scan", "query", "batch_get_item", "batch_write_item"):
        _locked(backend, name)
    _update(backend)
    _transactions(backend, module)


def _update(backend: type) -> None:
    """UpdateItem: parameters checked first; a result over a limit is undone and refused."""
    from moto.dynamodb.exceptions import ItemSizeToUpdateTooLarge

    original = backend.update_item  # type: ignore[attr-defined]

    def update_item(self: Any, table_name: str, key: dict[str, Any], update_expression: str,
                    expression_attribute_names: dict[str, Any], expression_attribute_values: dict[str, Any],
                    *args: Any, **kwargs: Any) -> Any:
        table = self.tables.get(table_name)
        if table is not None:
            try:
                limits.check_update(table, key, expression_attribute_values)
            except limits.LimitError as error:
                raise _validation(error) from None
            contention.check_plain_write(self, table_name, key)
        with contention.DATA_LOCK:
            before = _snapshot_key(self, table_name, key)
            try:
                item = original(self, table_name, key, update_expression, expression_attribute_names,
                                expression_attribute_values, *args, **kwargs)
            except ItemSizeToUpdateTooLarge as error:
                if getattr(_in_transaction, "active", False):  # AWS cancels the transaction at this entry
                    raise limits.ValidationError(error.exception_msg) from None
                raise
            try:
                limits.check_result(item.to_json()["Attributes"])
            except limits.LimitError as error:
                if not getattr(_in_transaction, "active", False):
                    _restore(self, before)
                    raise _validation(error) from None
                raise limits.ValidationError(str(error)) from None
            return item

    backend.update_item = update_item  # type: ignore[attr-defined]


def _transactions(backend: type, module: Any) -> None:
    """Limits first, then the conflict window, then moto's transaction rolled back item by item on failure."""
    original = backend.transact_write_items  # type: ignore[attr-defined]
    table_class = module.Table

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if getattr(_in_transaction, "active", False) and isinstance(value, table_class):
            return value  # the "backup" is the live table; the items it touches are restored below
        return copy.deepcopy(value, memo)

    module.copy = SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        try:
            limits.check_transaction(self, transact_items)
        except limits.LimitError as error:
            raise _validation(error) from None
        with contention.in_flight(self, transact_items), contention.DATA_LOCK:
            before = [_snapshot(self, op) for op in transact_items]
            _in_transaction.active = True
            try:
                original(self, transact_items)
            except Exception:
                for snapshot in reversed([s for s in before if s is not None]):
                    _restore(self, snapshot)
                raise
            finally:
                _in_transaction.active = False

    backend.transact_write_items = transact_write_items  # type: ignore[attr-defined]


Snapshot = tuple[str, dict[str, Any], dict[str, Any] | None]


def _snapshot_key(backend: Any, table_name: str, key: dict[str, Any]) -> Snapshot | None:
    try:
        current = backend.get_item(table_name, key)
    except Exception:  # an invalid key: moto's own validation reports it
        return None
    return table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None


def _snapshot(backend: Any, item: dict[str, Any]) -> Snapshot | None:
    _, op = next(iter(item.items()))
    table_name = op.get("TableName")
    if table_name not in backend.tables:
        return None
    table = backend.tables[table_name]
    if "Key" in op:
        key = op["Key"]
    elif "Item" in op and table.hash_key_attr in op["Item"]:
        key = {k: op["Item"][k] for k in (table.hash_key_attr, table.range_key_attr) if k and k in op["Item"]}
    else:
        return None
    return _snapshot_key(backend, table_name, key)


def _restore(backend: Any, snapshot: Snapshot | None) -> None:
    if snapshot is None:
        return
    table_name, key, attrs = snapshot
    table = backend.tables[table_name]
    if attrs is None:
        if backend.get_item(table_name, key) is not None:
            table.delete_item(*backend.get_keys_value(table, key))
    else:
        table.put_item(attrs, overwrite=True)


# -- SQS --------------------------------------------------------------------------------------------------------
def _sqs() -> None:
    from moto.sqs.models import SQSBackend

    for name in ("send_message", "send_message_batch", "delete_message", "delete_message_batch",
                 "change_message_visibility", "change_message_visibility_batch", "get_queue_attributes",
                 "purge_queue"):
        method = getattr(SQSBackend, name)
        setattr(SQSBackend, name, _sqs_locked(method))
    receive = SQSBackend.receive_message

    def receive_message(self: Any, queue_name: str, count: int, wait_seconds_timeout: int, *args: Any,
                        **kwargs: Any) -> Any:
        """A long poll waits outside the lock, polling every 50 ms until its time is up."""
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with SQS_LOCK:
                got = receive(self, queue_name, count, 0, *args, **kwargs)
            if got or time.monotonic() >= deadline:
                return got
            time.sleep(0.05)

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = _retained  # type: ignore[method-assign]


def _sqs_locked(method: Callable[..., Any]) -> Callable[..., Any]:
    def locked(*args: Any, **kwargs: Any) -> Any:
        with SQS_LOCK:
            return method(*args, **kwargs)
    return locked


def _retained(self: Any, queue_name: str, message: Any) -> bool:
    retention = int(self.get_queue(queue_name).message_retention_period)
    return bool(retention + message.sent_timestamp / 1000 > time.time())


# -- Step Functions ---------------------------------------------------------------------------------------------
def _stepfunctions() -> None:
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    parse = AmazonStateLanguageParser.parse

    def parse_one_at_a_time(definition: str) -> Any:
        with _PARSE_LOCK:
            return parse(definition)

    AmazonStateLanguageParser.parse = staticmethod(parse_one_at_a_time)  # type: ignore[method-assign]

    entered = CommonStateField._eval_body

    def eval_body(self: Any, env: Any) -> None:
        quotas.transition()
        entered(self, env)

    CommonStateField._eval_body = eval_body  # type: ignore[method-assign]
    _executions()
    _tokens()
    _early_answers()
    _data_limit()
    _trace()


def _executions() -> None:
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    logic = ExecutionWorker._execution_logic

    def execution_logic(self: Any) -> None:
        try:
            logic(self)
        except Exception as error:  # the emulator's own fault: end the execution, say so
            LOG.error("emulator: execution thread failed: %r", error)
            comm = self._execution_communication
            comm.execution.exec_status = ExecutionStatus.FAILED
            comm.execution.error = "States.Runtime"
            comm.execution.cause = f"emulator fault: {type(error).__name__}: {error}"
            comm.execution.stop_date = datetime.datetime.now(tz=datetime.UTC)

    ExecutionWorker._execution_logic = execution_logic  # type: ignore[method-assign]

    reflect = BaseExecutionWorkerCommunication._reflect_execution_status

    def reflect_status(self: Any) -> None:
        if getattr(self.execution, "_orderflow_aborted", False):
            return  # aborted by StopExecution: its status and stop date are final
        reflect(self)

    BaseExecutionWorkerCommunication._reflect_execution_status = reflect_status  # type: ignore[method-assign]

    def stop(self: Any, stop_date: datetime.datetime, error: str | None, cause: str | None) -> None:
        if self.exec_status != ExecutionStatus.RUNNING:
            return
        env = getattr(self.exec_worker, "env", None)
        endpoints = list(getattr(getattr(env, "callback_pool_manager", None), "_pool", {}).items())
        with _dead_lock:
            _dead_tokens.update(token for token, _ in endpoints)
        self._orderflow_aborted = True
        self.exec_status = ExecutionStatus.ABORTED
        self.stop_date = stop_date
        self.error, self.cause = error, cause
        if env is not None:
            env.set_stop(stop_date=stop_date, cause=cause, error=error)
            for _, endpoint in endpoints:
                endpoint.interrupt_all()

    Execution.stop = stop  # type: ignore[method-assign]
    _final_stop()


def _final_stop() -> None:
    """A stopped program stays stopped: the interrupted task's late error or timeout does not replace it, so the
    history ends with ExecutionAborted as on AWS."""
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

    for name in ("set_error", "set_timed_out"):
        method = getattr(Environment, name)

        def unless_stopped(self: Any, *args: Any, _method: Any = method, **kwargs: Any) -> None:
            if isinstance(self._program_state, ProgramStopped):
                return
            _method(self, *args, **kwargs)

        setattr(Environment, name, unless_stopped)


def _tokens() -> None:
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend._get_executions

    def ready(self: Any, execution_status: Any = None) -> list[Any]:
        return [e for e in original(self, execution_status)
                if getattr(getattr(e, "exec_worker", None), "env", None) is not None]

    StepFunctionsParserBackend._get_executions = ready  # type: ignore[method-assign]

    for name in ("send_task_success", "send_task_failure", "send_task_heartbeat"):
        method = getattr(StepFunctionsParserBackend, name)

        def answer(self: Any, task_token: str, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
            with _dead_lock:
                dead = task_token in _dead_tokens
            if dead:
                raise AWSError("Task Timed Out: the execution of this task token was stopped",
                               exception_type="TaskTimedOut")
            return _method(self, task_token, *args, **kwargs)

        functools.update_wrapper(answer, method)  # callers that read the signature (a cause) see moto's own
        setattr(StepFunctionsParserBackend, name, answer)


def _early_answers() -> None:
    """However early an answer or a heartbeat comes, the waiting task sees it (see the module doc)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

    setup = CallbackEndpoint.setup_heartbeat_endpoint

    def setup_heartbeat_endpoint(self: Any, heartbeat_seconds: int) -> Any:
        endpoint = setup(self, heartbeat_seconds)  # assigned before the checks below: a later notify sees it
        if self.get_outcome() is not None or getattr(self, "_orderflow_early_beat", False):
            endpoint.notify()
        return endpoint

    CallbackEndpoint.setup_heartbeat_endpoint = setup_heartbeat_endpoint  # type: ignore[method-assign]
    notify_heartbeat = CallbackEndpoint.notify_heartbeat

    def notify_heartbeat_early(self: Any) -> bool:
        if self._heartbeat_endpoint is None:  # the task has not started waiting: the beat counts when it does
            self._orderflow_early_beat = True
            return True
        return bool(notify_heartbeat(self))

    CallbackEndpoint.notify_heartbeat = notify_heartbeat_early  # type: ignore[method-assign]
    wait = StateTaskServiceCallback._wait_for_task_token_heartbeat

    def wait_reading_first(self: Any, env: Any, callback_endpoint: Any, heartbeat_endpoint: Any) -> Any:
        outcome = callback_endpoint.get_outcome()
        return outcome if outcome is not None else wait(self, env, callback_endpoint, heartbeat_endpoint)

    StateTaskServiceCallback._wait_for_task_token_heartbeat = wait_reading_first  # type: ignore[method-assign]


PAYLOAD_BYTES = 262_144
"""Step Functions' payload quota: 256 KiB of UTF-8 for a state's input (after Parameters) or output
(https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions)."""
TERMINAL_ERRORS = ("States.DataLimitExceeded", "States.Runtime")
"""Errors ``States.ALL`` does not match (concepts-error-handling.html)."""


def _data_limit() -> None:
    """States.DataLimitExceeded for a Task input over the quota after Parameters; terminal for States.ALL."""
    from moto.stepfunctions.parser.asl.component.common.error_name import states_error_name
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
        StateTaskService,
    )

    matches = ErrorEqualsDecl._eval_body

    def eval_body(self: Any, env: Any) -> None:
        error_name = env.stack[-1]
        wildcard = ErrorEqualsDecl._STATE_ALL_ERROR in self.error_names
        if wildcard and isinstance(error_name, states_error_name.StatesErrorName) \
                and error_name.error_name in TERMINAL_ERRORS:
            env.stack.pop()
            env.stack.append(False)  # only an explicit name matches it
            return
        matches(self, env)

    ErrorEqualsDecl._eval_body = eval_body  # type: ignore[method-assign]
    before = StateTaskService._before_eval_execution

    def before_eval_execution(self: Any, env: Any, resource_runtime_part: Any, raw_parameters: dict[str, Any],
                              state_credentials: Any) -> None:
        # compact UTF-8 JSON, the least any writer of the payload could count (never ASCII-escaped)
        size = len(json.dumps(raw_parameters, ensure_ascii=False, separators=(",", ":"), default=str)
                   .encode("utf-8", "surrogatepass"))
        if size > PAYLOAD_BYTES:
            _fail_data_limit(self, env, f"The state '{self.name}' has an input of {size} bytes after Parameters, "
                                        f"over the {PAYLOAD_BYTES}-byte payload quota.")
        before(self, env, resource_runtime_part, raw_parameters, state_credentials)

    StateTaskService._before_eval_execution = before_eval_execution  # type: ignore[method-assign]


def _fail_data_limit(state: Any, env: Any, cause: str) -> None:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    typ = StatesErrorNameType.StatesStatesDataLimitExceeded
    raise FailureEventException(failure_event=FailureEvent(
        env=env, error_name=StatesErrorName(typ=typ), event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(  # type: ignore[typeddict-item]
            error=typ.to_name(), cause=cause, resourceType=state._get_sfn_resource_type(),
            resource=state._get_sfn_resource()))))


_trace_headers: dict[str, str] = {}
"""Execution ARN -> the trace header it was started with (StartExecution ``traceHeader``)."""


def forget_traces() -> None:
    """Forget every execution's trace header: a new mock reuses execution ARNs (``deploy`` calls it)."""
    _trace_headers.clear()


def trace_header_of(execution_arn: str) -> str | None:
    """The trace header an execution was started with, or None."""
    return _trace_headers.get(execution_arn)


def _trace() -> None:
    """StartExecution's traceHeader kept and described; the SQS integration's messages carry it (module doc)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs import (
        StateTaskServiceSqs,
    )
    from moto.stepfunctions.responses import StepFunctionResponse

    start, describe = StepFunctionResponse.start_execution, StepFunctionResponse.describe_execution

    def start_execution(self: Any) -> Any:
        header, machine, name = (self._get_param(p) for p in ("traceHeader", "stateMachineArn", "name"))
        if header and machine and name:  # known before the execution's thread can send its first message
            # the first start of a name wins: a repeated name is the same execution, or refused
            _trace_headers.setdefault(machine.replace(":stateMachine:", ":execution:", 1) + f":{name}", header)
        return start(self)

    def describe_execution(self: Any) -> Any:
        response = describe(self)
        header = _trace_headers.get(self._get_param("executionArn"))
        result: Any = response.result
        if header and isinstance(result, dict):
            result["traceHeader"] = header
        return response

    StepFunctionResponse.start_execution = start_execution  # type: ignore[method-assign]
    StepFunctionResponse.describe_execution = describe_execution  # type: ignore[method-assign]
    send = StateTaskServiceSqs._eval_service_task

    def eval_service_task(self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict[str, Any],
                          state_credentials: Any) -> None:
        execution = env.states.context_object.context_object_data["Execution"]["Id"]
        header = _trace_headers.get(execution)
        if header and "MessageSystemAttributes" not in normalised_parameters:
            root = next((p for p in header.split(";") if p.startswith("Root=")), header)
            normalised_parameters["MessageSystemAttributes"] = {"AWSTraceHeader": {
                "DataType": "String", "StringValue": f"{root};Parent={uuid.uuid4().hex[:16]};Sampled=1"}}
        quotas.integration_send()
        send(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    StateTaskServiceSqs._eval_service_task = eval_service_task  # type: ignore[method-assign]
