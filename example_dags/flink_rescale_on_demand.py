"""Rescale a running Flink job on demand: trigger with ``{"parallelism": 6}``.

The job of the batch-to-stream pipeline's session cluster keeps running between
pipeline runs; this manually triggered DAG changes its parallelism to the one given in
the run's config (``auto``: the load-based recommendation). The rescale goes in place
through the adaptive scheduler when the cluster runs it, else through a savepoint and a
restart; the task returns the old and new parallelism, the strategy used, how long the
job did not process (``downtime_seconds``) and how long until every vertex ran at the
new parallelism (``time_to_target_seconds``). A retry of a killed task carries on from
the step recorded in the cluster (docs/airflow.md, "What a retry does").
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import DAG, Param

from airflow_provider_flink_k8s.operators import FlinkRescaleOperator

HERE = Path(__file__).resolve().parent

with DAG(
    dag_id="flink_rescale_on_demand",
    description="Rescale the running clickstream job to the parallelism in the run's config",
    schedule=None,
    catchup=False,
    tags=["flink", "example"],
    template_searchpath=[str(HERE)],
    render_template_as_native_obj=True,
    params={
        "parallelism": Param(
            4,
            type=["integer", "string"],
            title="New parallelism",
            description="A number, or 'auto' for the load-based recommendation.",
        ),
        "strategy": Param(
            "auto",
            enum=["auto", "in_place", "savepoint_restart"],
            title="How to rescale",
        ),
        # The cluster spec template reads these; they describe the running cluster.
        "taskmanagers": Param(1, type="integer", minimum=1),
        "taskmanager_memory": Param("1024m", type="string"),
        "taskmanager_slots": Param(2, type="integer", minimum=1),
        "state_dir": Param("file:///tmp/flink-k8s-example/state", type="string"),
    },
) as dag:
    FlinkRescaleOperator(
        task_id="rescale",
        cluster="specs/clickstream_session.yaml",
        parallelism="{{ params.parallelism }}",
        strategy="{{ params.strategy }}",
    )
