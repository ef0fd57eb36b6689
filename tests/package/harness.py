"""The Pulumi engine's side of a component provider, for tests: start the provider as the CLI does, and record what
its ``Construct`` registers.

The CLI starts a source plugin through its language host, which runs ``python <plugin dir> <engine address>`` with
the python of the plugin's virtualenv, in the consuming program's folder (pulumi/pulumi,
``sdk/python/cmd/pulumi-language-python``, ``RunPlugin``; the engine passes its own gRPC address as the plugin's
argument, ``pkg/resource/plugin``). The provider prints its port and serves ``ResourceProvider``. For ``Construct``
the engine hands it a resource monitor's address; the provider registers the component and its children there, logs
to the engine, and answers with the component's URN and outputs.

:class:`RecordingMonitor` is that resource monitor, served over gRPC in the test process: it records every
registration and answers as the offline synth does (ids and computed outputs from :class:`tools.synth_mocks.
SynthMocks`, invokes such as the Powertools layer parameter too), so a constructed component can be compared resource
by resource with the Python program under the synth. :class:`RecordingEngine` records the provider's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import threading
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)

from tools.synth import _plain
from tools.synth_mocks import AccountFixture, SynthMocks

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "components" / "orderflow"
STACK_TYPE = "pulumi:pulumi:Stack"
FEATURES = [
    resource_pb2.RESOURCE_MONITOR_FEATURE_SECRETS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES,
    resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_DELETED_WITH,
]
"""What this monitor tells the SDK it supports: the synth's monitor's features that matter to a registration, so both
encode inputs alike. Without ``outputValues`` an input arrives as its plain value, as under the synth."""
LEGACY_FEATURES = {"secrets", "resourceReferences", "aliasSpecs", "deletedWith"}


@dataclass
class Registration:
    """One ``RegisterResource`` as the monitor received it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    protect: bool
    raw_inputs: dict[str, Any]
    """The inputs as deserialized (assets as ``pulumi.FileAsset`` with the provider's relative paths)."""
    dependencies: list[str]
    outputs: dict[str, Any] = field(default_factory=dict)
    """What ``RegisterResourceOutputs`` gave for it (components)."""

    def inputs(self, cwd: Path) -> Any:
        """The inputs in the synth export's form (:func:`tools.synth._plain`: files hashed), relative paths read in
        ``cwd`` (the provider's working folder)."""
        with contextlib.chdir(cwd):
            return _plain(self.raw_inputs)


class RecordingMonitor(resource_pb2_grpc.ResourceMonitorServicer):
    """A resource monitor that records registrations and answers as the synth's mocks do."""

    def __init__(self, project: str, stack: str, region: str) -> None:
        self.project = project
        self.stack = stack
        self.stack_urn = f"urn:pulumi:{stack}::{project}::{STACK_TYPE}::{project}-{stack}"
        self.mocks = SynthMocks(region, AccountFixture(), computed=True, preview=False)
        self.registrations: dict[str, Registration] = {}
        self.invokes: list[str] = []
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN: the parent's qualified type chain in front of the type, none under the stack."""
        qualified = type_
        if parent and parent != self.stack_urn:
            qualified = f"{parent.split('::')[2]}${type_}"
        return "urn:pulumi:" + "::".join([self.stack, self.project, qualified, name])

    def GetDeploymentInfo(self, request: Any, context: Any) -> Any:
        return resource_pb2.DeploymentInfo(supportedFeatures=FEATURES)

    def SupportsFeature(self, request: Any, context: Any) -> Any:
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id in LEGACY_FEATURES)

    def RegisterPackage(self, request: Any, context: Any) -> Any:
        return resource_pb2.RegisterPackageResponse(ref=f"{request.name}-{request.version}")

    def RegisterResource(self, request: Any, context: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        inputs = rpc.deserialize_properties(request.object)
        with self._lock:
            if urn in self.registrations:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"Duplicate resource URN '{urn}'")
            if request.parent and request.parent != self.stack_urn and request.parent not in self.registrations:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"could not find parent resource {request.parent}")
            self.registrations[urn] = Registration(urn, request.type, request.name, bool(request.custom),
                                                   request.parent, bool(request.protect), inputs,
                                                   sorted(request.dependencies))
        if not request.custom:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        rid, state = self.mocks.new_resource(pmocks.MockResourceArgs(
            typ=request.type, name=request.name, inputs=inputs, provider=request.provider, custom=True))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=rid or "", object=_struct(state))

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:
        with self._lock:
            if request.urn in self.registrations:
                self.registrations[request.urn].outputs = rpc.deserialize_properties(request.outputs)
        return empty_pb2.Empty()

    def Invoke(self, request: Any, context: Any) -> Any:
        self.invokes.append(request.tok)
        answer = self.mocks.call(pmocks.MockCallArgs(request.tok, rpc.deserialize_properties(request.args),
                                                     request.provider))
        values, failures = (answer, []) if isinstance(answer, dict) else answer
        return resource_pb2.ResourceInvokeResponse(**{
            "return": _struct(values),
            "failures": [provider_pb2.CheckFailure(property=p, reason=r) for p, r in failures],
        })

    def SignalAndWaitForShutdown(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()

    def subtree(self, root: str) -> dict[str, Registration]:
        """The registrations of ``root`` (a URN) and of every resource under it, by URN."""
        return {urn: r for urn, r in self.registrations.items() if urn == root or _under(self.registrations, r, root)}


def _under(registrations: dict[str, Registration], registration: Registration, root: str) -> bool:
    parent = registration.parent
    while parent and parent in registrations:
        if parent == root:
            return True
        parent = registrations[parent].parent
    return parent == root


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    """Values as the wire form a monitor answers with (assets and archives included)."""
    return asyncio.run(rpc.serialize_properties(values, {}))


class RecordingEngine(engine_pb2_grpc.EngineServicer):
    """The engine's log service: records what the provider logs, by severity name."""

    def __init__(self, stack_urn: str) -> None:
        self.stack_urn = stack_urn
        self.logs: list[tuple[str, str]] = []

    def Log(self, request: Any, context: Any) -> Any:
        self.logs.append((engine_pb2.LogSeverity.Name(request.severity), request.message))
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.GetRootResourceResponse(urn=self.stack_urn)

    def SetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.SetRootResourceResponse()


@dataclass
class Engine:
    """The engine side served over gRPC: one server with the engine's log service and the resource monitor."""

    monitor: RecordingMonitor
    engine: RecordingEngine
    server: grpc.Server
    address: str

    @classmethod
    def serve(cls, project: str, stack: str, region: str) -> Engine:
        monitor = RecordingMonitor(project, stack, region)
        engine = RecordingEngine(monitor.stack_urn)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(monitor, server)
        engine_pb2_grpc.add_EngineServicer_to_server(engine, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        return cls(monitor, engine, server, f"127.0.0.1:{port}")

    def stop(self) -> None:
        self.server.stop(grace=None)


def start_provider(python: str, engine_address: str, cwd: Path,
                   env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], Any]:
    """Start the component package as the Python language host does; returns the process and a ``ResourceProvider``
    stub on the port it printed. Fails the test with the provider's stderr when it prints no port."""
    process = subprocess.Popen([python, str(PLUGIN), engine_address], cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.isdigit():
        process.kill()
        raise AssertionError(f"the provider printed no port: {line!r}\n{process.communicate()[1].decode()[-3000:]}")
    channel = grpc.insecure_channel(f"127.0.0.1:{line}")
    return process, provider_pb2_grpc.ResourceProviderStub(channel)


def construct(stub: Any, engine: Engine, typ: str, name: str, inputs: dict[str, Any],
              config: dict[str, str] | None = None, timeout: float = 60) -> Any:
    """``Construct`` as the engine sends it for a component a program declares under its stack (not a preview)."""
    struct = struct_pb2.Struct()
    struct.update(inputs)
    request = provider_pb2.ConstructRequest(
        project=engine.monitor.project, stack=engine.monitor.stack, organization="organization",
        config=config or {}, dryRun=False, parallel=16, monitorEndpoint=engine.address,
        type=typ, name=name, parent=engine.monitor.stack_urn, inputs=struct)
    return stub.Construct(request, timeout=timeout)
