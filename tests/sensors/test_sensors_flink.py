"""The sensors with real Flink (the sandbox's local runtime).

One small session cluster, applied with the Kubernetes hook, serves the module; the tests
run in file order: the cluster turns ready under the ready sensor, the SQL runner's job
is RUNNING under the job sensor, and a job that fails at runtime fails the job sensor
with Flink's root exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dag_support import LocalSandbox, task_states

from airflow_provider_flink_k8s.flinkrest import FlinkRestService, RetryPolicy
from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.operators.base import FlinkWebUILink
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox.flink import SQL_RUNNER_CLASS, SQL_RUNNER_JAR

pytestmark = pytest.mark.slow

NAME = "sensed"
SPEC: dict[str, Any] = {
    "name": NAME,
    "mode": "session",
    "jobmanager": {"memory": "1024m", "cpu": 0.5},
    "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2, "replicas": 1},
    "flink_configuration": {"restart-strategy.type": "none"},
}
FAILING_SQL = (
    "CREATE TEMPORARY TABLE src (s STRING) WITH ('connector' = 'datagen', "
    "'rows-per-second' = '5', 'fields.s.length' = '6');"
    "CREATE TEMPORARY TABLE snk (i INT) WITH ('connector' = 'blackhole');"
    "INSERT INTO snk SELECT CAST(CONCAT('x', s) AS INT) FROM src;"
)


@pytest.fixture(scope="module")
def rest(local_sandbox: LocalSandbox) -> Iterator[FlinkRestHook]:
    """The cluster, applied (not waited for), and a REST hook through the service proxy."""
    hook = FlinkKubernetesHook()
    hook.apply(render_manifests(load_cluster(SPEC)))
    service = FlinkRestService.for_cluster(
        NAME, "default", kubernetes_conn_id="kubernetes_default", route="service_proxy"
    )
    with FlinkRestHook(service=service, retry=RetryPolicy.never()) as rest:
        try:
            yield rest
        finally:
            hook.delete_cluster(NAME, "default", timeout=60)


def _xcom(dag_run: Any, task_id: str, key: str = "return_value") -> Any:
    return dag_run.get_task_instance(task_id).xcom_pull(task_ids=task_id, key=key)


def test_the_ready_sensor_succeeds_once_every_taskmanager_and_slot_registered(
    rest: FlinkRestHook, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("flink_test_sensor_ready", {"cluster": SPEC})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"ready": "success"}, out[-4000:]
    result = _xcom(dag_run, "ready")
    assert (result["name"], result["namespace"], result["job_id"]) == (NAME, "default", None)
    assert "is ready: 1 TaskManagers with 2 task slots" in result["message"], result
    assert "/services/sensed-rest:rest/proxy/#/overview" in _xcom(
        dag_run, "ready", FlinkWebUILink.key
    )
    overview = rest.overview()
    assert (overview.taskmanagers, overview.slots_total) == (1, 2)
    # Deferred, on the ready cluster: the trigger's first decision is READY.
    dag_run = run_dag("flink_test_sensor_ready_deferred", {"cluster": SPEC})
    assert task_states(dag_run) == {"ready": "success"}
    assert _xcom(dag_run, "ready")["message"] == result["message"]


def test_the_job_sensor_succeeds_when_the_sql_runner_job_runs(
    local_sandbox: LocalSandbox, rest: FlinkRestHook, run_dag: Any
) -> None:
    jar_id = rest.upload_jar(local_sandbox.usrlib / SQL_RUNNER_JAR)
    script = str(local_sandbox.usrlib / "clickstream.sql")
    job_id = rest.run_jar(jar_id, entry_class=SQL_RUNNER_CLASS, args=["--script", script])
    dag_run = run_dag("flink_test_sensor_job", {"cluster": SPEC, "job_id": job_id})
    assert task_states(dag_run) == {"job": "success"}
    result = _xcom(dag_run, "job")
    assert result["job_id"] == job_id and f"{job_id} is RUNNING" in result["message"]
    # Deferred, following the cluster's latest job (no job_id).
    dag_run = run_dag("flink_test_sensor_job_deferred", {"cluster": SPEC, "job_id": ""})
    assert task_states(dag_run) == {"job": "success"}
    assert _xcom(dag_run, "job")["job_id"] == job_id


# The sensors wait for FINISHED: the job is RUNNING for a moment before it fails.
@pytest.mark.parametrize("dag_id", ["flink_test_sensor_batch", "flink_test_sensor_batch_deferred"])
def test_a_job_that_fails_at_runtime_fails_the_job_sensor_with_flinks_root_exception(
    rest: FlinkRestHook, run_dag: Any, capfd: pytest.CaptureFixture[str], dag_id: str
) -> None:
    jars = rest.jars()
    assert jars, "the SQL runner was uploaded by the previous test"
    job_id = rest.run_jar(jars[0].id, entry_class=SQL_RUNNER_CLASS, args=["--sql", FAILING_SQL])
    dag_run = run_dag(dag_id, {"cluster": SPEC, "job_id": job_id})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"job": "failed"}, out[-4000:]
    assert "AirflowFailException: JobFailed" in out, out[-4000:]
    assert f"Flink job {job_id} FAILED" in out and "NumberFormatException" in out, out[-4000:]
