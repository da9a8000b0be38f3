"""Submit a job described by a FlinkSessionJob (the run's config), as the operator's
users write them; ``cluster`` is optional (the session job names its deployment).

``flink_test_session_job_and_arguments``: the same with ``cluster`` and ``jar`` given
too, for the checks of a FlinkSessionJob against the task's other arguments."""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_flink_k8s.operators.job import FlinkSubmitJobOperator

with DAG(
    dag_id="flink_test_session_job",
    schedule=None,
    render_template_as_native_obj=True,
    params={"session_job": Param({}, type="object")},
):
    FlinkSubmitJobOperator(
        task_id="submit",
        session_job="{{ params.session_job }}",
        timeout=60,
        poll_interval=0.5,
    )

with DAG(
    dag_id="flink_test_session_job_and_arguments",
    schedule=None,
    render_template_as_native_obj=True,
    params={
        "cluster": Param({}, type="object"),
        "session_job": Param({}, type="object"),
        "jar": Param(None, type=["null", "string"]),
    },
):
    FlinkSubmitJobOperator(
        task_id="submit",
        cluster="{{ params.cluster }}",
        session_job="{{ params.session_job }}",
        jar="{{ params.jar }}",
        timeout=60,
        poll_interval=0.5,
    )
