"""The ``local`` runtime with jobs: scaling, savepoints and a JobManager that cannot start.

One in-process sandbox (``LocalRuntime``, probes 10x faster, 1 s back-off) serves the
module, with a session cluster of its own (``jobs`` in ``jobs-test``) whose checkpoints
and savepoints go to a temporary folder. TaskManagers are scaled through Kubernetes and
counted through the API server's Service proxy; the SQL runner is uploaded and run
through the proxy, savepointed, then stopped with a savepoint. A second cluster whose
JobManager exits at once is observed until it is FAILED with ``CrashLoopBackOff`` and
the JobManager's log. The tests run in file order and share the session cluster.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
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
from airflow_provider_flink_k8s.observation import Lifecycle, Reason, classify_cluster
from airflow_provider_flink_k8s.spec import FlinkCluster, load_cluster
from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.clock import Timing
from flink_k8s_sandbox.flink import (
    CLICKSTREAM_SQL,
    SQL_RUNNER_CLASS,
    SQL_RUNNER_JAR,
    live_processes,
    stage_usrlib,
)
from flink_k8s_sandbox.runtime.local import LocalRuntime

NAME = "jobs"
NAMESPACE = "jobs-test"
TIMING = Timing(probe_scale=0.1, backoff_base=1.0, backoff_max=5.0)


def _spec(state: Path) -> dict[str, Any]:
    return {
        "name": NAME,
        "namespace": NAMESPACE,
        "mode": "session",
        "target": "standalone",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2, "replicas": 1},
        "savepoint_dir": (state / "savepoints").as_uri(),
        "checkpoint_dir": (state / "checkpoints").as_uri(),
        "flink_configuration": {
            "execution.checkpointing.interval": "2s",
            "heartbeat.interval": "1000",
            "heartbeat.timeout": "5000",
        },
    }


@dataclass
class Cluster:
    spec: FlinkCluster
    state: Path
    usrlib: Path
    runtime: LocalRuntime
    hook: FlinkKubernetesHook
    rest: FlinkRestHook
    core: client.CoreV1Api


@pytest.fixture(scope="module")
def cluster(
    flink_sql_runner_jar: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    usrlib = stage_usrlib(tmp_path_factory.mktemp("usrlib"), jar=flink_sql_runner_jar)
    state = tmp_path_factory.mktemp("state")
    runtime = LocalRuntime(TIMING, workdir=tmp_path_factory.mktemp("pods"), usrlib=usrlib)
    kube = tmp_path_factory.mktemp("kube") / "config"
    with SandboxServer(runtime=runtime, timing=TIMING) as sandbox:
        sandbox.write_kubeconfig(kube)
        rest = proxy_rest_hook(kube, NAME, NAMESPACE, "jobs_k8s")
        api = config.new_client_from_config(str(kube))
        core = client.CoreV1Api(api)
        core.create_namespace({"metadata": {"name": NAMESPACE}})
        spec = load_cluster(_spec(state))
        hook = FlinkKubernetesHook(config_file=str(kube))
        started = time.monotonic()
        hook.apply(render_manifests(spec))
        try:
            wait_until(lambda: _slots(rest) == 2, 120, "a TaskManager, 2 slots")
            print(f"\nJobManager + TaskManager registered in {time.monotonic() - started:.1f}s")
            yield Cluster(spec, state, usrlib, runtime, hook, rest, core)
        finally:
            try:
                hook.delete_cluster(NAME, NAMESPACE, timeout=60)
            finally:
                rest.close()
                api.close()
    assert live_processes() == ()


def _slots(rest: FlinkRestHook) -> int | None:
    """``slots-total`` of Flink's ``/overview`` through the proxy; ``None`` while it does
    not answer."""
    try:
        return rest.overview().slots_total
    except FlinkK8sError:  # not up yet: 503 from the proxy, or Flink starting
        return None


def _metadata_of(location: str) -> Path:
    """The ``_metadata`` file of a savepoint at a ``file:`` location."""
    assert location.startswith("file:"), location
    return Path(location.removeprefix("file:").removeprefix("//")) / "_metadata"


@pytest.mark.slow
def test_scaling_taskmanagers_changes_the_slots_flink_reports(cluster: Cluster) -> None:
    seen = [_slots(cluster.rest)]
    cluster.hook.scale_taskmanagers(cluster.spec, 3)
    seen.append(wait_until(lambda: _slots(cluster.rest) == 6 and 6, 90, "three TaskManagers"))
    cluster.hook.scale_taskmanagers(cluster.spec, 1)
    seen.append(wait_until(lambda: _slots(cluster.rest) == 2 and 2, 90, "one TaskManager"))
    wait_until(lambda: len(live_processes()) == 2, 60, "the other TaskManagers to exit")

    assert seen == [2, 6, 2]


@pytest.mark.slow
def test_a_job_runs_from_an_uploaded_jar_and_savepoints_to_disk(cluster: Cluster) -> None:
    rest = cluster.rest
    jar_id = rest.upload_jar(cluster.usrlib / SQL_RUNNER_JAR)
    # the job's main() runs in the JobManager's process, on this host: a host path
    script = cluster.usrlib / CLICKSTREAM_SQL.name
    job_id = rest.run_jar(jar_id, entry_class=SQL_RUNNER_CLASS, args=["--script", str(script)])

    def running() -> bool:
        job = rest.job(job_id)
        assert job.state not in ("FAILED", "CANCELED", "FINISHED"), job.state
        return job.state == "RUNNING" and all(v.status == "RUNNING" for v in job.vertices)

    wait_until(running, 90, f"job {job_id} RUNNING")
    savepoint = rest.wait_for_savepoint(job_id, rest.trigger_savepoint(job_id), timeout=60)
    first = _metadata_of(savepoint.raise_for_failure())
    stop = rest.wait_for_savepoint(job_id, rest.stop_with_savepoint(job_id), timeout=60)
    final = _metadata_of(stop.raise_for_failure())
    wait_until(lambda: rest.job(job_id).state == "FINISHED", 60, f"job {job_id} FINISHED")

    savepoints = cluster.state / "savepoints"
    assert first.is_file() and first.stat().st_size > 0
    assert final.is_file() and final.stat().st_size > 0
    assert first != final
    assert first.parent.parent == savepoints and final.parent.parent == savepoints


@pytest.mark.slow
def test_a_jobmanager_that_cannot_start_is_failed_with_its_log(cluster: Cluster) -> None:
    # Flink's REST endpoint creates its upload folder at start; under /proc it cannot,
    # so the JobManager's JVM exits at once -- nothing the provider's validation checks
    upload_dir = "/proc/flink-k8s-no-such-upload-dir"
    broken = _spec(cluster.state) | {"name": "broken", "mode": "session"}
    broken["flink_configuration"] = {**broken["flink_configuration"], "web.upload.dir": upload_dir}
    spec = load_cluster(broken)
    cluster.hook.apply(render_manifests(spec))

    def crash_looping() -> Any:
        pods = cluster.core.list_namespaced_pod(
            NAMESPACE, label_selector="app.kubernetes.io/instance=broken,component=jobmanager"
        ).items
        for pod in pods:
            for status in pod.status.container_statuses or ():
                waiting = status.state.waiting
                if waiting and waiting.reason == "CrashLoopBackOff" and status.restart_count >= 2:
                    return status
        return None

    try:
        status = wait_until(crash_looping, 60, "the JobManager in CrashLoopBackOff, 2 restarts")
        snapshot = cluster.hook.observe("broken", NAMESPACE, target="standalone", log_lines=50)
        verdict = classify_cluster(
            snapshot, expected_taskmanagers=1, expected_slots=2, now=datetime.now(timezone.utc)
        )
        print(f"\n{verdict.message}")
    finally:
        cluster.hook.delete_cluster("broken", NAMESPACE, timeout=60)

    assert status.last_state.terminated.exit_code != 0
    assert verdict.lifecycle is Lifecycle.FAILED
    assert verdict.reason is Reason.CRASH_LOOP_BACK_OFF
    assert "jobmanager" in verdict.details["pod"]
    assert "last log lines" in verdict.message
    assert f"NoSuchFileException: {upload_dir}" in verdict.message
    assert "RestServerEndpoint.checkAndCreateUploadDir" in verdict.message
    assert not [p for p in live_processes() if "/broken-" in p.name]
