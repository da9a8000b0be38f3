"""Deletion: finalizers, DELETE answers, garbage collection by ownerReferences, namespaces.

Garbage collection runs after the DELETE is answered, as kube-controller-manager's does,
so the tests wait for its effects; the order of removals is read from the watch
history (resourceVersions are cluster-wide, so DELETED events of different types compare).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes import client, watch

SANDBOX_WORKLOADS = False  # hand-made Deployment chains and pods; no controllers act on them

Status = Callable[..., dict[str, Any]]


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def _gone(read: Callable[..., Any], *args: Any) -> bool:
    try:
        read(*args)
    except client.ApiException as error:
        return error.status == 404
    return False


def _owner_ref(owner: Any, kind: str, api_version: str, block: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": owner.metadata.name,
        "uid": owner.metadata.uid,
        "controller": True,
        "blockOwnerDeletion": block,
    }


def _chain(apps: client.AppsV1Api, core: client.CoreV1Api, namespace: str) -> tuple[Any, Any, Any]:
    """A Deployment owning a ReplicaSet owning a Pod (what the controllers will make)."""
    labels = {"app": "web"}
    template = {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "main", "image": "nginx:1.25"}]},
    }
    spec = {"replicas": 1, "selector": {"matchLabels": labels}, "template": template}
    deployment = apps.create_namespaced_deployment(
        namespace, {"metadata": {"name": "web"}, "spec": spec}
    )
    rs_meta = {
        "name": "web-abc",
        "ownerReferences": [_owner_ref(deployment, "Deployment", "apps/v1")],
    }
    replica_set = apps.create_namespaced_replica_set(namespace, {"metadata": rs_meta, "spec": spec})
    pod_meta = {
        "name": "web-abc-xyz12",
        "labels": labels,
        "ownerReferences": [_owner_ref(replica_set, "ReplicaSet", "apps/v1")],
    }
    pod = core.create_namespaced_pod(namespace, {"metadata": pod_meta, "spec": template["spec"]})
    return deployment, replica_set, pod


def _delete(api: client.ApiClient, path: str, policy: str | None = None) -> dict[str, Any]:
    """DELETE through the client's transport; the answer as JSON (object or Status)."""
    body = {"kind": "DeleteOptions", "apiVersion": "v1"}
    if policy:
        body["propagationPolicy"] = policy
    answer: dict[str, Any] = api.call_api(
        path,
        "DELETE",
        body=body,
        header_params={"Content-Type": "application/json"},
        response_types_map={200: "object", 202: "object"},
        _return_http_data_only=True,
    )
    return answer


def _deleted_versions(
    listers: list[Callable[..., Any]], namespace: str, start: str
) -> dict[str, int]:
    """The resourceVersion of each DELETED event since ``start``, by object name.

    One watch per type, replayed from history in parallel (each ends after 1 s).
    """

    def deleted(lister: Callable[..., Any]) -> dict[str, int]:
        stream = watch.Watch().stream(lister, namespace, resource_version=start, timeout_seconds=1)
        return {
            e["object"].metadata.name: int(e["object"].metadata.resource_version)
            for e in stream
            if e["type"] == "DELETED"
        }

    found: dict[str, int] = {}
    with ThreadPoolExecutor(len(listers)) as pool:
        for result in pool.map(deleted, listers):
            found.update(result)
    return found


def test_finalizers_hold_deletion(
    core: client.CoreV1Api, namespace: str, fail_status: Status
) -> None:
    body = {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}
    created = core.create_namespaced_config_map(namespace, body)
    answer = _delete(core.api_client, f"/api/v1/namespaces/{namespace}/configmaps/held")
    assert answer["kind"] == "ConfigMap"  # still there: the object, not a Status
    marked = core.read_namespaced_config_map("held", namespace)
    assert marked.metadata.deletion_timestamp is not None
    assert marked.metadata.deletion_grace_period_seconds == 0
    assert int(marked.metadata.resource_version) > int(created.metadata.resource_version)
    status = fail_status(
        core.patch_namespaced_config_map,
        "held",
        namespace,
        {"metadata": {"finalizers": ["example.com/hold", "example.com/more"]}},
    )
    assert status["message"] == (
        'ConfigMap "held" is invalid: metadata.finalizers: Forbidden: no new finalizers can be '
        'added if the object is being deleted, found new finalizers []string{"example.com/more"}'
    )
    core.patch_namespaced_config_map(
        "held", namespace, [{"op": "remove", "path": "/metadata/finalizers"}]
    )
    assert _gone(core.read_namespaced_config_map, "held", namespace)
    events = watch.Watch().stream(
        core.list_namespaced_config_map,
        namespace,
        resource_version=created.metadata.resource_version,
        timeout_seconds=1,
    )
    assert [e["type"] for e in events] == ["MODIFIED", "DELETED"]


def test_delete_answers(core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    status = core.delete_namespaced_config_map("cm", namespace)
    assert (status.kind, status.status, status.details.name, status.details.kind) == (
        "Status",
        "Success",
        "cm",
        "configmaps",
    )
    pod_spec = {"containers": [{"name": "main", "image": "busybox"}]}
    core.create_namespaced_pod(namespace, {"metadata": {"name": "p"}, "spec": pod_spec})
    deleted = _delete(core.api_client, f"/api/v1/namespaces/{namespace}/pods/p")
    assert deleted["kind"] == "Pod" and deleted["metadata"]["name"] == "p"


def test_delete_preconditions(core: client.CoreV1Api, namespace: str, fail_status: Status) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    status = fail_status(
        core.delete_namespaced_config_map,
        "cm",
        namespace,
        body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="not-it")),
    )
    assert status["reason"] == "Conflict"
    assert status["message"].startswith(
        'Operation cannot be fulfilled on configmaps "cm": Precondition failed: '
        "UID in precondition: not-it, UID in object meta: "
    )


def test_background_deletion_collects_dependents(
    apps: client.AppsV1Api, core: client.CoreV1Api, namespace: str
) -> None:
    start = str(core.list_namespaced_pod(namespace).metadata.resource_version)
    _chain(apps, core, namespace)
    apps.delete_namespaced_deployment("web", namespace, propagation_policy="Background")
    assert _gone(apps.read_namespaced_deployment, "web", namespace)  # the owner goes at once
    _eventually(lambda: _gone(core.read_namespaced_pod, "web-abc-xyz12", namespace))
    listers = [
        apps.list_namespaced_deployment,
        apps.list_namespaced_replica_set,
        core.list_namespaced_pod,
    ]
    deleted = _deleted_versions(listers, namespace, start)
    assert deleted["web"] < deleted["web-abc"] < deleted["web-abc-xyz12"]


def test_foreground_deletion_removes_dependents_first(
    apps: client.AppsV1Api, core: client.CoreV1Api, namespace: str
) -> None:
    start = str(core.list_namespaced_pod(namespace).metadata.resource_version)
    _chain(apps, core, namespace)
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"
    answer = _delete(apps.api_client, path, "Foreground")
    assert answer["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert answer["metadata"]["deletionTimestamp"]
    _eventually(lambda: _gone(apps.read_namespaced_deployment, "web", namespace))
    listers = [
        apps.list_namespaced_deployment,
        apps.list_namespaced_replica_set,
        core.list_namespaced_pod,
    ]
    deleted = _deleted_versions(listers, namespace, start)
    assert deleted["web-abc-xyz12"] < deleted["web-abc"] < deleted["web"]


def test_orphan_deletion_keeps_dependents(
    apps: client.AppsV1Api, core: client.CoreV1Api, namespace: str
) -> None:
    _chain(apps, core, namespace)
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"
    answer = _delete(apps.api_client, path, "Orphan")
    assert answer["metadata"]["finalizers"] == ["orphan"]
    _eventually(lambda: _gone(apps.read_namespaced_deployment, "web", namespace))
    orphan = apps.read_namespaced_replica_set("web-abc", namespace)
    assert orphan.metadata.owner_references is None
    assert core.read_namespaced_pod("web-abc-xyz12", namespace).metadata.owner_references


def test_dangling_dependents_are_collected(core: client.CoreV1Api, namespace: str) -> None:
    ref = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "gone",
        "uid": "00000000-0000-0000-0000-000000000000",
    }
    body = {
        "metadata": {"name": "stray", "ownerReferences": [ref]},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    }
    core.create_namespaced_pod(namespace, body)
    _eventually(lambda: _gone(core.read_namespaced_pod, "stray", namespace))


def test_delete_collection_by_label(core: client.CoreV1Api, namespace: str) -> None:
    for name, team in (("a", "x"), ("b", "x"), ("c", "y")):
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": name, "labels": {"team": team}}}
        )
    core.delete_collection_namespaced_config_map(namespace, label_selector="team=x")
    assert [c.metadata.name for c in core.list_namespaced_config_map(namespace).items] == ["c"]


def test_namespace_terminates_then_goes(
    core: client.CoreV1Api, apps: client.AppsV1Api, fail_status: Status
) -> None:
    core.create_namespace({"metadata": {"name": "doomed"}})
    core.create_namespaced_config_map("doomed", {"metadata": {"name": "cm", "finalizers": ["x/y"]}})
    _chain(apps, core, "doomed")
    answer = _delete(core.api_client, "/api/v1/namespaces/doomed")
    assert answer["status"] == {"phase": "Terminating"}
    assert answer["spec"] == {"finalizers": ["kubernetes"]}
    status = fail_status(
        core.create_namespaced_config_map, "doomed", {"metadata": {"name": "late"}}
    )
    assert status["code"] == 403
    assert status["message"] == (
        'configmaps "late" is forbidden: unable to create new content in namespace doomed '
        "because it is being terminated"
    )
    assert status["details"]["causes"] == [
        {
            "reason": "NamespaceTerminating",
            "message": "namespace doomed is being terminated",
            "field": "metadata.namespace",
        }
    ]
    _eventually(lambda: not apps.list_namespaced_deployment("doomed").items)
    assert core.read_namespace("doomed").status.phase == "Terminating"  # the finalizer holds it
    core.patch_namespaced_config_map(
        "cm", "doomed", [{"op": "remove", "path": "/metadata/finalizers"}]
    )
    _eventually(lambda: _gone(core.read_namespace, "doomed"))
