"""The stand-in operator's reads and writes, through the sandbox's storage.

Every write goes the path an HTTP request takes (:class:`~..storage.Storage`), as a real
controller's would: status through the ``status`` subresource, finalizers through the
object, native objects by create/delete (Foreground). Failures are logged and swallowed,
as a controller retries on its next pass rather than crashing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from flink_k8s_sandbox.deletion import DeleteOptions, delete_object
from flink_k8s_sandbox.errors import ApiError
from flink_k8s_sandbox.events import NORMAL, EventRecorder, EventSource
from flink_k8s_sandbox.resources import ResourceRegistry, ResourceType
from flink_k8s_sandbox.storage import Storage, WriteOptions

__all__ = ["GROUP", "OperatorAccess", "write_savepoint"]

Obj = dict[str, Any]
GROUP = "flink.apache.org"
_LOG = logging.getLogger(__name__)
_OPTS = WriteOptions(field_manager="flink-kubernetes-operator")
_SOURCE = EventSource("flink-kubernetes-operator")
_TYPES = {
    "flinkdeployments": (GROUP, "v1beta1"),
    "flinksessionjobs": (GROUP, "v1beta1"),
    "deployments": ("apps", "v1"),
    "pods": ("", "v1"),
    "services": ("", "v1"),
    "configmaps": ("", "v1"),
}


def write_savepoint(location: str, job_id: str, timestamp_ms: int) -> None:
    """Make a ``file://`` savepoint real: its folder and a ``_metadata`` file (a small JSON
    document naming the job, not Flink's binary format). Other schemes are left alone."""
    parsed = urlparse(location)
    if parsed.scheme != "file":
        return
    folder = Path(parsed.path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        document = {"jobId": job_id, "timestamp": timestamp_ms, "writer": "flink-k8s-sandbox"}
        (folder / "_metadata").write_text(json.dumps(document), encoding="utf-8")
    except OSError as error:
        _LOG.warning("could not write savepoint %s: %s", location, error)


class OperatorAccess:
    """The operator's view of the store and its write path.

    :param storage: the sandbox's write path.
    :param registry: served types (the CRDs' appear once they are established).
    """

    def __init__(self, storage: Storage, registry: ResourceRegistry) -> None:
        self.storage = storage
        self.registry = registry
        self.events = EventRecorder(storage, registry)

    def type(self, plural: str) -> ResourceType | None:
        group, version = _TYPES[plural]
        return self.registry.get(group, version, plural)

    def find(self, plural: str, namespace: str, name: str) -> Obj | None:
        rt = self.type(plural)
        return None if rt is None else self.storage.find(rt, namespace, name)

    def objects(self, plural: str, namespace: str, selector: Mapping[str, str]) -> list[Obj]:
        """The namespace's objects whose labels include ``selector``, by name."""
        rt = self.type(plural)
        if rt is None:
            return []
        found = []
        for obj in self.storage.store.objects(rt.storage_key, namespace):
            labels = obj.get("metadata", {}).get("labels") or {}
            if all(labels.get(k) == v for k, v in selector.items()):
                found.append({**obj, "apiVersion": rt.api_version, "kind": rt.kind})
        return sorted(found, key=lambda o: str(o["metadata"]["name"]))

    def create(self, plural: str, namespace: str, body: Obj) -> Obj | None:
        rt = self.type(plural)
        if rt is None:
            return None
        try:
            return self.storage.create(rt, namespace, body, _OPTS).obj
        except ApiError as error:
            if error.code == 409:
                return self.find(plural, namespace, body["metadata"]["name"])
            _LOG.warning("could not create %s %s: %s", plural, body["metadata"]["name"], error)
            return None

    def delete(self, plural: str, namespace: str, name: str) -> None:
        """Delete with Foreground propagation, as the operator's cleanup does."""
        rt = self.type(plural)
        if rt is None:
            return
        try:
            delete_object(
                self.storage, rt, namespace, name, DeleteOptions(propagation_policy="Foreground")
            )
        except ApiError as error:
            if error.code != 404:
                _LOG.warning("could not delete %s %s: %s", plural, name, error)

    def update_status(
        self, plural: str, namespace: str, name: str, change: Callable[[Obj, Obj], None]
    ) -> bool:
        """Read-modify-write ``status`` through the status subresource:
        ``change(status, object)`` edits the status in place. False if the object is gone."""
        rt = self.type(plural)
        if rt is None:
            return False

        def mutate(current: Obj | None) -> Obj:
            assert current is not None
            status = current.setdefault("status", {})
            change(status, current)
            return current

        try:
            self.storage.modify(rt, namespace, name, mutate, _OPTS, subresource="status")
        except ApiError as error:
            log = _LOG.warning if error.code == 422 else _LOG.debug
            log("could not update the status of %s %s: %s", plural, name, error)
            return False
        return True

    def set_finalizer(self, plural: str, obj: Mapping[str, Any], finalizer: str, on: bool) -> None:
        """Add or remove ``finalizer``; removing the last one of a deleted object removes it."""
        rt = self.type(plural)
        if rt is None:
            return
        metadata = obj["metadata"]

        def mutate(current: Obj | None) -> Obj:
            assert current is not None
            present = [f for f in current["metadata"].get("finalizers") or [] if f != finalizer]
            current["metadata"]["finalizers"] = [*present, finalizer] if on else present
            return current

        try:
            self.storage.modify(rt, metadata.get("namespace", ""), metadata["name"], mutate, _OPTS)
        except ApiError as error:
            _LOG.debug("could not update the finalizers of %s: %s", metadata["name"], error)

    def event(self, obj: Mapping[str, Any], reason: str, message: str, kind: str = NORMAL) -> None:
        """An Event about ``obj`` from ``flink-kubernetes-operator``."""
        self.events.record(dict(obj), kind, reason, message, _SOURCE)
