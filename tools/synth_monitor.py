"""A resource monitor for the offline synth that refuses what the Pulumi engine refuses at registration.

Pulumi's ``MockMonitor`` stores every registration by URN and accepts anything; the engine does not. This
monitor applies the engine's registration checks, in its words (pulumi/pulumi, pkg/resource/deploy):

- a custom resource's type must be a ``package:module:Name`` token (``source_eval.go``, via
  ``tokens.ParseTypeToken``): "Type '<t>' is not a valid type token (must have format '*:*:*')";
- a parent must already be registered (``step_generator.go`` ``checkParent``): "could not find parent resource
  <urn>";
- a URN may be registered once (``step_generator.go`` ``generateURN``, diag 2001): "Duplicate resource URN
  '<urn>'; try giving it a unique name";
- every ``depends_on``, property dependency, ``deleted_with`` and explicit provider must name a registered
  resource (the snapshot integrity check, ``snapshot.go`` ``VerifyIntegrity``): "resource <urn>'s dependency
  <dep> refers to missing resource", "... property dependency <dep> (from property <p>) refers to missing
  resource", "resource <urn> is specified as being deleted with <dep>, which is missing", "resource <urn> refers to
  unknown provider <ref>".

The first refusal fails the synth with :class:`RegistrationError`, as the engine fails the preview. Where the
engine's words do not name the resource being registered, ``(resource <urn>)`` is appended.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from pulumi.runtime import mocks as pmocks
from pulumi.runtime.settings import get_project, get_stack

STACK_TYPE = "pulumi:pulumi:Stack"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The engine's sentinel for a value not known yet (a new provider's id in a preview)."""


def _in_own_loop(call: Callable[[], Any]) -> Any:
    """Run a monitor call made from a worker thread with an event loop that is closed afterwards.

    MockMonitor opens an event loop in every worker thread it is called from and never closes it; at exit the
    garbage collector closes them after their file descriptors are gone, and asyncio prints "Exception ignored
    ... Invalid file descriptor" on stderr.
    """
    if threading.current_thread() is threading.main_thread():
        return call()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return call()
    finally:
        asyncio.set_event_loop(None)
        loop.close()


class RegistrationError(Exception):
    """The engine would refuse the program at registration; the message is the engine's."""


class StrictMonitor(pmocks.MockMonitor):
    """MockMonitor plus the engine's registration checks; calls ``record(request, response)`` per resource."""

    def __init__(self, mocks: pmocks.Mocks, record: Callable[[Any, Any], None]) -> None:
        super().__init__(mocks)
        self.registered: set[str] = set()
        self.providers: dict[str, str] = {}
        """Registered provider URN -> its id ("" while unknown, in a preview)."""
        self.errors: list[str] = []
        self._record = record
        self._lock = threading.Lock()  # the SDK registers from several threads at once

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives: the parent's whole qualified type chain, none for the root stack.

        (``Deployment.generateURN`` and ``resource.NewURN``; MockMonitor keeps only the parent's last type and
        prefixes the stack's.)
        """
        qualified = type_
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:
                qualified = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), qualified, name])

    def _refuse(self, message: str) -> RegistrationError:
        self.errors.append(message)
        return RegistrationError(message)

    def _check(self, request: Any, urn: str) -> str | None:
        """The engine's first objection to this registration, or None."""
        if request.custom and request.type.count(":") < 2:
            return f"Type '{request.type}' is not a valid type token (must have format '*:*:*') (resource {urn})"
        if request.parent and request.parent not in self.registered:
            return f"could not find parent resource {request.parent} (resource {urn})"
        if urn in self.registered:
            return f"Duplicate resource URN '{urn}'; try giving it a unique name"
        for dep in request.dependencies:
            if dep not in self.registered:
                return f"resource {urn}'s dependency {dep} refers to missing resource"
        for prop, deps in request.propertyDependencies.items():
            for dep in deps.urns:
                if dep not in self.registered:
                    return (f"resource {urn}'s property dependency {dep} (from property {prop}) refers to "
                            "missing resource")
        deleted_with = getattr(request, "deletedWith", "")
        if deleted_with and deleted_with not in self.registered:
            return f"resource {urn} is specified as being deleted with {deleted_with}, which is missing"
        if request.custom and request.provider and not self._known_provider(request.provider):
            return f"resource {urn} refers to unknown provider {request.provider}"
        return None

    def _known_provider(self, ref: str) -> bool:
        """A provider reference ``<urn>::<id>`` to a registered provider (its id may still be unknown in a preview)."""
        urn, _, pid = ref.rpartition("::")
        if urn not in self.providers:
            return False
        return pid in (self.providers[urn], UNKNOWN) or self.providers[urn] == ""

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self.registered.add(urn)
            return super().RegisterResource(request)
        with self._lock:
            problem = self._check(request, urn)
            if problem:
                raise self._refuse(problem)
            self.registered.add(urn)
        response = _in_own_loop(lambda: super(StrictMonitor, self).RegisterResource(request))
        if request.type.startswith("pulumi:providers:"):
            self.providers[urn] = response.id
        self._record(request, response)
        return response

    def ReadResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        with self._lock:
            if request.parent and request.parent not in self.registered:
                raise self._refuse(f"could not find parent resource {request.parent} (resource {urn})")
            if urn in self.registered:
                raise self._refuse(f"Duplicate resource URN '{urn}'; try giving it a unique name")
            self.registered.add(urn)
        return _in_own_loop(lambda: super(StrictMonitor, self).ReadResource(request))

    def Invoke(self, request: Any) -> Any:
        return _in_own_loop(lambda: super(StrictMonitor, self).Invoke(request))
