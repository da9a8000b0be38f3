"""The sandbox's ``local`` runtime: a session cluster from our manifests runs as real Flink.

One in-process sandbox (``LocalRuntime``, probes 10x faster, 1 s back-off) serves the
module. The cluster is applied with :class:`FlinkKubernetesHook`, Flink is read through
the API server's Service proxy with :class:`FlinkRestHook`, TaskManagers are scaled and
killed through Kubernetes, an application cluster runs the SQL runner from the pods'
``/opt/flink/usrlib`` (the runtime's ``usrlib`` setting), and the last test deletes the
session cluster and checks that no process is left. The tests run in file order and share
the session cluster.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flink_support import proxy_rest_hook
from kubernetes import client, config
from polling import wait_until

from airflow_provider_flink_k8s.exceptions import FlinkK8sError
from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.spec import FlinkCluster, load_cluster
from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.clock import Timing
from flink_k8s_sandbox.flink import (
    SQL_RUNNER_CLASS,
    SQL_RUNNER_JAR,
    live_processes,
    stage_usrlib,
)
from flink_k8s_sandbox.runtime.local import LocalRuntime

NAMESPACE = "streaming"
SPEC = {
    "name": "demo",
    "namespace": NAMESPACE,
    "mode": "session",
    "target": "standalone",
    "jobmanager": {"memory": "1024m", "cpu": 0.5},
    "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2, "replicas": 1},
    "flink_configuration": {"heartbeat.interval": "1000", "heartbeat.timeout": "5000"},
}
TIMING = Timing(probe_scale=0.1, backoff_base=1.0, backoff_max=5.0)


@dataclass
class Cluster:
    spec: FlinkCluster
    sandbox: SandboxServer
    runtime: LocalRuntime
    hook: FlinkKubernetesHook
    rest: FlinkRestHook
    core: client.CoreV1Api


@pytest.fixture(scope="module")
def cluster(
    flink_sql_runner_jar: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    usrlib = stage_usrlib(tmp_path_factory.mktemp("usrlib"), jar=flink_sql_runner_jar)
    runtime = LocalRuntime(TIMING, workdir=tmp_path_factory.mktemp("pods"), usrlib=usrlib)
    kube = tmp_path_factory.mktemp("kube") / "config"
    with SandboxServer(runtime=runtime, timing=TIMING) as sandbox:
        sandbox.write_kubeconfig(kube)
        rest = proxy_rest_hook(kube, "demo", NAMESPACE, "sandbox_k8s")
        api = config.new_client_from_config(str(kube))
        core = client.CoreV1Api(api)
        core.create_namespace({"metadata": {"name": NAMESPACE}})
        spec = load_cluster(dict(SPEC))
        hook = FlinkKubernetesHook(config_file=str(kube))
        started = time.monotonic()
        hook.apply(render_manifests(spec))
        try:
            wait_until(lambda: _overview(rest).get("slots") == 2, 120, "a TaskManager, 2 slots")
            print(f"\nJobManager + TaskManager registered in {time.monotonic() - started:.1f}s")
            yield Cluster(spec, sandbox, runtime, hook, rest, core)
        finally:
            rest.close()
            api.close()
    assert live_processes() == ()


def _overview(rest: FlinkRestHook) -> dict[str, Any]:
    """Flink's ``/overview`` through the proxy; empty while it does not answer."""
    try:
        overview = rest.overview()
    except FlinkK8sError:  # not up yet: 503 from the proxy, or Flink starting
        return {}
    return {"taskmanagers": overview.taskmanagers, "slots": overview.slots_total}


def _pods(cluster: Cluster, component: str) -> list[Any]:
    selector = f"component={component}"
    pods = cluster.core.list_namespaced_pod(NAMESPACE, label_selector=selector).items
    return [pod for pod in pods if pod.metadata.deletion_timestamp is None]


def _java_processes_under(path: Path) -> list[int]:
    """PIDs of live processes whose command line mentions ``path``."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(path) in text and "java" in text:
            pids.append(int(cmdline.parent.name))
    return pids


@pytest.mark.slow
def test_service_proxy_reaches_the_real_jobmanager(cluster: Cluster) -> None:
    raw = cluster.core.connect_get_namespaced_service_proxy_with_path(
        "demo-rest:rest", NAMESPACE, "overview", _preload_content=False
    )
    overview = json.loads(raw.data)
    (jobmanager,) = _pods(cluster, "jobmanager")
    log = cluster.core.read_namespaced_pod_log(jobmanager.metadata.name, NAMESPACE)

    assert overview["taskmanagers"] == 1 and overview["slots-total"] == 2
    assert "flink-version" in overview
    assert jobmanager.status.phase == "Running"
    assert jobmanager.status.container_statuses[0].ready
    assert "StandaloneSessionClusterEntrypoint" in log


@pytest.mark.slow
def test_scaling_the_taskmanager_deployment_starts_and_stops_taskmanagers(
    cluster: Cluster,
) -> None:
    cluster.hook.scale_taskmanagers(cluster.spec, 2)
    wait_until(lambda: _overview(cluster.rest).get("slots") == 4, 90, "two TaskManagers")
    processes_at_two = len(live_processes())
    cluster.hook.scale_taskmanagers(cluster.spec, 1)
    wait_until(lambda: _overview(cluster.rest).get("slots") == 2, 90, "one TaskManager")
    wait_until(lambda: len(live_processes()) == 2, 60, "the second TaskManager to exit")

    assert processes_at_two == 3
    assert len(_pods(cluster, "taskmanager")) == 1


@pytest.mark.slow
def test_a_killed_taskmanager_restarts_and_registers_again(cluster: Cluster) -> None:
    (pod,) = _pods(cluster, "taskmanager")
    name = f"{NAMESPACE}/{pod.metadata.name}/flink-main-container"
    (process,) = [p for p in live_processes() if p.name == name]
    process.kill()

    def restarted() -> Any:
        (current,) = _pods(cluster, "taskmanager")
        status = current.status.container_statuses[0]
        return status if status.restart_count == 1 and status.ready else None

    status = wait_until(restarted, 90, "the TaskManager to restart")
    wait_until(lambda: _overview(cluster.rest).get("slots") == 2, 90, "the TaskManager back")

    assert status.last_state.terminated.exit_code == 137
    assert [p.name for p in live_processes()].count(name) == 1


@pytest.mark.slow
def test_an_application_cluster_runs_its_job_from_usrlib(cluster: Cluster) -> None:
    spec = load_cluster(
        {
            **SPEC,
            "name": "app",
            "mode": "application",
            "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 1},
            "job": {
                "jar_uri": f"local:///opt/flink/usrlib/{SQL_RUNNER_JAR}",
                "entry_class": SQL_RUNNER_CLASS,
                "args": ["--script", "/opt/flink/usrlib/clickstream.sql"],
                "parallelism": 1,
            },
        }
    )
    cluster.hook.apply(render_manifests(spec))

    def jobs() -> list[dict[str, Any]]:
        try:
            raw = cluster.core.connect_get_namespaced_service_proxy_with_path(
                "app-rest:rest", NAMESPACE, "jobs/overview", _preload_content=False
            )
        except client.ApiException:
            return []
        found: list[dict[str, Any]] = json.loads(raw.data)["jobs"]
        return found if any(job["state"] == "RUNNING" for job in found) else []

    try:
        (job,) = wait_until(jobs, 120, "the SQL runner's job RUNNING")
    finally:
        cluster.hook.delete_cluster("app", NAMESPACE, timeout=60)

    assert job["state"] == "RUNNING"
    assert not [p for p in live_processes() if "/app-" in p.name]


@pytest.mark.slow
def test_deleting_the_cluster_stops_every_process(cluster: Cluster) -> None:
    started = time.monotonic()
    result = cluster.hook.delete_cluster("demo", NAMESPACE, timeout=60)
    print(f"\ncluster deleted in {time.monotonic() - started:.1f}s")

    assert not result.already_gone
    assert live_processes() == ()
    assert _java_processes_under(cluster.runtime.workdir) == []
    assert os.listdir(cluster.runtime.workdir)  # the pods' folders stay until the end
