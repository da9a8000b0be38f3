"""The Flink REST stand-in of simulated JobManager pods, driven by the sandbox's pods.

A rendered standalone session cluster on the ``simulated`` runtime: its REST Service
answers Flink's JSON through the API server's proxy, a TaskManager counts once its pod is
Ready (not before) and stops counting when its pod goes, and other images keep the plain
HTTP stub.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, utils
from workload_support import FAST, eventually

from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox import SandboxServer


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(timing=FAST) as server:
        yield server


@pytest.fixture(scope="module")
def api(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    kubeconfig = tmp_path_factory.mktemp("kube") / "config"
    sandbox.write_kubeconfig(kubeconfig)
    with config.new_client_from_config(str(kubeconfig)) as api_client:
        yield api_client


def _apply(api: Any, name: str, taskmanagers: int) -> None:
    spec = {"name": name, "mode": "session", "taskmanager": {"slots": 2, "replicas": taskmanagers}}
    for manifest in render_manifests(load_cluster(spec)):
        utils.create_from_dict(api, manifest, namespace="default")


def _get(sandbox: SandboxServer, name: str, path: str) -> tuple[int, Any]:
    url = f"{sandbox.url}/api/v1/namespaces/default/services/{name}-rest:rest/proxy{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _taskmanager_pods(api: Any, name: str) -> list[Any]:
    pods = client.CoreV1Api(api).list_namespaced_pod(
        "default", label_selector=f"app={name},component=taskmanager"
    )
    return [pod for pod in pods.items if pod.metadata.deletion_timestamp is None]


def _ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def test_a_taskmanager_registers_once_its_pod_is_ready_and_leaves_with_it(
    sandbox: SandboxServer, api: Any
) -> None:
    rule = sandbox.pod_faults.add("NeverReady", name="gated-taskmanager-*")
    _apply(api, "gated", taskmanagers=1)
    eventually(
        lambda: _get(sandbox, "gated", "/overview")[0] == 200,
        what="the stand-in answering /overview",
    )
    running = eventually(
        lambda: [p for p in _taskmanager_pods(api, "gated") if p.status.phase == "Running"],
        what="the TaskManager pod running",
    )
    assert not _ready(running[0])
    assert _get(sandbox, "gated", "/overview")[1]["taskmanagers"] == 0
    assert _get(sandbox, "gated", "/taskmanagers")[1] == {"taskmanagers": []}
    # Without the fault, the replacement pod turns Ready and its TaskManager registers.
    sandbox.pod_faults.remove(rule.id)
    client.CoreV1Api(api).delete_namespaced_pod(running[0].metadata.name, "default")
    eventually(
        lambda: _get(sandbox, "gated", "/overview")[1]["slots-total"] == 2,
        what="the new TaskManager registered",
    )
    ready = [p for p in _taskmanager_pods(api, "gated") if _ready(p)]
    (taskmanager,) = _get(sandbox, "gated", "/taskmanagers")[1]["taskmanagers"]
    assert taskmanager["id"].startswith(f"{ready[0].status.pod_ip}:6122-")
    assert taskmanager["slotsNumber"] == 2
    # Scaled to zero: the TaskManager is gone from the JobManager.
    client.AppsV1Api(api).patch_namespaced_deployment_scale(
        "gated-taskmanager", "default", {"spec": {"replicas": 0}}
    )
    eventually(
        lambda: _get(sandbox, "gated", "/overview")[1]["taskmanagers"] == 0,
        what="the TaskManager deregistered",
    )


def test_each_jobmanager_counts_only_its_own_taskmanagers(sandbox: SandboxServer, api: Any) -> None:
    _apply(api, "one", taskmanagers=1)
    _apply(api, "two", taskmanagers=2)
    eventually(lambda: _get(sandbox, "two", "/overview")[1].get("slots-total") == 4, what="two")
    eventually(lambda: _get(sandbox, "one", "/overview")[1].get("slots-total") == 2, what="one")
    status, config_answer = _get(sandbox, "one", "/config")
    assert status == 200 and config_answer["flink-version"] == "2.3"
    assert _get(sandbox, "one", "/no-such-path") == (
        404,
        {"errors": ["Unable to load requested file /no-such-path."]},
    )
    status, jobs = _get(sandbox, "one", "/v1/jobs/overview")
    assert (status, jobs) == (200, {"jobs": []})


def test_an_application_cluster_runs_its_job_from_the_start(
    sandbox: SandboxServer, api: Any
) -> None:
    spec = {
        "name": "app",
        "mode": "application",
        "job": {"jar_uri": "local:///opt/flink/usrlib/orders.jar", "entry_class": "demo.Orders"},
        "taskmanager": {"slots": 2, "replicas": 1},
    }
    for manifest in render_manifests(load_cluster(spec)):
        utils.create_from_dict(api, manifest, namespace="default")
    # Flink's fixed job id of a non-HA application cluster; parallelism.default from the spec.
    job_id = "0" * 32

    def running() -> Any:
        status, job = _get(sandbox, "app", f"/jobs/{job_id}")
        ok = status == 200 and all(v["status"] == "RUNNING" for v in job["vertices"])
        return ok and job["state"] == "RUNNING" and job

    job = eventually(running, what="the application's job RUNNING")
    assert job["vertices"][0]["name"] == "Source: demo.Orders"
