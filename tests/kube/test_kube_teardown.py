"""Scaling and teardown flows."""

from __future__ import annotations

from typing import Any

import pytest
from kube_flows import not_found, run_flow

from airflow_provider_flink_k8s.exceptions import (
    DeploymentTimeout,
    KubernetesApiError,
    ResourceConflict,
)
from airflow_provider_flink_k8s.kube import (
    ApiRequest,
    ResourceTable,
    delete_flow,
    remaining_flow,
    scale_flow,
)
from airflow_provider_flink_k8s.kube.teardown import TEARDOWN_KINDS, mark_deleting_flow
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation.ownership import (
    OWNER_ANNOTATION,
    TEARDOWN_ANNOTATION,
)
from airflow_provider_flink_k8s.spec import load_cluster

STANDALONE = load_cluster({"name": "orders", "namespace": "streaming", "taskmanager": {"slots": 2}})
OPERATOR = load_cluster(
    {"name": "orders", "namespace": "streaming", "target": "operator", "taskmanager": {"slots": 2}}
)


def test_scale_standalone_patches_the_scale_subresource() -> None:
    def server(request: ApiRequest) -> Any:
        if request.method == "GET":
            return {"kind": "Scale", "spec": {"replicas": 2}}
        return {"kind": "Scale", "spec": request.body["spec"]}

    run = run_flow(scale_flow(STANDALONE, 4), server)
    assert (run.result.kind, run.result.name, run.result.previous, run.result.replicas) == (
        "Deployment",
        "orders-taskmanager",
        2,
        4,
    )
    patch = run.requests[1]
    assert patch.path == "/apis/apps/v1/namespaces/streaming/deployments/orders-taskmanager/scale"
    assert (patch.content_type, patch.body) == (
        "application/merge-patch+json",
        {"spec": {"replicas": 4}},
    )


def test_scale_operator_merge_patches_the_flink_deployment() -> None:
    def server(request: ApiRequest) -> Any:
        replicas = 1 if request.method == "GET" else 3
        return {"spec": {"taskManager": {"replicas": replicas}}}

    run = run_flow(scale_flow(OPERATOR, 3), server)
    assert (run.result.kind, run.result.previous, run.result.replicas) == ("FlinkDeployment", 1, 3)
    patch = run.requests[1]
    assert patch.path.endswith("/flinkdeployments/orders")
    assert patch.body == {"spec": {"taskManager": {"replicas": 3}}}


class _Cluster:
    """A fake namespace: objects by kind; a delete marks (Foreground) or removes."""

    def __init__(self, objects: dict[str, list[dict[str, Any]]], *, sticky: bool = False) -> None:
        self.objects = objects
        self.sticky = sticky
        self.deletes: list[str] = []

    def __call__(self, request: ApiRequest) -> Any:
        plural = request.path.split("/")[-1 if request.method == "GET" else -2]
        if request.method == "GET":
            if plural == "flinkdeployments" and plural not in self.objects:
                return not_found()
            return {"items": self.objects.get(plural, [])}
        name = request.path.rsplit("/", 1)[1]
        assert request.body["propagationPolicy"] == "Foreground"
        self.deletes.append(f"{plural}/{name}")
        items = self.objects.get(plural, [])
        for item in list(items):
            if item["metadata"]["name"] == name:
                if self.sticky:
                    item["metadata"].update(deletionTimestamp="t", finalizers=["keep"])
                else:
                    items.remove(item)
        return {"kind": "Status", "status": "Success"}


def _obj(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}}


def test_delete_lists_every_kind_and_deletes_in_order() -> None:
    cluster = _Cluster(
        {"deployments": [_obj("d")], "configmaps": [_obj("c")], "roles": [_obj("r")]}
    )
    run = run_flow(delete_flow("orders", "ns", clock=lambda: 0.0), cluster)
    assert cluster.deletes == ["deployments/d", "configmaps/c", "roles/r"]
    assert [str(k) for k in run.result.deleted] == ["Deployment/d", "ConfigMap/c", "Role/r"]
    assert not run.result.already_gone
    lists = [r for r in run.requests if r.method == "GET"]
    assert len(lists) == 2 * len(TEARDOWN_KINDS)
    assert (
        "labelSelector",
        "app.kubernetes.io/instance=orders,app.kubernetes.io/managed-by=airflow-provider-flink-k8s",
    ) in lists[0].query


def test_delete_of_a_gone_cluster_succeeds() -> None:
    run = run_flow(delete_flow("orders", "ns", clock=lambda: 0.0), _Cluster({}))
    assert run.result.already_gone and run.sleeps == []


def test_delete_tolerates_objects_vanishing_meanwhile() -> None:
    cluster = _Cluster({"services": [_obj("s")]})

    def server(request: ApiRequest) -> Any:
        return not_found() if request.method == "DELETE" else cluster(request)

    run = run_flow(delete_flow("orders", "ns", wait=False, clock=lambda: 0.0), server)
    assert run.result.deleted == ()


def test_without_wait_it_deletes_once() -> None:
    cluster = _Cluster({"deployments": [_obj("d")]}, sticky=True)
    run = run_flow(delete_flow("orders", "ns", wait=False, clock=lambda: 0.0), cluster)
    assert [str(k) for k in run.result.deleted] == ["Deployment/d"] and not run.result.waited


def test_waiting_times_out_naming_what_is_left() -> None:
    cluster = _Cluster({"flinkdeployments": [_obj("orders")]}, sticky=True)
    now = iter([0.0, 1.0, 2.0, 3.0, 30.0])
    with pytest.raises(DeploymentTimeout) as caught:
        run_flow(delete_flow("orders", "ns", timeout=10, clock=lambda: next(now)), cluster)
    assert str(caught.value) == (
        "cluster orders: 1 object(s) left after 10s: FlinkDeployment/orders (finalizers: keep)"
    )
    assert caught.value.reason == "Deleting"
    assert cluster.deletes == ["flinkdeployments/orders"]


def test_waiting_backs_off_and_redeletes_newcomers() -> None:
    cluster = _Cluster({"deployments": [_obj("d")]}, sticky=True)
    state = {"polls": 0}

    def server(request: ApiRequest) -> Any:
        answer = cluster(request)
        if request.method == "GET" and request.path.endswith("/deployments"):
            state["polls"] += 1
            if state["polls"] == 3:
                cluster.objects["deployments"] = [_obj("d2")]
            if state["polls"] == 5:
                cluster.objects["deployments"] = []
            answer = {"items": cluster.objects.get("deployments", [])}
        return answer

    run = run_flow(delete_flow("orders", "ns", clock=lambda: 0.0), server)
    assert cluster.deletes == ["deployments/d", "deployments/d2"]
    assert run.sleeps == [0.25, 0.5, 1.0, 2.0]


def test_other_errors_propagate() -> None:
    def server(request: ApiRequest) -> Any:
        return KubernetesApiError(403, "Forbidden", "no")

    with pytest.raises(KubernetesApiError, match="403 Forbidden"):
        run_flow(delete_flow("orders", "ns", clock=lambda: 0.0), server)


def _owned(name: str, owner: str | None) -> dict[str, Any]:
    annotations = {OWNER_ANNOTATION: owner} if owner else {}
    return {"metadata": {"name": name, "annotations": annotations}}


def test_a_cleanup_deletes_and_waits_for_only_what_its_task_instance_created() -> None:
    cluster = _Cluster(
        {"deployments": [_owned("mine", "me"), _owned("theirs", "them")], "services": [_obj("s")]}
    )
    run = run_flow(delete_flow("orders", "ns", clock=lambda: 0.0, owner="me"), cluster)
    assert cluster.deletes == ["deployments/mine"]
    assert [str(k) for k in run.result.deleted] == ["Deployment/mine"]
    assert [o["metadata"]["name"] for o in cluster.objects["deployments"]] == ["theirs"]


def test_a_teardown_leaves_a_cluster_claimed_anew_after_its_first_pass() -> None:
    cluster = _Cluster({"deployments": [_owned("d", "old")]}, sticky=True)
    state = {"polls": 0}

    def server(request: ApiRequest) -> Any:
        answer = cluster(request)
        if request.method == "GET" and request.path.endswith("/configmaps"):
            state["polls"] += 1
            if state["polls"] == 2:  # a deploy claims the cluster anew meanwhile
                cluster.objects["configmaps"] = [_owned("c", "new")]
            if state["polls"] == 3:  # the old Deployment is gone
                cluster.objects["deployments"] = []
            answer = {"items": cluster.objects.get("configmaps", [])}
        return answer

    flow = delete_flow("orders", "ns", clock=lambda: 0.0, first_owners_only=True)
    run = run_flow(flow, server)
    assert cluster.deletes == ["deployments/d"]
    assert [str(k) for k in run.result.deleted] == ["Deployment/d"]
    assert cluster.objects["configmaps"] == [_owned("c", "new")]


ANCHOR = render_manifests(STANDALONE)[0]
CONFIG_MAP_PATH = "/api/v1/namespaces/streaming/configmaps/orders-config"


def _live(version: str, **annotations: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "orders-config",
            "resourceVersion": version,
            "annotations": annotations,
        }
    }


def test_a_teardown_marks_the_anchor_with_a_resource_version_precondition() -> None:
    answers: list[Any] = [
        _live("1"),
        ResourceConflict(409, "Conflict", "the object has been modified"),
        _live("2"),
        _live("3", **{TEARDOWN_ANNOTATION: "dag/teardown/run/-1"}),
    ]
    run = run_flow(
        mark_deleting_flow(ANCHOR, "dag/teardown/run/-1", table=ResourceTable()),
        lambda request: answers.pop(0),
    )
    assert ANCHOR["kind"] == "ConfigMap"
    assert [(r.method, r.path) for r in run.requests] == [
        ("GET", CONFIG_MAP_PATH),
        ("PATCH", CONFIG_MAP_PATH),
        ("GET", CONFIG_MAP_PATH),
        ("PATCH", CONFIG_MAP_PATH),
    ]
    first, second = run.requests[1].body, run.requests[3].body
    assert first["metadata"]["resourceVersion"] == "1"
    assert second["metadata"] == {
        "resourceVersion": "2",
        "annotations": {TEARDOWN_ANNOTATION: "dag/teardown/run/-1"},
    }
    assert run.result["metadata"]["resourceVersion"] == "3"


def test_the_mark_carries_the_teardowns_record_in_the_same_write() -> None:
    answers: list[Any] = [_live("1"), _live("2")]
    record = {"airflow-provider-flink-k8s/final-savepoint": '"file:/sp/x"'}
    run = run_flow(
        mark_deleting_flow(ANCHOR, "dag/teardown/run/-1", table=ResourceTable(), record=record),
        lambda request: answers.pop(0),
    )
    assert [r.method for r in run.requests] == ["GET", "PATCH"]
    assert run.requests[1].body["metadata"]["annotations"] == {
        **record,
        TEARDOWN_ANNOTATION: "dag/teardown/run/-1",
    }


@pytest.mark.parametrize(
    "live",
    [
        None,
        _live("1", **{TEARDOWN_ANNOTATION: "another/teardown/run/-1"}),
        {"metadata": {"name": "orders-config", "deletionTimestamp": "t"}},
    ],
)
def test_an_anchor_gone_or_already_going_is_not_marked(live: dict[str, Any] | None) -> None:
    run = run_flow(
        mark_deleting_flow(ANCHOR, "dag/teardown/run/-1", table=ResourceTable()),
        lambda request: not_found() if live is None else live,
    )
    assert [r.method for r in run.requests] == ["GET"]
    assert run.result == live


def test_an_anchor_deleted_before_the_mark_lands_is_gone() -> None:
    answers: list[Any] = [_live("1"), not_found()]
    run = run_flow(
        mark_deleting_flow(ANCHOR, "dag/teardown/run/-1", table=ResourceTable()),
        lambda request: answers.pop(0),
    )
    assert run.result is None


def test_the_anchor_is_deleted_last_once_everything_else_is_gone() -> None:
    cluster = _Cluster(
        {"deployments": [_obj("d")], "configmaps": [_obj("orders-config")]}, sticky=True
    )
    state = {"polls": 0}

    def server(request: ApiRequest) -> Any:
        answer = cluster(request)
        if request.method == "GET" and request.path.endswith("/deployments"):
            state["polls"] += 1
            if state["polls"] == 3:  # the Deployment's pods are gone: so is it
                cluster.objects["deployments"] = []
            if state["polls"] == 5:
                cluster.objects["configmaps"] = []
            answer = {"items": cluster.objects.get("deployments", [])}
        return answer

    flow = delete_flow("orders", "ns", clock=lambda: 0.0, last=("ConfigMap", "orders-config"))
    run = run_flow(flow, server)
    assert cluster.deletes == ["deployments/d", "configmaps/orders-config"]
    deletes = [r.method for r in run.requests if r.method == "DELETE"]
    assert len(deletes) == 2


def test_remaining_names_what_is_left_with_its_finalizers_and_deletes_nothing() -> None:
    held = {"metadata": {"name": "d", "deletionTimestamp": "t", "finalizers": ["foreground"]}}
    cluster = _Cluster({"deployments": [held], "services": [_obj("s")]})
    run = run_flow(remaining_flow("orders", "ns"), cluster)
    assert run.result == ("Deployment/d (finalizers: foreground)", "Service/s")
    assert cluster.deletes == [] and all(r.method == "GET" for r in run.requests)
    assert run_flow(remaining_flow("orders", "ns"), _Cluster({})).result == ()
