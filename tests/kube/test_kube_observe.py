"""Observing a cluster: selectors, events, and the snapshot the flow builds."""

from __future__ import annotations

from typing import Any

import pytest
from kube_flows import not_found, run_flow

from airflow_provider_flink_k8s.exceptions import KubernetesApiError
from airflow_provider_flink_k8s.kube import ApiRequest, cluster_label_selector, observe_flow
from airflow_provider_flink_k8s.kube.observe import (
    events_flow,
    logs_flow,
    split_deployments,
    workload_selector,
)
from airflow_provider_flink_k8s.manifests import cluster_selector, label_selector, render_manifests
from airflow_provider_flink_k8s.spec import load_cluster

CLUSTER = load_cluster({"name": "orders", "namespace": "streaming", "taskmanager": {"slots": 2}})


def _event(name: str, kind: str, reason: str = "R") -> dict[str, Any]:
    return {
        "involvedObject": {"kind": kind, "name": name},
        "reason": reason,
        "metadata": {"name": f"{name}.1"},
    }


def test_cluster_label_selector_is_the_manifests_selector() -> None:
    assert cluster_label_selector("orders") == label_selector(cluster_selector(CLUSTER))


def test_workload_selectors() -> None:
    assert workload_selector("orders", "standalone") == cluster_label_selector("orders")
    assert workload_selector("orders", "operator") == "app=orders,type=flink-native-kubernetes"


def test_split_deployments_by_component() -> None:
    jm, tm = (d for d in render_manifests(CLUSTER) if d["kind"] == "Deployment")
    assert split_deployments([tm, jm]) == (jm, tm)
    assert split_deployments([{"metadata": {"name": "x"}}]) == (None, None)


def test_events_are_read_only_about_pods_that_are_not_ready_by_field_selector() -> None:
    seen: list[ApiRequest] = []
    run_flow(observe_flow("orders", "streaming", target="standalone", log_lines=0), _server(seen))
    events = [r for r in seen if r.path.endswith("/events")]
    assert len(events) == 1  # the one pod, which is crash-looping
    selector = ("fieldSelector", "involvedObject.kind=Pod,involvedObject.name=orders-taskmanager-1")
    assert selector in events[0].query


def _pod(name: str, component: str, **status: Any) -> dict[str, Any]:
    labels = {"app.kubernetes.io/component": component}
    return {"metadata": {"name": name, "labels": labels}, "spec": {}, "status": status}


def _crashing_pod() -> dict[str, Any]:
    container = {
        "name": "flink-main-container",
        "restartCount": 3,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"reason": "Error", "exitCode": 1}},
    }
    return _pod(
        "orders-taskmanager-1", "taskmanager", phase="Running", containerStatuses=[container]
    )


def _server(requests_seen: list[ApiRequest], *, log: Any = b"boom\n") -> Any:
    deployments = [d for d in render_manifests(CLUSTER) if d["kind"] == "Deployment"]

    def answer(request: ApiRequest) -> Any:
        requests_seen.append(request)
        if request.path.endswith("/deployments"):
            return {"items": deployments}
        if request.path.endswith("/pods"):
            return {"items": [_crashing_pod()]}
        if request.path.endswith("/events"):
            # The server filters by the field selector; so does this stand-in.
            events = [_event("orders-taskmanager-1", "Pod", "BackOff"), _event("x", "Pod")]
            wanted = dict(request.query).get("fieldSelector", "")
            return {"items": [e for e in events if wanted.endswith(e["involvedObject"]["name"])]}
        if request.path.endswith("/log"):
            return log
        return not_found()

    return answer


def test_observe_standalone_builds_the_snapshot_with_log_tails() -> None:
    seen: list[ApiRequest] = []
    snapshot = run_flow(
        observe_flow("orders", "streaming", target="standalone"), _server(seen)
    ).result
    assert snapshot.name == "orders"
    assert snapshot.jobmanager.name == "orders-jobmanager"
    assert snapshot.taskmanager.name == "orders-taskmanager"
    assert [p.name for p in snapshot.pods] == ["orders-taskmanager-1"]
    assert [e.reason for e in snapshot.events] == ["BackOff"]
    assert snapshot.flink_deployment is None
    assert snapshot.log_tails == {"orders-taskmanager-1": "boom\n"}
    selector = ("labelSelector", cluster_label_selector("orders"))
    assert selector in seen[0].query and selector in seen[1].query
    log = seen[-1]
    assert log.path == "/api/v1/namespaces/streaming/pods/orders-taskmanager-1/log"
    assert dict(log.query) == {
        "container": "flink-main-container",
        "tailLines": "50",
        "previous": "true",
    }


def test_a_log_that_cannot_be_read_is_left_out() -> None:
    seen: list[ApiRequest] = []
    flow = observe_flow("orders", "streaming", target="standalone")
    refused = KubernetesApiError(400, "BadRequest", "previous terminated container not found")
    assert run_flow(flow, _server(seen, log=refused)).result.log_tails == {}


def test_no_logs_when_log_lines_is_zero() -> None:
    seen: list[ApiRequest] = []
    run_flow(observe_flow("orders", "streaming", target="standalone", log_lines=0), _server(seen))
    assert not any(r.path.endswith("/log") for r in seen)


@pytest.mark.parametrize("installed", [True, False])
def test_observe_operator_reads_the_flink_deployment(installed: bool) -> None:
    fd = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "orders", "generation": 1},
        "status": {"lifecycleState": "STABLE"},
    }

    def server(request: ApiRequest) -> Any:
        if "flinkdeployments" in request.path:
            return fd if installed else not_found()
        return {"items": []}

    run = run_flow(observe_flow("orders", "streaming", target="operator"), server)
    assert (run.result.flink_deployment is not None) is installed
    assert ("labelSelector", "app=orders,type=flink-native-kubernetes") in run.requests[0].query


def test_logs_and_events_flows() -> None:
    run = run_flow(logs_flow("p", "ns", tail_lines=None), lambda r: b"a\xffb")
    assert run.result == "a\ufffdb"
    assert run.requests[0].query == ()
    events = [
        {"lastTimestamp": "2026-01-01T00:00:02Z", "reason": "b"},
        {"eventTime": "2026-01-01T00:00:01.000000Z", "reason": "a"},
    ]
    run = run_flow(events_flow("ns", involved_object="p", kind="Pod"), lambda r: {"items": events})
    assert [e["reason"] for e in run.result] == ["a", "b"]
    assert run.requests[0].query == (
        ("fieldSelector", "involvedObject.name=p,involvedObject.kind=Pod"),
    )
