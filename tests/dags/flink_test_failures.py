"""DAGs for the failure-path tests (``tests/operators/test_failure_paths.py``); the run's
config names the cluster (a spec mapping) and the job.

- ``flink_test_failures_savepoint``: savepoint the job ``params.job_id`` (``None``: the
  cluster's only RUNNING job) into ``params.savepoint_dir`` (``None``: the spec's);
- ``flink_test_failures_teardown``: teardown with a final savepoint into
  ``params.savepoint_dir``;
- ``flink_test_failures_submit_finished``: submit a jar and wait in the worker for the
  (streaming: never) FINISHED job -- a task to kill while it waits (``..._timeout``,
  ``..._timeout_deferred``: giving up after 3 s);
- ``flink_test_failures_rerun``: submit a jar, savepoint the job, rescale it in place to
  ``params.parallelism`` -- run twice as the same DAG run (cleared) to show a re-run
  after success changes nothing;
- ``flink_test_failures_restart_from_xcom``: a task returns ``params.submission`` (the
  mapping an upstream task would push: ``jar_id``, ``entry_class``, ``args``) and the
  rescale of ``params.job_id`` to ``params.parallelism`` by savepoint and restart takes
  it as its ``jar_id``.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_flink_k8s.operators import (
    FlinkRescaleOperator,
    FlinkSavepointOperator,
    FlinkSubmitJobOperator,
    FlinkTeardownOperator,
)

_TIMING = {"timeout": 60, "poll_interval": 0.2, "deferrable": False}

with DAG(
    dag_id="flink_test_failures_savepoint",
    schedule=None,
    render_template_as_native_obj=True,
    params={
        "cluster": Param({}, type="object"),
        "job_id": Param(None, type=["null", "string"]),
        "savepoint_dir": Param(None, type=["null", "string"]),
    },
):
    FlinkSavepointOperator(
        task_id="savepoint",
        cluster="{{ params.cluster }}",
        job_id="{{ params.job_id }}",
        savepoint_dir="{{ params.savepoint_dir }}",
        **_TIMING,
    )

with DAG(
    dag_id="flink_test_failures_teardown",
    schedule=None,
    render_template_as_native_obj=True,
    params={
        "cluster": Param({}, type="object"),
        "savepoint_dir": Param(None, type=["null", "string"]),
    },
):
    FlinkTeardownOperator(
        task_id="teardown",
        cluster="{{ params.cluster }}",
        savepoint=True,
        savepoint_dir="{{ params.savepoint_dir }}",
        **_TIMING,
    )

with DAG(
    dag_id="flink_test_failures_rerun",
    schedule=None,
    render_template_as_native_obj=True,
    params={
        "cluster": Param({}, type="object"),
        "jar": Param("", type="string"),
        "parallelism": Param(4, type="integer"),
    },
):
    submit = FlinkSubmitJobOperator(
        task_id="submit",
        cluster="{{ params.cluster }}",
        jar="{{ params.jar }}",
        parallelism=2,
        **_TIMING,
    )
    savepoint = FlinkSavepointOperator(
        task_id="savepoint", cluster="{{ params.cluster }}", job_id=submit.output, **_TIMING
    )
    rescale = FlinkRescaleOperator(
        task_id="rescale",
        cluster="{{ params.cluster }}",
        job_id=submit.output,
        parallelism="{{ params.parallelism }}",
        strategy="in_place",
        **_TIMING,
    )
    submit >> savepoint >> rescale


@task
def submission(params: Any = None) -> Any:
    """What an upstream task pushes for the restart: the run's ``submission`` mapping."""
    return params["submission"]


with DAG(
    dag_id="flink_test_failures_restart_from_xcom",
    schedule=None,
    render_template_as_native_obj=True,
    params={
        "cluster": Param({}, type="object"),
        "job_id": Param(None, type=["null", "string"]),
        "parallelism": Param(2, type="integer"),
        "submission": Param({}, type="object"),
    },
):
    FlinkRescaleOperator(
        task_id="rescale",
        cluster="{{ params.cluster }}",
        job_id="{{ params.job_id }}",
        parallelism="{{ params.parallelism }}",
        strategy="savepoint_restart",
        jar_id=submission(),
        **_TIMING,
    )

for dag_id, timeout, deferrable in (
    ("flink_test_failures_submit_finished", 300, False),
    ("flink_test_failures_submit_timeout", 3, False),
    ("flink_test_failures_submit_timeout_deferred", 3, True),
):
    with DAG(
        dag_id=dag_id,
        schedule=None,
        render_template_as_native_obj=True,
        params={"cluster": Param({}, type="object"), "jar": Param("", type="string")},
    ):
        FlinkSubmitJobOperator(
            task_id="submit",
            cluster="{{ params.cluster }}",
            jar="{{ params.jar }}",
            wait_for="FINISHED",
            timeout=timeout,
            poll_interval=0.2,
            deferrable=deferrable,
        )
