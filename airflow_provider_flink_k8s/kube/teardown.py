"""Scale a cluster's TaskManagers, and delete a cluster by its labels.

:func:`scale_flow` writes the TaskManager Deployment's ``/scale`` subresource (standalone)
or the FlinkDeployment's ``spec.taskManager.replicas`` (operator), by JSON merge patch.

:func:`delete_flow` deletes every object carrying the cluster's labels, FlinkDeployment
first and RBAC last (the reverse of the apply order), with ``propagationPolicy:
Foreground``: an object stays, marked, until the garbage collector has removed its
dependents (ReplicaSets, pods), so "none left" means the pods are gone too. Waiting lists
again until nothing is left, deleting anything that appeared meanwhile; a cluster that is
already gone is a success. A deletion can be narrowed to what one task instance created
(``owner``: a failed deploy's cleanup), or -- a teardown -- to the owners its first pass
found (``first_owners_only``): a cluster claimed anew while the old one was going away is
its new owner's (see :mod:`airflow_provider_flink_k8s.observation.ownership`).

:func:`mark_deleting_flow` writes the teardown's record on the cluster's anchor first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.exceptions import (
    DeploymentTimeout,
    ResourceConflict,
    ResourceNotFound,
)
from airflow_provider_flink_k8s.kube.apply import plan_apply, resolve
from airflow_provider_flink_k8s.kube.observe import cluster_label_selector
from airflow_provider_flink_k8s.kube.requests import (
    Flow,
    Sleep,
    delete_request,
    fetch,
    fetch_or_none,
    get_request,
    list_items,
    list_request,
    merge_patch_request,
)
from airflow_provider_flink_k8s.kube.resources import (
    CONFIG_MAP,
    DEPLOYMENT,
    FLINK_DEPLOYMENT,
    ROLE,
    ROLE_BINDING,
    SERVICE,
    SERVICE_ACCOUNT,
    ResourceRef,
    ResourceTable,
)
from airflow_provider_flink_k8s.manifests import object_names
from airflow_provider_flink_k8s.observation.ownership import (
    TEARDOWN_ANNOTATION,
    deleted_by,
    deletion_targets,
    owner_of,
)
from airflow_provider_flink_k8s.targets import target_of

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.spec import FlinkCluster

__all__ = [
    "DeleteResult",
    "ObjectKey",
    "ScaleResult",
    "TEARDOWN_KINDS",
    "delete_flow",
    "mark_deleting_flow",
    "remaining_flow",
    "scale_flow",
]

TEARDOWN_KINDS: tuple[ResourceRef, ...] = (
    FLINK_DEPLOYMENT,
    DEPLOYMENT,
    SERVICE,
    CONFIG_MAP,
    ROLE_BINDING,
    ROLE,
    SERVICE_ACCOUNT,
)
"""What a cluster's labels can be on, in deletion order."""
_OPTIONAL_KINDS = frozenset({FLINK_DEPLOYMENT})  # served only once their CRD is installed
_FIRST_POLL, _LONGEST_POLL = 0.25, 2.0


@dataclass(frozen=True)
class ScaleResult:
    """A TaskManager scale: which object, and its replicas before and after."""

    kind: str
    namespace: str
    name: str
    previous: int | None
    replicas: int


def _replicas(obj: Mapping[str, Any], *path: str) -> int | None:
    node: Any = obj
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, int) else None


def scale_flow(cluster: FlinkCluster, replicas: int) -> Flow[ScaleResult]:
    """Set the cluster's TaskManager replicas (see the module's docstring).

    :raises ResourceNotFound: when the Deployment or FlinkDeployment does not exist.
    :raises KubernetesApiError: 422 for a negative count.
    """
    names, namespace = object_names(cluster), cluster.namespace
    path: tuple[str, ...]
    if not target_of(cluster).renders_workloads:  # the FlinkDeployment holds the count
        ref, name, path = FLINK_DEPLOYMENT, names.flink_deployment, ("spec", "taskManager")
        patch: dict[str, Any] = {"spec": {"taskManager": {"replicas": replicas}}}
        subresource = None
    else:
        ref, name, path = DEPLOYMENT, names.taskmanager, ("spec",)
        patch, subresource = {"spec": {"replicas": replicas}}, "scale"
    before = yield from fetch(get_request(ref, namespace, name, subresource))
    request = merge_patch_request(ref, namespace, name, patch, subresource=subresource)
    after = yield from fetch(request)
    written = _replicas(after, *path, "replicas")
    return ScaleResult(
        ref.kind,
        namespace,
        name,
        _replicas(before, *path, "replicas"),
        written if written is not None else replicas,
    )


@dataclass(frozen=True)
class ObjectKey:
    """One object, for results and messages."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class DeleteResult:
    """What a teardown deleted; empty when the cluster was already gone."""

    deleted: tuple[ObjectKey, ...]
    waited: bool

    @property
    def already_gone(self) -> bool:
        """Whether nothing was left to delete."""
        return not self.deleted


def _list_cluster(
    namespace: str, selector: str
) -> Flow[list[tuple[ResourceRef, Mapping[str, Any]]]]:
    found: list[tuple[ResourceRef, Mapping[str, Any]]] = []
    for ref in TEARDOWN_KINDS:
        request = list_request(ref, namespace, label_selector=selector)
        items = yield from list_items(request, missing_ok=ref in _OPTIONAL_KINDS)
        found.extend((ref, item) for item in items)
    return found


def _key(ref: ResourceRef, namespace: str, obj: Mapping[str, Any]) -> ObjectKey:
    return ObjectKey(ref.kind, namespace, str((obj.get("metadata") or {}).get("name") or ""))


def _deleting(obj: Mapping[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def _is(ref: ResourceRef, obj: Mapping[str, Any], which: tuple[str, str] | None) -> bool:
    return which == (ref.kind, (obj.get("metadata") or {}).get("name"))


def _describe(ref: ResourceRef, obj: Mapping[str, Any]) -> str:
    finalizers = (obj.get("metadata") or {}).get("finalizers") or []
    held = f" (finalizers: {', '.join(map(str, finalizers))})" if finalizers else ""
    return f"{ref.kind}/{(obj.get('metadata') or {}).get('name')}{held}"


def remaining_flow(cluster_name: str, namespace: str) -> Flow[tuple[str, ...]]:
    """What is left of the cluster's objects (``Kind/name``, with the finalizers holding
    each): what a deletion wait decides on. With Foreground deletion a Deployment stays
    until its pods are gone, so nothing left means no pod is left either."""
    found = yield from _list_cluster(namespace, cluster_label_selector(cluster_name))
    return tuple(_describe(ref, obj) for ref, obj in found)


def delete_flow(
    cluster_name: str,
    namespace: str,
    *,
    wait: bool = True,
    timeout: float = 300.0,
    clock: Callable[[], float],
    owner: str | None = None,
    first_owners_only: bool = False,
    last: tuple[str, str] | None = None,
) -> Flow[DeleteResult]:
    """Delete the cluster's objects (see the module's docstring).

    :param wait: list again until none is left.
    :param timeout: seconds to wait for that.
    :param clock: a monotonic clock (seconds).
    :param owner: delete (and wait for) only objects recording this task instance.
    :param first_owners_only: after the first pass, delete (and wait for) only objects
        recording an owner that pass found.
    :param last: the ``(kind, name)`` of an object to delete only once every other one
        is gone (the cluster's anchor, which carries the teardown's record meanwhile;
        without ``wait`` it stays while others exist).
    :raises DeploymentTimeout: when objects are left after ``timeout`` (a finalizer no
        controller removes, typically: the message names them).
    """
    selector = cluster_label_selector(cluster_name)
    deadline, poll = clock() + timeout, _FIRST_POLL
    deleted: dict[ObjectKey, None] = {}
    owners: frozenset[str | None] | None = None
    while True:
        listed = yield from _list_cluster(namespace, selector)
        chosen = deletion_targets([obj for _, obj in listed], owner=owner, owners=owners)
        found = [listed[index] for index in chosen]
        if first_owners_only and owners is None:
            owners = frozenset(owner_of(obj) for _, obj in found)
        others = [(ref, obj) for ref, obj in found if not _is(ref, obj, last)]
        for ref, obj in others or found:
            if _deleting(obj):
                continue
            key = _key(ref, namespace, obj)
            try:
                yield delete_request(ref, namespace, key.name, propagation="Foreground")
            except ResourceNotFound:
                continue
            deleted[key] = None
        if not found or not wait:
            return DeleteResult(tuple(deleted), waited=wait)
        if clock() >= deadline:
            left = ", ".join(_describe(ref, obj) for ref, obj in found)
            message = (
                f"cluster {cluster_name}: {len(found)} object(s) left after {timeout:g}s: {left}"
            )
            raise DeploymentTimeout(message, reason="Deleting", waited_seconds=timeout)
        yield Sleep(poll)
        poll = min(poll * 2, _LONGEST_POLL)


def mark_deleting_flow(
    anchor: Mapping[str, Any],
    deleter: str,
    *,
    table: ResourceTable,
    record: Mapping[str, str] | None = None,
) -> Flow[dict[str, Any] | None]:
    """Write ``deleter`` (a teardown's task instance) as :data:`TEARDOWN_ANNOTATION` on
    the cluster's ``anchor`` (its rendered manifest) -- with the live object's
    ``resourceVersion`` as a precondition, so the record lands on the object just read
    and on no newer one; read again and retry on a conflict.

    :param record: more annotations to write in the same request (what the teardown
        did before deleting: its final savepoint); none is written when the anchor is
        already marked.

    :return: the anchor as marked (as it is when already being deleted or marked),
        ``None`` when it does not exist.
    """
    yield from resolve(table, anchor["apiVersion"], anchor["kind"])
    (target,) = plan_apply([anchor], table, None)
    ref, namespace, name = target.ref, target.namespace, target.name
    while True:
        live = yield from fetch_or_none(get_request(ref, namespace, name))
        metadata = (live or {}).get("metadata") or {}
        if live is None or metadata.get("deletionTimestamp") or deleted_by(live):
            return live
        patch = {
            "metadata": {
                "resourceVersion": metadata.get("resourceVersion"),
                "annotations": {**(record or {}), TEARDOWN_ANNOTATION: deleter},
            }
        }
        try:
            return (yield from fetch(merge_patch_request(ref, namespace, name, patch)))
        except ResourceNotFound:
            return None
        except ResourceConflict:
            continue
