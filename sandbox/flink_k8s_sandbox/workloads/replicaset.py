"""The ReplicaSet controller: keeps ``spec.replicas`` active pods and reports them.

Pods are made from ``spec.template`` (``generateName: <rs>-``, a controller owner
reference) and, when there are too many, the least valuable go first (unscheduled,
then pending, then not ready, then the newest). Terminating and finished pods do not
count. Status counts ``replicas``, ``fullyLabeledReplicas``, ``readyReplicas`` and
``availableReplicas`` (ready for ``minReadySeconds``); events ``SuccessfulCreate``,
``SuccessfulDelete`` and ``FailedCreate`` come from ``replicaset-controller``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flink_k8s_sandbox.clock import Timers, WorkQueue
from flink_k8s_sandbox.deletion import DeleteOptions, delete_object
from flink_k8s_sandbox.errors import ApiError
from flink_k8s_sandbox.events import NORMAL, WARNING, EventRecorder, EventSource
from flink_k8s_sandbox.resources import ResourceRegistry, ResourceType
from flink_k8s_sandbox.storage import Storage, WriteOptions
from flink_k8s_sandbox.store import StoreEvent
from flink_k8s_sandbox.workloads.refs import (
    controller_of,
    controller_reference,
    is_deleting,
    is_terminal,
)
from flink_k8s_sandbox.workloads.status import (
    get_condition,
    parse_time,
    pod_ready,
    replica_set_status,
)

__all__ = ["ReplicaSetController", "deletion_rank"]

Obj = dict[str, Any]
_LOG = logging.getLogger(__name__)
_PODS = ("", "pods")
_REPLICA_SETS = ("apps", "replicasets")
_OPTS = WriteOptions(field_manager="kube-controller-manager")
_SOURCE = EventSource("replicaset-controller")
_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def deletion_rank(pod: Mapping[str, Any]) -> tuple[Any, ...]:
    """Sort key: pods to delete first sort first (``controller.ActivePods``)."""
    status = pod.get("status", {})
    ready = get_condition(status.get("conditions"), "Ready")
    ready_since = (ready or {}).get("lastTransitionTime") or ""
    restarts = sum(int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or [])
    created = pod["metadata"].get("creationTimestamp", "")
    return (
        bool(pod.get("spec", {}).get("nodeName")),
        _PHASE_RANK.get(status.get("phase", "Pending"), 0),
        pod_ready(pod),
        _negated(ready_since),
        -restarts,
        _negated(created),
    )


def _negated(stamp: str) -> tuple[int, ...]:
    """Sorts later timestamps first."""
    return tuple(-ord(c) for c in stamp)


def pod_from_template(rs: Mapping[str, Any]) -> Obj:
    template = rs["spec"].get("template") or {}
    metadata = template.get("metadata") or {}
    pod_meta: Obj = {
        "generateName": f"{rs['metadata']['name']}-",
        "labels": copy.deepcopy(metadata.get("labels") or {}),
        "ownerReferences": [controller_reference(rs)],
    }
    for key in ("annotations", "finalizers"):
        if metadata.get(key):
            pod_meta[key] = copy.deepcopy(metadata[key])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": pod_meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


class ReplicaSetController:
    """Reconciles ReplicaSets on their own events and their pods' events."""

    def __init__(
        self,
        storage: Storage,
        registry: ResourceRegistry,
        timers: Timers,
        events: EventRecorder,
    ) -> None:
        self.storage = storage
        self.registry = registry
        self.events = events
        self.queue: WorkQueue[tuple[str, str]] = WorkQueue(timers, self.sync)

    def handle(self, event: StoreEvent) -> None:
        namespace = event.obj["metadata"].get("namespace", "")
        if event.key == _REPLICA_SETS:
            # At once: a scaled-down ReplicaSet marks its surplus pods before the
            # Deployment controller (queued) acts again, so a rollout never overshoots.
            self.sync((namespace, event.obj["metadata"]["name"]))
        elif event.key == _PODS:
            for obj in (event.obj, event.old):
                owner = controller_of(obj, "ReplicaSet") if obj else None
                if owner is not None:
                    self.queue.add((namespace, owner["name"]))

    def _type(self, group: str, plural: str) -> ResourceType:
        rt = self.registry.get(group, "v1", plural)
        assert rt is not None
        return rt

    def _pods_of(self, rs: Obj) -> list[Obj]:
        uid = rs["metadata"]["uid"]
        return [
            pod
            for pod in self.storage.store.objects(_PODS, rs["metadata"]["namespace"])
            if (controller_of(pod, "ReplicaSet") or {}).get("uid") == uid
        ]

    def _active(self, rs: Obj) -> list[Obj]:
        return [p for p in self._pods_of(rs) if not is_deleting(p) and not is_terminal(p)]

    def sync(self, key: tuple[str, str]) -> None:
        stored = self.storage.store.get(_REPLICA_SETS, *key)
        if stored is None:
            return
        rs = {**stored, "apiVersion": "apps/v1", "kind": "ReplicaSet"}
        active = self._active(rs)
        if not is_deleting(rs):
            diff = len(active) - int(rs.get("spec", {}).get("replicas", 1))
            if diff < 0:
                self._create(rs, -diff)
            elif diff > 0:
                self._delete(rs, sorted(active, key=deletion_rank)[:diff])
            active = self._active(rs)
        self._write_status(rs, active)

    def _create(self, rs: Obj, count: int) -> None:
        pods = self._type("", "pods")
        namespace = rs["metadata"]["namespace"]
        for _ in range(count):
            try:
                written = self.storage.create(pods, namespace, pod_from_template(rs), _OPTS)
            except ApiError as error:
                message = f"Error creating: {error.status.get('message', error)}"
                self.events.record(rs, WARNING, "FailedCreate", message, _SOURCE)
                return
            name = written.obj["metadata"]["name"]
            self.events.record(rs, NORMAL, "SuccessfulCreate", f"Created pod: {name}", _SOURCE)

    def _delete(self, rs: Obj, victims: list[Obj]) -> None:
        pods = self._type("", "pods")
        for pod in victims:
            metadata = pod["metadata"]
            try:
                delete_object(
                    self.storage,
                    pods,
                    metadata["namespace"],
                    metadata["name"],
                    DeleteOptions(uid=metadata["uid"]),
                )
            except ApiError as error:
                _LOG.debug("could not delete pod %s: %s", metadata["name"], error)
                continue
            message = f"Deleted pod: {metadata['name']}"
            self.events.record(rs, NORMAL, "SuccessfulDelete", message, _SOURCE)

    def _write_status(self, rs: Obj, active: list[Obj]) -> None:
        now = self.storage.clock()
        status = replica_set_status(rs, active, now)
        self._requeue_for_availability(rs, active, now)
        if status == rs.get("status"):
            return

        def mutate(current: Obj | None) -> Obj:
            assert current is not None
            current["status"] = status
            return current

        metadata = rs["metadata"]
        try:
            self.storage.modify(
                self._type("apps", "replicasets"),
                metadata["namespace"],
                metadata["name"],
                mutate,
                _OPTS,
                subresource="status",
            )
        except ApiError as error:
            _LOG.debug("could not update replicaset %s: %s", metadata["name"], error)

    def _requeue_for_availability(self, rs: Obj, active: list[Obj], now: datetime) -> None:
        min_ready = int(rs.get("spec", {}).get("minReadySeconds") or 0)
        if min_ready <= 0:
            return
        waits = []
        for pod in active:
            ready = get_condition(pod.get("status", {}).get("conditions"), "Ready")
            since = parse_time((ready or {}).get("lastTransitionTime"))
            if ready and ready.get("status") == "True" and since is not None:
                due = since + timedelta(seconds=min_ready)
                if due > now:
                    waits.append((due - now).total_seconds())
        if waits:
            key = (rs["metadata"]["namespace"], rs["metadata"]["name"])
            self.queue.add_after(min(waits) + 0.05, key)
