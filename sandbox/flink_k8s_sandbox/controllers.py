"""In-process controllers and the manager that feeds them store events.

:class:`ControllerManager` subscribes to the store, queues each committed event and,
once the current request is done (``schedule``, normally ``loop.call_soon``), hands the
queue to every controller in order until it is empty. Controllers write through
:class:`~.storage.Storage`, the same path as HTTP requests; their writes are events too.

Built in: the garbage collector (:mod:`.gc`), :class:`NamespaceController` (empties a
terminating namespace, then finalizes it) and :class:`CrdController` (serves a CRD's
types once created, reports it Established, deletes its objects on removal).
Later steps add workload controllers with the same ``handle(event)`` shape.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from flink_k8s_sandbox.crds import (
    CRD_KEY,
    established_status,
    is_established,
    resource_types_for,
    storage_key_of,
)
from flink_k8s_sandbox.deletion import (
    CRD_CLEANUP_FINALIZER,
    DeleteOptions,
    delete_object,
)
from flink_k8s_sandbox.errors import ApiError
from flink_k8s_sandbox.metadata import format_time
from flink_k8s_sandbox.resources import ResourceRegistry, ResourceType, TypeKey
from flink_k8s_sandbox.storage import Storage, WriteOptions
from flink_k8s_sandbox.store import StoreEvent

__all__ = ["Controller", "ControllerManager", "CrdController", "NamespaceController"]

Obj = dict[str, Any]
_LOG = logging.getLogger(__name__)
_NAMESPACES: TypeKey = ("", "namespaces")


class Controller(Protocol):
    def handle(self, event: StoreEvent) -> None: ...


class ControllerManager:
    """Runs controllers on store events, after the write that caused them."""

    def __init__(
        self,
        storage: Storage,
        controllers: Sequence[Controller],
        schedule: Callable[[Callable[[], None]], Any],
    ) -> None:
        self.controllers = list(controllers)
        self._schedule = schedule
        self._pending: deque[StoreEvent] = deque()
        self._scheduled = False
        self._unsubscribe = storage.store.subscribe(self._on_event)

    def _on_event(self, event: StoreEvent) -> None:
        self._pending.append(event)
        if not self._scheduled:
            self._scheduled = True
            self._schedule(self.run_pending)

    def run_pending(self) -> None:
        """Process queued events (and those they cause) until none is left."""
        self._scheduled = False
        while self._pending:
            event = self._pending.popleft()
            for controller in self.controllers:
                try:
                    controller.handle(event)
                except Exception:  # a broken controller must not stop the others
                    _LOG.exception(
                        "controller %s failed on %s", type(controller).__name__, event.type
                    )

    def close(self) -> None:
        self._unsubscribe()


def _delete_quietly(storage: Storage, rt: ResourceType, obj: Obj) -> None:
    metadata = obj["metadata"]
    if metadata.get("deletionTimestamp"):
        return
    try:
        delete_object(storage, rt, metadata.get("namespace", ""), metadata["name"], DeleteOptions())
    except ApiError as error:
        _LOG.debug("could not delete %s: %s", metadata["name"], error)


class NamespaceController:
    """Deletes everything in a terminating namespace, then removes the namespace."""

    def __init__(self, storage: Storage, registry: ResourceRegistry) -> None:
        self.storage = storage
        self.registry = registry

    def handle(self, event: StoreEvent) -> None:
        if event.key == _NAMESPACES:
            if event.type != "DELETED" and event.obj["metadata"].get("deletionTimestamp"):
                self._drain(event.obj["metadata"]["name"])
            return
        namespace = event.obj["metadata"].get("namespace")
        if event.type == "DELETED" and namespace:
            ns = self.storage.store.get(_NAMESPACES, "", namespace)
            if ns is not None and ns["metadata"].get("deletionTimestamp"):
                self._drain(namespace)

    def _namespaced_types(self) -> list[ResourceType]:
        unique: dict[TypeKey, ResourceType] = {}
        for rt in self.registry.all():
            if rt.namespaced:
                unique.setdefault(rt.storage_key, rt)
        return list(unique.values())

    def _drain(self, namespace: str) -> None:
        remaining = 0
        for rt in self._namespaced_types():
            for obj in self.storage.store.objects(rt.storage_key, namespace):
                _delete_quietly(self.storage, rt, obj)
            remaining += len(self.storage.store.objects(rt.storage_key, namespace))
        if remaining == 0:
            self._finalize(namespace)

    def _finalize(self, namespace: str) -> None:
        rt = self.registry.get("", "v1", "namespaces")
        assert rt is not None

        def mutate(current: Obj | None) -> Obj:
            assert current is not None
            current.setdefault("spec", {})["finalizers"] = []
            return current

        opts = WriteOptions(field_manager="namespace-controller")
        try:
            self.storage.modify(rt, "", namespace, mutate, opts, subresource="finalize")
        except ApiError as error:
            _LOG.debug("could not finalize namespace %s: %s", namespace, error)


class CrdController:
    """Serves what CRDs define; removes their objects and types when they go."""

    def __init__(self, storage: Storage, registry: ResourceRegistry) -> None:
        self.storage = storage
        self.registry = registry

    def handle(self, event: StoreEvent) -> None:
        if event.key == CRD_KEY:
            self._crd_event(event)
        elif event.type == "DELETED" and event.key[0]:
            crd = self.storage.store.get(CRD_KEY, "", f"{event.key[1]}.{event.key[0]}")
            if crd is not None and crd["metadata"].get("deletionTimestamp"):
                self._cleanup(crd)

    def _crd_event(self, event: StoreEvent) -> None:
        crd = event.obj
        key = storage_key_of(crd)
        if event.type == "DELETED":
            self.registry.remove(key)
            return
        if crd["metadata"].get("deletionTimestamp"):
            self._cleanup(crd)
            return
        self.registry.remove(key)
        for rt in resource_types_for(crd):
            self.registry.add(rt)
        if not is_established(crd):
            self._establish(crd)

    def _establish(self, crd: Obj) -> None:
        rt = self.registry.get(CRD_KEY[0], "v1", CRD_KEY[1])
        assert rt is not None

        def mutate(current: Obj | None) -> Obj:
            assert current is not None
            current["status"] = established_status(current, format_time(self.storage.clock()))
            return current

        opts = WriteOptions(field_manager="kube-apiserver")
        name = crd["metadata"]["name"]
        try:
            self.storage.modify(rt, "", name, mutate, opts, subresource="status")
        except ApiError as error:
            _LOG.debug("could not establish %s: %s", name, error)

    def _cleanup(self, crd: Obj) -> None:
        versions = self.registry.versions_of(storage_key_of(crd))
        if versions:
            for obj in self.storage.store.objects(versions[0].storage_key):
                _delete_quietly(self.storage, versions[0], obj)
            if self.storage.store.count(versions[0].storage_key):
                return
        rt = self.registry.get(CRD_KEY[0], "v1", CRD_KEY[1])
        assert rt is not None

        def mutate(current: Obj | None) -> Obj:
            assert current is not None
            finalizers = current["metadata"].get("finalizers") or []
            current["metadata"]["finalizers"] = [
                f for f in finalizers if f != CRD_CLEANUP_FINALIZER
            ]
            return current

        opts = WriteOptions(field_manager="kube-apiserver")
        try:
            self.storage.modify(rt, "", crd["metadata"]["name"], mutate, opts)
        except ApiError as error:
            _LOG.debug("could not finalize %s: %s", crd["metadata"]["name"], error)
