"""DAGs whose every task waits in the triggerer (``deferrable=True``); the run's config
names the cluster and the job.

- ``flink_test_deferred``: deploy, submit a jar, savepoint, teardown with a final
  savepoint (standalone; the simulated runtime or real Flink);
- ``flink_test_deferred_operator``: deploy a FlinkDeployment (application), savepoint it
  (``savepointTriggerNonce``), teardown suspending it with a savepoint;
- ``flink_test_deferred_session_job``: deploy a session FlinkDeployment, submit a
  FlinkSessionJob, teardown (the session job first);
- ``flink_test_deferred_failing_savepoint``: as ``flink_test_deferred``, the savepoints
  into ``savepoint_dir`` (one Flink cannot write), the teardown run whatever happened.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_flink_k8s.operators import (
    FlinkDeployOperator,
    FlinkSavepointOperator,
    FlinkSubmitJobOperator,
    FlinkTeardownOperator,
)

_TIMING = {"timeout": 90, "poll_interval": 0.5, "deferrable": True}

with DAG(
    dag_id="flink_test_deferred",
    schedule=None,
    render_template_as_native_obj=True,
    params={
        "cluster": Param({}, type="object"),
        "jar": Param("", type="string"),
        "entry_class": Param(None, type=["null", "string"]),
        "args": Param([], type="array"),
    },
):
    deploy = FlinkDeployOperator(task_id="deploy", cluster="{{ params.cluster }}", **_TIMING)
    submit = FlinkSubmitJobOperator(
        task_id="submit",
        cluster="{{ params.cluster }}",
        jar="{{ params.jar }}",
        entry_class="{{ params.entry_class }}",
        args="{{ params.args }}",
        **_TIMING,
    )
    savepoint = FlinkSavepointOperator(
        task_id="savepoint", cluster="{{ params.cluster }}", job_id=submit.output, **_TIMING
    )
    teardown = FlinkTeardownOperator(
        task_id="teardown", cluster="{{ params.cluster }}", savepoint=True, **_TIMING
    )
    deploy >> submit >> savepoint >> teardown

with DAG(
    dag_id="flink_test_deferred_operator",
    schedule=None,
    render_template_as_native_obj=True,
    params={"cluster": Param({}, type="object")},
):
    deploy = FlinkDeployOperator(task_id="deploy", cluster="{{ params.cluster }}", **_TIMING)
    savepoint = FlinkSavepointOperator(
        task_id="savepoint", cluster="{{ params.cluster }}", **_TIMING
    )
    teardown = FlinkTeardownOperator(
        task_id="teardown", cluster="{{ params.cluster }}", savepoint=True, **_TIMING
    )
    deploy >> savepoint >> teardown

with DAG(
    dag_id="flink_test_deferred_session_job",
    schedule=None,
    render_template_as_native_obj=True,
    params={"cluster": Param({}, type="object"), "jar": Param("", type="string")},
):
    deploy = FlinkDeployOperator(task_id="deploy", cluster="{{ params.cluster }}", **_TIMING)
    submit = FlinkSubmitJobOperator(
        task_id="submit", cluster="{{ params.cluster }}", jar="{{ params.jar }}", **_TIMING
    )
    teardown = FlinkTeardownOperator(task_id="teardown", cluster="{{ params.cluster }}", **_TIMING)
    deploy >> submit >> teardown

with DAG(
    dag_id="flink_test_deferred_failing_savepoint",
    schedule=None,
    render_template_as_native_obj=True,
    params={
        "cluster": Param({}, type="object"),
        "jar": Param("", type="string"),
        "entry_class": Param(None, type=["null", "string"]),
        "args": Param([], type="array"),
        "savepoint_dir": Param("", type="string"),
    },
):
    deploy = FlinkDeployOperator(task_id="deploy", cluster="{{ params.cluster }}", **_TIMING)
    submit = FlinkSubmitJobOperator(
        task_id="submit",
        cluster="{{ params.cluster }}",
        jar="{{ params.jar }}",
        entry_class="{{ params.entry_class }}",
        args="{{ params.args }}",
        **_TIMING,
    )
    savepoint = FlinkSavepointOperator(
        task_id="savepoint",
        cluster="{{ params.cluster }}",
        job_id=submit.output,
        savepoint_dir="{{ params.savepoint_dir }}",
        **_TIMING,
    )
    teardown = FlinkTeardownOperator(
        task_id="teardown",
        cluster="{{ params.cluster }}",
        savepoint=True,
        savepoint_dir="{{ params.savepoint_dir }}",
        trigger_rule="all_done",
        **_TIMING,
    )
    deploy >> submit >> savepoint >> teardown
