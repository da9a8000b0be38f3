"""The example DAGs: they import, and each runs for real on the sandbox.

``flink_batch_to_stream`` runs end to end in ``test_demo.py`` (``make demo``);
here ``flink_application_operator`` runs against the stand-in Flink Kubernetes Operator,
and ``flink_rescale_on_demand`` rescales a running job on real Flink.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dag_support import LocalSandbox, load_dag_bag, task_states

from airflow_provider_flink_k8s.exceptions import FlinkK8sError
from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.flink import SQL_RUNNER_CLASS, SQL_RUNNER_JAR

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
EXAMPLE_DAG_IDS = {"flink_application_operator", "flink_batch_to_stream", "flink_rescale_on_demand"}


def test_every_example_dag_imports(airflow_db: None) -> None:
    bag = load_dag_bag(dag_folder=str(EXAMPLES))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXAMPLE_DAG_IDS
    for dag_id in ("flink_application_operator", "flink_batch_to_stream"):
        dag = bag.get_dag(dag_id)
        assert dag is not None
        teardowns = [task.task_id for task in dag.tasks if task.is_teardown]
        assert teardowns == ["teardown"], dag_id


def test_the_application_operator_dag_runs_on_the_stand_in_operator(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("flink_application_operator")
    out = capfd.readouterr().out
    assert task_states(dag_run) == {
        "deploy": "success",
        "wait_running": "success",
        "savepoint": "success",
        "teardown": "success",
    }, out[-6000:]
    savepoint = dag_run.get_task_instance("savepoint").xcom_pull(task_ids="savepoint")
    assert savepoint.startswith("file:")
    snapshot = FlinkKubernetesHook().observe("clickstream-app", "default", target="operator")
    assert snapshot.flink_deployment is None and snapshot.pods == ()


@pytest.mark.slow
def test_rescale_on_demand_changes_a_running_jobs_parallelism(
    local_sandbox: LocalSandbox, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    params = {
        "taskmanagers": 1,
        "taskmanager_memory": "1024m",
        "taskmanager_slots": 2,
        "state_dir": local_sandbox.state.as_uri(),
    }
    from jinja2 import Template

    text = Template((EXAMPLES / "specs" / "clickstream_session.yaml").read_text())
    cluster = load_cluster(text.render(params=params))
    kube = FlinkKubernetesHook()
    kube.apply(render_manifests(cluster))
    try:
        rest = FlinkRestHook(service=_service(cluster.name))
        job_id = _start_job(rest, local_sandbox)
        dag_run = run_dag(
            "flink_rescale_on_demand", {"parallelism": 3, "strategy": "auto", **params}
        )
        out = capfd.readouterr().out
        assert task_states(dag_run) == {"rescale": "success"}, out[-6000:]
        result = dag_run.get_task_instance("rescale").xcom_pull(task_ids="rescale")
        assert (result["old_parallelism"], result["new_parallelism"]) == (2, 3)
        assert result["strategy"] == "in_place" and result["job_id"] == job_id
        details = rest.job(job_id)
        assert details.state == "RUNNING" and details.parallelism == 3
        assert all(vertex.parallelism == 3 for vertex in details.vertices)
        rest.close()
    finally:
        kube.delete_cluster(cluster.name, cluster.namespace, timeout=120)


def _service(name: str) -> Any:
    from airflow_provider_flink_k8s.flinkrest import FlinkRestService

    return FlinkRestService.for_cluster(name, "default", route="service_proxy")


def _start_job(rest: FlinkRestHook, sandbox: LocalSandbox) -> str:
    """Wait for the cluster's slots, then run the SQL runner at parallelism 2."""
    import time

    deadline = time.monotonic() + 120
    while True:
        try:
            if rest.overview().slots_total >= 2:
                break
        except FlinkK8sError:  # the JobManager is still starting
            pass
        assert time.monotonic() < deadline, "the session cluster did not come up"
        time.sleep(0.5)
    jar_id = rest.upload_jar(sandbox.usrlib / SQL_RUNNER_JAR)
    script = str(sandbox.usrlib / "clickstream.sql")
    job_id = rest.run_jar(
        jar_id, entry_class=SQL_RUNNER_CLASS, args=["--script", script], parallelism=2
    )
    while not rest.job(job_id).all_vertices_running:
        assert time.monotonic() < deadline + 60, "the job did not start"
        time.sleep(0.5)
    return job_id
