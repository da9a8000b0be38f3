"""Batch to stream: backfill with a bounded Flink job, then run the streaming job for real.

::

    prepare_job -> deploy_session_cluster -> backfill -> submit_stream -> wait_running
                -> rescale -> savepoint                      (teardown runs whatever happens)

- ``prepare_job`` -- the batch step in Airflow: check the job artifact (the ``jar`` param:
  a jar whose ``flinkk8s.SqlRunner`` runs a SQL script, e.g. the one the sandbox builds)
  and that each SQL script holds a statement to run.
- ``deploy_session_cluster`` -- a session cluster sized from the params, checked against
  the nodes and quota first, waited for until every TaskManager and slot is registered.
- ``backfill`` -- a bounded job (``sql/backfill.sql``) that must FINISH.
- ``submit_stream`` / ``wait_running`` -- the streaming job (``sql/clickstream.sql``), and a
  deferrable sensor that returns once it is RUNNING.
- ``rescale`` -- to ``rescale_parallelism``: a number, or ``auto`` for the load-based
  recommendation (Flink autoscaler's rule over the job's observed rates).
- ``savepoint`` -- the job's state, written to ``<state_dir>/savepoints``.
- ``teardown`` -- stop with a final savepoint and delete every object, as a teardown task:
  it runs even when a later step fails. When the deploy itself fails, Airflow skips the
  teardown and the deploy deletes the cluster it created (docs/airflow.md, "What runs
  when"). A cluster stays only when the teardown itself fails (the final savepoint
  cannot be taken, say).

Trigger it from the UI with config to change the parallelism or the TaskManager size.
Runs unchanged on the embedded sandbox (``make demo`` fills in ``jar`` and ``state_dir``)
and on a real cluster: only the ``kubernetes_default`` connection and the params differ
(see docs/airflow.md).
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import DAG, Param, task

from airflow_provider_flink_k8s.operators import (
    FlinkDeployOperator,
    FlinkRescaleOperator,
    FlinkSavepointOperator,
    FlinkSubmitJobOperator,
    FlinkTeardownOperator,
)
from airflow_provider_flink_k8s.sensors import FlinkJobSensor

HERE = Path(__file__).resolve().parent
SQL_RUNNER_CLASS = "flinkk8s.SqlRunner"

with DAG(
    dag_id="flink_batch_to_stream",
    description="Backfill with a bounded Flink job, then stream, rescale and savepoint",
    schedule=None,
    catchup=False,
    tags=["flink", "example"],
    template_searchpath=[str(HERE)],
    render_template_as_native_obj=True,
    params={
        "parallelism": Param(2, type="integer", minimum=1, title="Job parallelism"),
        "taskmanagers": Param(1, type="integer", minimum=1, title="TaskManagers"),
        "taskmanager_memory": Param(
            "1024m", type="string", title="TaskManager memory (Flink syntax: 1024m, 2g)"
        ),
        "taskmanager_slots": Param(2, type="integer", minimum=1, title="Slots per TaskManager"),
        "rescale_parallelism": Param(
            4,
            type=["integer", "string"],
            title="Parallelism after the rescale",
            description="A number, or 'auto' for the load-based recommendation.",
        ),
        "state_dir": Param(
            "file:///tmp/flink-k8s-example/state",
            type="string",
            title="Checkpoint and savepoint folder (a URI every Flink pod can reach)",
        ),
        "jar": Param(
            type="string",
            minLength=1,
            title="Job jar",
            description="A local jar to upload whose flinkk8s.SqlRunner runs a SQL script "
            "(`flink-k8s-sandbox demo` builds one).",
        ),
    },
) as dag:

    @task
    def prepare_job(jar: str) -> str:
        """The batch step in Airflow: the job artifact, and a check of the SQL."""
        for script in ("backfill.sql", "clickstream.sql"):
            text = (HERE / "sql" / script).read_text(encoding="utf-8")
            if "INSERT INTO" not in text.upper():
                raise ValueError(f"sql/{script} has no INSERT INTO statement to run")
        if not Path(jar).is_file():
            raise FileNotFoundError(f"jar: no such file {jar}")
        return jar

    jar = prepare_job("{{ params.jar }}")

    # One spec file for every task: teardown must find the cluster even if deploy failed.
    cluster = "specs/clickstream_session.yaml"

    deploy = FlinkDeployOperator(task_id="deploy_session_cluster", cluster=cluster)

    backfill = FlinkSubmitJobOperator(
        task_id="backfill",
        cluster=cluster,
        jar=jar,
        entry_class=SQL_RUNNER_CLASS,
        args=["--sql", "{% include 'sql/backfill.sql' %}"],
        parallelism="{{ params.parallelism }}",
        wait_for=("FINISHED",),
    )

    stream = FlinkSubmitJobOperator(
        task_id="submit_stream",
        cluster=cluster,
        jar=jar,
        entry_class=SQL_RUNNER_CLASS,
        args=["--sql", "{% include 'sql/clickstream.sql' %}"],
        parallelism="{{ params.parallelism }}",
        wait_for=("RUNNING",),
    )

    running = FlinkJobSensor(
        task_id="wait_running",
        cluster=cluster,
        job_id=stream.output,
        deferrable=True,
        timeout=300,
    )

    rescale = FlinkRescaleOperator(
        task_id="rescale",
        cluster=cluster,
        job_id=stream.output,
        parallelism="{{ params.rescale_parallelism }}",
    )

    savepoint = FlinkSavepointOperator(
        task_id="savepoint",
        cluster=cluster,
        job_id="{{ ti.xcom_pull(task_ids='rescale')['job_id'] }}",
    )

    teardown = FlinkTeardownOperator(
        task_id="teardown", cluster=cluster, savepoint=True, savepoint_required=False
    ).as_teardown(setups=deploy)

    jar >> deploy >> backfill >> stream >> running >> rescale >> savepoint >> teardown
