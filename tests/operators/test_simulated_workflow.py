"""A whole DAG on the simulated runtime, without a JVM: the Flink REST stand-in answers
a standalone session cluster's JobManager.

Deploy (waits until the TaskManager is registered), submit an uploaded jar, savepoint,
rescale in place 2 -> 4 (a second TaskManager) and a teardown that stops the job with a
final savepoint -- the same operators and the same REST calls as on real Flink, in a few
seconds. And an application cluster rescaled by savepoint and restart (redeployed).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from dag_support import orders_jar, rescale_conf, task_states
from kubernetes import client, config

from airflow_provider_flink_k8s.flinkrest import FlinkRestService
from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.kube.resources import DEPLOYMENT
from flink_k8s_sandbox import SandboxServer

NAME = "simulated-flow"


def _spec(state: Path) -> dict[str, Any]:
    return {
        "name": NAME,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2, "replicas": 1},
        "savepoint_dir": (state / "savepoints").as_uri(),
        "flink_configuration": {"jobmanager.scheduler": "adaptive"},
    }


def _local_folder(location: str) -> Path:
    """A ``file:`` location as Flink prints it (``file:/x``) -> the folder."""
    return Path(urlparse(location).path)


def test_deploy_submit_savepoint_rescale_teardown_run_in_seconds_without_java(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    conf = {
        "cluster": _spec(tmp_path),
        "jar": str(orders_jar(tmp_path)),
        "entry_class": None,  # from the jar's manifest, as Flink reads it
        "parallelism": 2,
        "rescale_parallelism": 4,
    }
    started = time.monotonic()
    dag_run = run_dag("flink_test_simulated", conf)
    elapsed = time.monotonic() - started
    out = capfd.readouterr().out
    states = task_states(dag_run)
    print(f"\nflink_test_simulated: {states} in {elapsed:.1f}s")
    assert states == dict.fromkeys(
        ("deploy", "submit", "savepoint", "rescale", "teardown"), "success"
    ), out[-6000:]

    def result(task_id: str) -> Any:
        return dag_run.get_task_instance(task_id).xcom_pull(task_ids=task_id)

    job_id = result("submit")
    assert isinstance(job_id, str) and len(job_id) == 32
    savepoint = result("savepoint")
    print(json.dumps({"savepoint": savepoint, "rescale": result("rescale")}, indent=1))
    location = savepoint if isinstance(savepoint, str) else savepoint["location"]
    assert location.startswith("file:") and f"savepoint-{job_id[:6]}-" in location
    assert (_local_folder(location) / "_metadata").is_file()
    rescale = result("rescale")
    assert rescale["strategy"] == "in_place" and rescale["job_id"] == job_id
    assert (rescale["old_parallelism"], rescale["new_parallelism"]) == (2, 4)
    assert (rescale["taskmanagers_before"], rescale["taskmanagers_after"]) == (1, 2)
    final = result("teardown")
    assert final != location and f"savepoint-{job_id[:6]}-" in final
    assert (_local_folder(final) / "_metadata").is_file()
    kubeconfig = tmp_path / "kubeconfig"
    simulated_sandbox.write_kubeconfig(kubeconfig)
    with config.new_client_from_config(str(kubeconfig)) as api:
        left = client.AppsV1Api(api).list_namespaced_deployment("default").items
    assert [d.metadata.name for d in left if d.metadata.name.startswith(NAME)] == []


def test_an_application_cluster_is_rescaled_by_redeploying_it_from_a_savepoint(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Savepoint and restart of a standalone application cluster: the job stops with a
    savepoint and the cluster is applied again at the new parallelism, its job restored
    from that savepoint (the spec's ``job.initial_savepoint``) on a second TaskManager."""
    spec = {
        "name": "app-rescale",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2},
        "savepoint_dir": (tmp_path / "savepoints").as_uri(),
        "job": {"jar_uri": "local:///opt/flink/usrlib/orders.jar", "parallelism": 2},
    }
    deployed = run_dag("flink_test_deploy", {"cluster": spec})
    out = capfd.readouterr().out
    assert task_states(deployed) == {"deploy": "success"}, out[-4000:]
    old_job = deployed.get_task_instance("deploy").xcom_pull(task_ids="deploy")["job_id"]
    conf = rescale_conf(spec, parallelism=4, strategy="savepoint_restart")
    dag_run = run_dag("flink_test_rescale", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"rescale": "success"}, out[-6000:]
    result = dag_run.get_task_instance("rescale").xcom_pull(task_ids="rescale")
    print(json.dumps(result, indent=1))
    assert result["strategy"] == "savepoint_restart"
    assert (result["old_parallelism"], result["new_parallelism"]) == (2, 4)
    assert (result["taskmanagers_before"], result["taskmanagers_after"]) == (1, 2)
    assert result["previous_job_id"] == old_job
    savepoint = result["savepoint_path"]
    assert (_local_folder(savepoint) / "_metadata").is_file()
    assert 0 <= result["downtime_seconds"] <= result["time_to_target_seconds"]
    # The cluster as applied: the job at 4, restored from the savepoint, 2 TaskManagers.
    hook = FlinkKubernetesHook()
    taskmanagers = hook.get_object(DEPLOYMENT, "default", "app-rescale-taskmanager")
    assert taskmanagers is not None and taskmanagers["spec"]["replicas"] == 2
    service = FlinkRestService.for_cluster("app-rescale", "default", route="service_proxy")
    with FlinkRestHook(service=service) as rest:
        [job] = [job for job in rest.jobs() if job.state == "RUNNING"]
        assert job.id == result["job_id"]
        assert {vertex.parallelism for vertex in rest.job(job.id).vertices} == {4}
        restored = rest.checkpoints(job.id).latest.restored
        assert restored is not None and restored.is_savepoint
        assert _local_folder(str(restored.external_path)) == _local_folder(savepoint)
    hook.delete_cluster("app-rescale", "default", timeout=30)
