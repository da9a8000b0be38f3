"""A whole session-cluster workflow for the simulated runtime (no JVM): deploy, submit a
jar, savepoint, rescale in place, and a teardown that stops the job with a savepoint.

::

    deploy -> submit -> savepoint -> rescale -> teardown (Airflow teardown of deploy)

The run's config names the cluster (a spec mapping), the jar (a local file to upload),
its entry class and the parallelisms. Every wait gives up after 60 s (the whole run takes
a few seconds).
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_flink_k8s.operators import (
    FlinkDeployOperator,
    FlinkRescaleOperator,
    FlinkSavepointOperator,
    FlinkSubmitJobOperator,
    FlinkTeardownOperator,
)

with DAG(
    dag_id="flink_test_simulated",
    schedule=None,
    render_template_as_native_obj=True,
    params={
        "cluster": Param({}, type="object"),
        "jar": Param("", type="string"),
        "entry_class": Param(None, type=["null", "string"]),
        "parallelism": Param(2, type="integer"),
        "rescale_parallelism": Param(4, type="integer"),
    },
):
    deploy = FlinkDeployOperator(
        task_id="deploy",
        cluster="{{ params.cluster }}",
        timeout=60,
        poll_interval=0.2,
    )
    submit = FlinkSubmitJobOperator(
        task_id="submit",
        cluster="{{ params.cluster }}",
        jar="{{ params.jar }}",
        entry_class="{{ params.entry_class }}",
        parallelism="{{ params.parallelism }}",
        timeout=60,
        poll_interval=0.2,
    )
    savepoint = FlinkSavepointOperator(
        task_id="savepoint",
        cluster="{{ params.cluster }}",
        job_id=submit.output,
        timeout=60,
        poll_interval=0.2,
    )
    rescale = FlinkRescaleOperator(
        task_id="rescale",
        cluster="{{ params.cluster }}",
        job_id=submit.output,
        parallelism="{{ params.rescale_parallelism }}",
        strategy="in_place",
        timeout=60,
        poll_interval=0.2,
    )
    teardown = FlinkTeardownOperator(
        task_id="teardown",
        cluster="{{ params.cluster }}",
        savepoint=True,
        timeout=60,
        poll_interval=0.2,
    )
    deploy >> submit >> savepoint >> rescale >> teardown.as_teardown(setups=deploy)
