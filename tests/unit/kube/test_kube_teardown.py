"""Scaling and teardown flows."""

from __future__ import annotations

from typing import Any

import pytest
from kube_flows import not_found, run_flow

from airflow_provider_flink_k8s.exceptions import DeploymentTimeout, KubernetesApiError
from airflow_provider_flink_k8s.kube import ApiRequest, delete_flow, remaining_flow, scale_flow
from airflow_provider_flink_k8s.kube.teardown import TEARDOWN_KINDS
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


def test_remaining_names_what_is_left_with_its_finalizers_and_deletes_nothing() -> None:
    held = {"metadata": {"name": "d", "deletionTimestamp": "t", "finalizers": ["foreground"]}}
    cluster = _Cluster({"deployments": [held], "services": [_obj("s")]})
    run = run_flow(remaining_flow("orders", "ns"), cluster)
    assert run.result == ("Deployment/d (finalizers: foreground)", "Service/s")
    assert cluster.deletes == [] and all(r.method == "GET" for r in run.requests)
    assert run_flow(remaining_flow("orders", "ns"), _Cluster({})).result == ()
