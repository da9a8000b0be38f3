"""core/v1 Events for what the controllers do, as client-go's event recorder writes them.

:meth:`EventRecorder.record` creates an ``Event`` named ``<object>.<hex nanoseconds>``
in the involved object's namespace (``default`` for cluster-scoped objects) with
``involvedObject`` (kind, namespace, name, uid, apiVersion, resourceVersion and, for a
container, ``fieldPath: spec.containers{name}``), ``reason``, ``message``, ``type``
(``Normal``/``Warning``), ``source{component, host}``, ``reportingComponent``,
``reportingInstance``, ``firstTimestamp``/``lastTimestamp`` and ``count``. An identical
event (same object, field path, reason, message, type and source) bumps ``count`` and
``lastTimestamp`` of the existing one instead, as client-go's correlator does.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from flink_k8s_sandbox.errors import ApiError
from flink_k8s_sandbox.metadata import format_time
from flink_k8s_sandbox.resources import ResourceRegistry, ResourceType
from flink_k8s_sandbox.storage import Storage, WriteOptions

__all__ = ["NORMAL", "WARNING", "EventRecorder", "EventSource", "container_field_path"]

Obj = dict[str, Any]
NORMAL = "Normal"
WARNING = "Warning"
_LOG = logging.getLogger(__name__)
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class EventSource:
    """Who reports: ``component`` (``kubelet``, ``default-scheduler``...) and its host."""

    component: str
    host: str = ""


def container_field_path(container: str, init: bool = False) -> str:
    return f"spec.{'initContainers' if init else 'containers'}{{{container}}}"


def _reference(obj: Obj, field_path: str) -> Obj:
    metadata = obj.get("metadata", {})
    ref: Obj = {
        "kind": obj.get("kind", ""),
        "namespace": metadata.get("namespace", ""),
        "name": metadata.get("name", ""),
        "uid": metadata.get("uid", ""),
        "apiVersion": obj.get("apiVersion", ""),
        "resourceVersion": metadata.get("resourceVersion", ""),
    }
    if field_path:
        ref["fieldPath"] = field_path
    return {key: value for key, value in ref.items() if value}


class EventRecorder:
    """Writes Events through :class:`~.storage.Storage` (failures are logged, not raised).

    :param storage: the write path.
    :param registry: to find the ``events`` type.
    """

    def __init__(self, storage: Storage, registry: ResourceRegistry) -> None:
        self.storage = storage
        self.registry = registry
        self._recent: dict[tuple[str, ...], tuple[str, str]] = {}  # key -> (namespace, name)

    def _type(self) -> ResourceType:
        rt = self.registry.get("", "v1", "events")
        assert rt is not None
        return rt

    def record(
        self,
        obj: Obj,
        event_type: str,
        reason: str,
        message: str,
        source: EventSource,
        field_path: str = "",
    ) -> None:
        """Record one event about ``obj`` (a stored object, with kind and apiVersion)."""
        ref = _reference(obj, field_path)
        namespace = ref.get("namespace") or "default"
        key = (
            ref.get("uid", ""),
            field_path,
            reason,
            message,
            event_type,
            source.component,
            source.host,
        )
        now = format_time(self.storage.clock())
        opts = WriteOptions(field_manager=source.component)
        try:
            if not self._bump(key, now, opts):
                self._create(key, namespace, ref, event_type, reason, message, source, now, opts)
        except ApiError as error:
            _LOG.debug("could not record event %s for %s: %s", reason, ref.get("name"), error)

    def _bump(self, key: tuple[str, ...], now: str, opts: WriteOptions) -> bool:
        found = self._recent.get(key)
        if found is None or self.storage.store.get(("", "events"), *found) is None:
            return False

        def mutate(current: Obj | None) -> Obj:
            assert current is not None
            current["count"] = int(current.get("count") or 1) + 1
            current["lastTimestamp"] = now
            return current

        self.storage.modify(self._type(), found[0], found[1], mutate, opts)
        return True

    def _create(
        self,
        key: tuple[str, ...],
        namespace: str,
        ref: Obj,
        event_type: str,
        reason: str,
        message: str,
        source: EventSource,
        now: str,
        opts: WriteOptions,
    ) -> None:
        name = f"{ref.get('name', 'event')}.{time.time_ns():x}"
        while self.storage.store.get(("", "events"), namespace, name) is not None:
            name = f"{ref.get('name', 'event')}.{time.time_ns() + 1:x}"
        event: Obj = {
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "source": {"component": source.component, "host": source.host},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": event_type,
            "reportingComponent": source.component,
            "reportingInstance": source.host,
        }
        if not source.host:
            del event["source"]["host"]
        self.storage.create(self._type(), namespace, event, opts)
        if len(self._recent) >= _CACHE_LIMIT:
            self._recent.clear()
        self._recent[key] = (namespace, name)
