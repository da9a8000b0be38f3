"""The Deployment controller: ReplicaSets per template, rolling updates, status.

For each Deployment it finds the ReplicaSet whose template equals its own (ignoring
``pod-template-hash``), creating ``<name>-<hash>`` when there is none, then rolls:
``RollingUpdate`` grows the new ReplicaSet within ``maxSurge`` and shrinks old ones
within ``maxUnavailable`` (:mod:`.rollout`); ``Recreate`` scales old ones to zero and
waits for their pods to go first. Status and conditions follow :mod:`.status`, including
``ProgressDeadlineExceeded`` once ``progressDeadlineSeconds`` pass without progress (a
timer wakes the Deployment at its deadline). Paused Deployments are only scaled.
Events: ``ScalingReplicaSet`` from ``deployment-controller``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
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
    is_deleting,
    is_terminal,
    key_of,
)
from flink_k8s_sandbox.workloads.rollout import (
    annotate_replica_set,
    build_replica_set,
    new_replicas,
    old_replicas_after_scale_down,
    revision_of,
    spec_replicas,
)
from flink_k8s_sandbox.workloads.status import (
    REVISION,
    condition,
    deployment_complete,
    deployment_status,
    deployment_timed_out,
    equal_ignore_hash,
    get_condition,
    parse_time,
    rollout_progress,
    set_condition,
)

__all__ = ["DeploymentController"]

Obj = dict[str, Any]
_LOG = logging.getLogger(__name__)
_DEPLOYMENTS = ("apps", "deployments")
_REPLICA_SETS = ("apps", "replicasets")
_PODS = ("", "pods")
_OPTS = WriteOptions(field_manager="kube-controller-manager")
_SOURCE = EventSource("deployment-controller")


def _by_age(replica_sets: list[Obj]) -> list[Obj]:
    return sorted(
        replica_sets, key=lambda r: (r["metadata"].get("creationTimestamp", ""), key_of(r))
    )


class DeploymentController:
    """Reconciles Deployments on their events and their ReplicaSets' (and pods') events."""

    def __init__(
        self, storage: Storage, registry: ResourceRegistry, timers: Timers, events: EventRecorder
    ) -> None:
        self.storage = storage
        self.registry = registry
        self.events = events
        self.queue: WorkQueue[tuple[str, str]] = WorkQueue(timers, self.sync)

    def handle(self, event: StoreEvent) -> None:
        namespace = event.obj["metadata"].get("namespace", "")
        if event.key == _DEPLOYMENTS:
            self.queue.add(key_of(event.obj))
        elif event.key == _REPLICA_SETS:
            for obj in (event.obj, event.old):
                owner = controller_of(obj, "Deployment") if obj else None
                if owner is not None:
                    self.queue.add((namespace, owner["name"]))
        elif event.key == _PODS and event.type == "DELETED":
            rs_ref = controller_of(event.obj, "ReplicaSet")
            rs = (
                self.storage.store.get(_REPLICA_SETS, namespace, rs_ref["name"]) if rs_ref else None
            )
            owner = controller_of(rs, "Deployment") if rs else None
            if owner is not None:  # Recreate waits for old pods to be gone
                self.queue.add((namespace, owner["name"]))

    # -- reads ---------------------------------------------------------------------

    def _type(self, group: str, plural: str) -> ResourceType:
        rt = self.registry.get(group, "v1", plural)
        assert rt is not None
        return rt

    def _deployment(self, key: tuple[str, str]) -> Obj | None:
        stored = self.storage.store.get(_DEPLOYMENTS, *key)
        return None if stored is None else {**stored, "apiVersion": "apps/v1", "kind": "Deployment"}

    def _replica_sets(self, d: Obj) -> list[Obj]:
        uid = d["metadata"]["uid"]
        found = [
            {**rs, "apiVersion": "apps/v1", "kind": "ReplicaSet"}
            for rs in self.storage.store.objects(_REPLICA_SETS, d["metadata"]["namespace"])
            if (controller_of(rs, "Deployment") or {}).get("uid") == uid
        ]
        return _by_age(found)

    def _split(self, d: Obj) -> tuple[Obj | None, list[Obj]]:
        replica_sets = self._replica_sets(d)
        template = d["spec"].get("template") or {}
        new = next(
            (rs for rs in replica_sets if equal_ignore_hash(rs["spec"]["template"], template)),
            None,
        )
        return new, [rs for rs in replica_sets if rs is not new]

    # -- sync ----------------------------------------------------------------------

    def sync(self, key: tuple[str, str]) -> None:
        d = self._deployment(key)
        if d is None or is_deleting(d):
            return
        new_rs, old_rs = self._split(d)
        paused = bool(d["spec"].get("paused"))
        self._check_paused(d, paused)
        if new_rs is None and not paused and not self._recreate_waits(d, old_rs):
            new_rs = self._create_new(d, old_rs)
        elif new_rs is not None:
            self._syncrevision_of(d, new_rs, old_rs)
        if paused:
            active = [rs for rs in [new_rs, *old_rs] if rs is not None and spec_replicas(rs)]
            target = active[0] if len(active) == 1 else new_rs
            if target is not None:
                self._scale(d, target, int(d["spec"].get("replicas", 1)))
        elif new_rs is not None or old_rs:
            self._roll(d, new_rs, old_rs)
        self._sync_status(key)

    def _roll(self, d: Obj, new_rs: Obj | None, old_rs: list[Obj]) -> None:
        all_rs = [rs for rs in [*old_rs, new_rs] if rs is not None]
        strategy = (d["spec"].get("strategy") or {}).get("type", "RollingUpdate")
        if strategy == "Recreate":
            for rs in old_rs:
                if spec_replicas(rs):
                    self._scale(d, rs, 0)
            if new_rs is not None and not self._recreate_waits(d, old_rs):
                self._scale(d, new_rs, int(d["spec"].get("replicas", 1)))
        else:
            wanted = new_replicas(d, all_rs, new_rs)
            if new_rs is not None and wanted != spec_replicas(new_rs):
                self._scale(d, new_rs, wanted)
                return
            active_old = [rs for rs in old_rs if spec_replicas(rs)]
            sizes = old_replicas_after_scale_down(d, all_rs, active_old, new_rs)
            for rs in old_rs:
                if rs["metadata"]["name"] in sizes:
                    self._scale(d, rs, sizes[rs["metadata"]["name"]])
        fresh = self._deployment(key_of(d))
        if fresh is not None and deployment_complete(fresh, fresh.get("status") or {}):
            self._cleanup(fresh, old_rs)

    def _recreate_waits(self, d: Obj, old_rs: list[Obj]) -> bool:
        """Recreate: whether old ReplicaSets still have replicas or unfinished pods."""
        if (d["spec"].get("strategy") or {}).get("type") != "Recreate":
            return False
        if any(spec_replicas(rs) or rs.get("status", {}).get("replicas") for rs in old_rs):
            return True
        uids = {rs["metadata"]["uid"] for rs in old_rs}
        return any(
            (controller_of(pod, "ReplicaSet") or {}).get("uid") in uids and not is_terminal(pod)
            for pod in self.storage.store.objects(_PODS, d["metadata"]["namespace"])
        )

    # -- writes --------------------------------------------------------------------

    def _modify(
        self, rt: ResourceType, obj: Obj, edit: Callable[[Obj], None], sub: str | None = None
    ) -> Obj | None:
        def mutate(current: Obj | None) -> Obj:
            assert current is not None
            edit(current)
            return current

        namespace, name = key_of(obj)
        try:
            return self.storage.modify(rt, namespace, name, mutate, _OPTS, sub).obj
        except ApiError as error:
            _LOG.debug("could not update %s %s: %s", rt.kind, name, error)
            return None

    def _annotate(self, d: Obj, rs: Obj, revision: int | None) -> Callable[[Obj], None]:
        def edit(current: Obj) -> None:
            annotate_replica_set(d, current, revision)

        return edit

    def _create_new(self, d: Obj, old_rs: list[Obj]) -> Obj | None:
        revision = max((revision_of(rs) for rs in old_rs), default=0) + 1
        rs = build_replica_set(d, old_rs, revision)
        name = rs["metadata"]["name"]
        try:
            created = self.storage.create(
                self._type("apps", "replicasets"), d["metadata"]["namespace"], rs, _OPTS
            ).obj
        except ApiError as error:
            self._create_failed(d, name, error)
            return None
        if rs["spec"]["replicas"] > 0:
            message = f"Scaled up replica set {name} from 0 to {rs['spec']['replicas']}"
            self.events.record(d, NORMAL, "ScalingReplicaSet", message, _SOURCE)
        self._setrevision_of(d, revision)
        if d["spec"].get("progressDeadlineSeconds") is not None:
            created_condition = condition(
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                f'Created new replica set "{name}"',
                self.storage.clock(),
            )
            self._set_condition(d, created_condition)
        return {**created, "apiVersion": "apps/v1", "kind": "ReplicaSet"}

    def _create_failed(self, d: Obj, name: str, error: ApiError) -> None:
        existing = self.storage.store.get(_REPLICA_SETS, d["metadata"]["namespace"], name)
        if error.code == 409 and existing is not None:
            collisions = int((d.get("status") or {}).get("collisionCount") or 0) + 1
            self._modify(
                self._type("apps", "deployments"),
                d,
                lambda cur: cur.setdefault("status", {}).update(collisionCount=collisions),
                "status",
            )
            return
        message = f'Failed to create new replica set "{name}": {error.status.get("message")}'
        self.events.record(d, WARNING, "ReplicaSetCreateError", message, _SOURCE)
        if d["spec"].get("progressDeadlineSeconds") is not None:
            failed = condition(
                "Progressing", "False", "ReplicaSetCreateError", message, self.storage.clock()
            )
            self._set_condition(d, failed)

    def _setrevision_of(self, d: Obj, revision: int) -> None:
        if d["metadata"].get("annotations", {}).get(REVISION) == str(revision):
            return

        def edit(current: Obj) -> None:
            current["metadata"].setdefault("annotations", {})[REVISION] = str(revision)

        self._modify(self._type("apps", "deployments"), d, edit)

    def _set_condition(self, d: Obj, new: Obj) -> None:
        def edit(current: Obj) -> None:
            status = current.setdefault("status", {})
            status["conditions"] = set_condition(list(status.get("conditions") or []), new)

        self._modify(self._type("apps", "deployments"), d, edit, "status")

    def _check_paused(self, d: Obj, paused: bool) -> None:
        if d["spec"].get("progressDeadlineSeconds") is None:
            return
        current = get_condition((d.get("status") or {}).get("conditions"), "Progressing")
        now = self.storage.clock()
        if paused and (current or {}).get("reason") != "DeploymentPaused":
            new = condition(
                "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now
            )
        elif not paused and (current or {}).get("reason") == "DeploymentPaused":
            new = condition(
                "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", now
            )
        else:
            return
        self._set_condition(d, new)

    def _syncrevision_of(self, d: Obj, new_rs: Obj, old_rs: list[Obj]) -> None:
        revision = max((revision_of(rs) for rs in old_rs), default=0) + 1
        revision = max(revision, revision_of(new_rs))
        self._modify(self._type("apps", "replicasets"), new_rs, self._annotate(d, new_rs, revision))
        self._setrevision_of(d, revision)
        status = d.get("status") or {}
        if d["spec"].get("progressDeadlineSeconds") is not None and not get_condition(
            status.get("conditions"), "Progressing"
        ):
            message = f'Found new replica set "{new_rs["metadata"]["name"]}"'
            found = condition(
                "Progressing", "True", "FoundNewReplicaSet", message, self.storage.clock()
            )
            self._set_condition(d, found)

    def _scale(self, d: Obj, rs: Obj, replicas: int) -> None:
        before = spec_replicas(rs)
        annotate = self._annotate(d, rs, None)

        def edit(current: Obj) -> None:
            current["spec"]["replicas"] = replicas
            annotate(current)

        if self._modify(self._type("apps", "replicasets"), rs, edit) is None or before == replicas:
            return
        direction = "up" if replicas > before else "down"
        message = (
            f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {replicas}"
        )
        self.events.record(d, NORMAL, "ScalingReplicaSet", message, _SOURCE)

    def _cleanup(self, d: Obj, old_rs: list[Obj]) -> None:
        limit = d["spec"].get("revisionHistoryLimit")
        cleanable = sorted(
            (rs for rs in old_rs if not is_deleting(rs)),
            key=lambda rs: (revision_of(rs), key_of(rs)),
        )
        if limit is None or len(cleanable) <= int(limit):
            return
        rt = self._type("apps", "replicasets")
        for rs in cleanable[: len(cleanable) - int(limit)]:
            status = rs.get("status") or {}
            if status.get("replicas") or spec_replicas(rs):
                continue
            if rs["metadata"].get("generation", 1) > status.get("observedGeneration", 0):
                continue
            namespace, name = key_of(rs)
            try:
                delete_object(
                    self.storage, rt, namespace, name, DeleteOptions(uid=rs["metadata"]["uid"])
                )
            except ApiError as error:
                _LOG.debug("could not delete replica set %s: %s", name, error)

    def _sync_status(self, key: tuple[str, str]) -> None:
        d = self._deployment(key)
        if d is None:
            return
        new_rs, old_rs = self._split(d)
        all_rs = [rs for rs in [*old_rs, new_rs] if rs is not None]
        now = self.storage.clock()
        status = deployment_status(d, all_rs, new_rs, now)
        if not d["spec"].get("paused"):
            status = rollout_progress(d, status, new_rs, now)
        if status != (d.get("status") or {}):
            self._modify(
                self._type("apps", "deployments"),
                d,
                lambda cur: cur.update(status=status),
                "status",
            )
        self._requeue_at_deadline(d, status)

    def _requeue_at_deadline(self, d: Obj, status: Obj) -> None:
        deadline = d["spec"].get("progressDeadlineSeconds")
        if deadline is None or d["spec"].get("paused") or deployment_complete(d, status):
            return
        now = self.storage.clock()
        if deployment_timed_out(d, status, now):
            return
        progressing = get_condition(status.get("conditions"), "Progressing")
        since = parse_time((progressing or {}).get("lastUpdateTime"))
        if since is None:
            return
        due = since + timedelta(seconds=int(deadline))
        self.queue.add_after(max(0.0, (due - now).total_seconds()) + 0.05, key_of(d))
