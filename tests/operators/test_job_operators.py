"""Submit, savepoint and teardown operators with real Flink (the sandbox's local runtime).

One session cluster (deployed by ``flink_test_deploy``) serves the module; the tests run
in file order: bad inputs, a job that fails, the SQL runner RUNNING and savepointed, the
same DAG run again (re-attached, the same savepoint), then teardown with a final
savepoint, and teardown of the missing cluster.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from dag_support import LocalSandbox, load_dag_bag, task_states

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.operators.base import FlinkClusterMixin, cluster_from
from airflow_provider_flink_k8s.operators.job import FlinkSubmitJobOperator
from airflow_provider_flink_k8s.operators.savepoint import FlinkSavepointOperator
from flink_k8s_sandbox.flink import SQL_RUNNER_JAR, live_processes

pytestmark = pytest.mark.slow

NAME = "jobs"
FAILING_SQL = (
    "CREATE TEMPORARY TABLE src (s STRING) WITH ('connector' = 'datagen', "
    "'rows-per-second' = '5', 'fields.s.length' = '6');"
    "CREATE TEMPORARY TABLE snk (i INT) WITH ('connector' = 'blackhole');"
    "INSERT INTO snk SELECT CAST(CONCAT('x', s) AS INT) FROM src;"
)


def _spec(state: Path) -> dict[str, Any]:
    return {
        "name": NAME,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 4, "replicas": 1},
        "savepoint_dir": (state / "savepoints").as_uri(),
        "flink_configuration": {"restart-strategy.type": "none"},
    }


@pytest.fixture(scope="module")
def dags(airflow_db: None) -> Any:
    return load_dag_bag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])


@pytest.fixture(scope="module")
def session(local_sandbox: LocalSandbox, run_dag: Any) -> dict[str, Any]:
    spec = _spec(local_sandbox.state)
    dag_run = run_dag("flink_test_deploy", {"cluster": spec})
    assert task_states(dag_run) == {"deploy": "success"}
    return dag_run.get_task_instance("deploy").xcom_pull(task_ids="deploy")


def _conf(session: dict[str, Any], usrlib: Path, **extra: Any) -> dict[str, Any]:
    """Every parameter (a run's conf updates the DAG's params for the next runs)."""
    script = str(usrlib / "clickstream.sql")
    return {
        "cluster": session,
        "jar": str(usrlib / SQL_RUNNER_JAR),
        "jar_id": None,
        "args": ["--script", script],
        "entry_class": "flinkk8s.SqlRunner",
        **extra,
    }


def _rest(session: dict[str, Any]) -> Any:
    task = FlinkClusterMixin(
        task_id="probe", cluster=session, rest_route="service_proxy", deferrable=False
    )
    return task.rest_hook()


def _metadata(location: str) -> Path:
    return Path(location.removeprefix("file:").removeprefix("//")) / "_metadata"


def test_bad_inputs_fail_before_anything_is_written(
    local_sandbox: LocalSandbox, session: dict[str, Any], run_dag: Any, capfd: Any
) -> None:
    missing = _conf(session, local_sandbox.usrlib, jar="/nowhere/job.jar")
    assert task_states(run_dag("flink_test_jobs_submit", missing)) == {"submit": "failed"}
    assert "jar: no such file '/nowhere/job.jar'" in capfd.readouterr().out
    both = _conf(session, local_sandbox.usrlib, jar_id="abc_job.jar")
    assert task_states(run_dag("flink_test_jobs_submit", both)) == {"submit": "failed"}
    assert "jar and jar_id must not both be given" in capfd.readouterr().out
    with _rest(session) as rest:
        assert rest.jars() == [] and rest.jobs() == []
    with pytest.raises(ValueError, match="format_type must be one of CANONICAL, NATIVE"):
        FlinkSavepointOperator(task_id="s", cluster=session, format_type="SNAPSHOT")
    with pytest.raises(ValueError, match="wait_for must name Flink job states"):
        FlinkSubmitJobOperator(task_id="j", cluster=session, jar="x.jar", wait_for="DONE")


def test_a_job_failing_at_runtime_fails_the_task_with_flinks_root_exception(
    local_sandbox: LocalSandbox, session: dict[str, Any], run_dag: Any, capfd: Any
) -> None:
    conf = _conf(session, local_sandbox.usrlib, args=["--sql", FAILING_SQL])
    dag_run = run_dag("flink_test_jobs_batch_deferred", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"submit": "failed"}, out[-4000:]
    assert "JobFailed" in out and "NumberFormatException" in out, out[-4000:]
    assert "Root exception of job" in out


def test_a_wrong_entry_class_fails_the_submission_with_flinks_message(
    local_sandbox: LocalSandbox, session: dict[str, Any], run_dag: Any, capfd: Any
) -> None:
    conf = _conf(session, local_sandbox.usrlib, entry_class="flinkk8s.NoSuchRunner")
    dag_run = run_dag("flink_test_jobs_submit", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"submit": "failed"}, out[-4000:]
    assert "Flink refused the job" in out and "flinkk8s.NoSuchRunner" in out, out[-4000:]


def test_a_job_runs_and_savepoints_and_the_same_run_again_reattaches(
    local_sandbox: LocalSandbox, session: dict[str, Any], dags: Any, capfd: Any
) -> None:
    dag = dags.get_dag("flink_test_jobs")
    when = datetime.now(timezone.utc).replace(microsecond=0)
    conf = _conf(session, local_sandbox.usrlib)
    first = dag.test(run_conf=conf, logical_date=when, run_after=when)
    out = capfd.readouterr().out
    assert task_states(first) == {"submit": "success", "savepoint": "success"}, out[-4000:]
    job_id = first.get_task_instance("submit").xcom_pull(task_ids="submit")
    location = first.get_task_instance("savepoint").xcom_pull(task_ids="savepoint")
    assert _metadata(location).is_file()
    assert "Submitting" in out and "Reusing sql-runner.jar" in out

    again = dag.test(run_conf=conf, logical_date=when, run_after=when)  # the same DAG run, cleared
    out = capfd.readouterr().out
    assert again.run_id == first.run_id
    assert task_states(again) == {"submit": "success", "savepoint": "success"}, out[-4000:]
    assert again.get_task_instance("submit").xcom_pull(task_ids="submit") == job_id
    assert f"Job {job_id}, submitted before by this task, is RUNNING" in out
    assert "Submitting" not in out and "Uploaded" not in out
    assert again.get_task_instance("savepoint").xcom_pull(task_ids="savepoint") == location
    with _rest(session) as rest:
        running = [job.id for job in rest.jobs() if job.state == "RUNNING"]
        assert running == [job_id]
        assert len(rest.jars()) == 1


def test_teardown_stops_the_job_with_a_savepoint_and_removes_everything(
    local_sandbox: LocalSandbox, session: dict[str, Any], run_dag: Any, capfd: Any
) -> None:
    dag_run = run_dag("flink_test_jobs_teardown", {"cluster": session})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"teardown": "success"}, out[-4000:]
    location = dag_run.get_task_instance("teardown").xcom_pull(task_ids="teardown")
    assert isinstance(location, str) and _metadata(location).is_file()
    spec = cluster_from(session)
    assert FlinkKubernetesHook().delete_cluster(spec.name, spec.namespace).already_gone
    assert live_processes() == ()

    dag_run = run_dag("flink_test_jobs_teardown", {"cluster": session})
    assert task_states(dag_run) == {"teardown": "success"}
    assert dag_run.get_task_instance("teardown").xcom_pull(task_ids="teardown") is None
    assert "was already gone" in capfd.readouterr().out
