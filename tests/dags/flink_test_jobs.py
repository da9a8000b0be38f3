"""DAGs for the job, savepoint and teardown operator tests; the run's config names the
cluster (a spec mapping), the jar and the job's arguments.

- ``flink_test_jobs``: submit a job, then savepoint it (``job_id`` from the submit's XCom);
- ``flink_test_jobs_submit``: submit only (bad inputs, a wrong entry class);
- ``flink_test_jobs_savepoint``: savepoint the job the config names (``job_id``);
- ``flink_test_jobs_batch_deferred``: submit, wait in the trigger for FINISHED;
- ``flink_test_jobs_teardown``: stop the jobs with a savepoint, tear the cluster down;
- ``flink_test_jobs_teardown_plain``: tear the cluster down, no savepoint;
- ``flink_test_jobs_as_teardown``: deploy (no wait), a work task that fails, and the
  teardown as Airflow's teardown task of the deploy.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

from airflow_provider_flink_k8s.operators import FlinkDeployOperator
from airflow_provider_flink_k8s.operators.job import FlinkSubmitJobOperator
from airflow_provider_flink_k8s.operators.savepoint import FlinkSavepointOperator
from airflow_provider_flink_k8s.operators.teardown import FlinkTeardownOperator

_PARAMS = {
    "cluster": Param({}, type="object"),
    "jar": Param(None, type=["null", "string"]),
    "jar_id": Param(None, type=["null", "string"]),
    "args": Param([], type="array"),
    "entry_class": Param("flinkk8s.SqlRunner", type="string"),
}

with DAG(
    dag_id="flink_test_jobs",
    schedule=None,
    render_template_as_native_obj=True,
    params=_PARAMS,
):
    submit = FlinkSubmitJobOperator(
        task_id="submit",
        cluster="{{ params.cluster }}",
        jar="{{ params.jar }}",
        entry_class="{{ params.entry_class }}",
        args="{{ params.args }}",
        timeout=90,
        poll_interval=0.5,
    )
    FlinkSavepointOperator(
        task_id="savepoint",
        cluster="{{ params.cluster }}",
        job_id=submit.output,
        timeout=60,
        poll_interval=0.5,
    )

for dag_id, deferrable, wait_for in (
    ("flink_test_jobs_submit", False, "RUNNING"),
    ("flink_test_jobs_batch_deferred", True, "FINISHED"),
):
    with DAG(
        dag_id=dag_id,
        schedule=None,
        render_template_as_native_obj=True,
        params=_PARAMS,
    ):
        FlinkSubmitJobOperator(
            task_id="submit",
            cluster="{{ params.cluster }}",
            jar="{{ params.jar }}",
            jar_id="{{ params.jar_id }}",
            entry_class="{{ params.entry_class }}",
            args="{{ params.args }}",
            wait_for=wait_for,
            timeout=90,
            poll_interval=0.5,
            deferrable=deferrable,
        )

with DAG(
    dag_id="flink_test_jobs_savepoint",
    schedule=None,
    render_template_as_native_obj=True,
    params={**_PARAMS, "job_id": Param(None, type=["null", "string"])},
):
    FlinkSavepointOperator(
        task_id="savepoint",
        cluster="{{ params.cluster }}",
        job_id="{{ params.job_id }}",
        timeout=60,
        poll_interval=0.5,
    )

with DAG(
    dag_id="flink_test_jobs_teardown",
    schedule=None,
    render_template_as_native_obj=True,
    params=_PARAMS,
):
    FlinkTeardownOperator(
        task_id="teardown",
        cluster="{{ params.cluster }}",
        savepoint=True,
        timeout=90,
        poll_interval=0.5,
    )

with DAG(
    dag_id="flink_test_jobs_teardown_plain",
    schedule=None,
    render_template_as_native_obj=True,
    params=_PARAMS,
):
    FlinkTeardownOperator(
        task_id="teardown", cluster="{{ params.cluster }}", timeout=60, poll_interval=0.5
    )

with DAG(
    dag_id="flink_test_jobs_as_teardown",
    schedule=None,
    render_template_as_native_obj=True,
    params=_PARAMS,
):
    deploy = FlinkDeployOperator(
        task_id="deploy", cluster="{{ params.cluster }}", wait_for_ready=False, preflight=False
    )

    @task
    def work() -> None:
        raise RuntimeError("the work failed")

    teardown = FlinkTeardownOperator(
        task_id="teardown", cluster=deploy.output, timeout=60, poll_interval=0.5
    )
    deploy >> work() >> teardown.as_teardown(setups=deploy)
