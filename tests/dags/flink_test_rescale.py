"""One-task DAGs for the rescale tests: rescale the job of the cluster given in the run's
config.

``flink_test_rescale`` waits in the worker, ``flink_test_rescale_deferred`` defers each
wait (the load metrics of ``"auto"``, the slots, the vertices, the savepoint, the
restarted job) to the trigger. ``render_template_as_native_obj`` turns the
params into the values themselves (a mapping, an int, a list, ``None``).
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_flink_k8s.operators.rescale import FlinkRescaleOperator

for deferrable in (False, True):
    with DAG(
        dag_id="flink_test_rescale" + ("_deferred" if deferrable else ""),
        schedule=None,
        render_template_as_native_obj=True,
        params={
            "cluster": Param({}, type="object"),
            "parallelism": Param(2, type=["integer", "string"]),
            "strategy": Param("auto", type="string"),
            "job_id": Param(None, type=["null", "string"]),
            "jar_id": Param(None, type=["null", "string"]),
            "entry_class": Param(None, type=["null", "string"]),
            "args": Param([], type="array"),
            "metrics": Param(None, type=["null", "object"]),
        },
    ):
        FlinkRescaleOperator(
            task_id="rescale",
            cluster="{{ params.cluster }}",
            parallelism="{{ params.parallelism }}",
            strategy="{{ params.strategy }}",
            job_id="{{ params.job_id }}",
            jar_id="{{ params.jar_id }}",
            entry_class="{{ params.entry_class }}",
            args="{{ params.args }}",
            metrics="{{ params.metrics }}",
            timeout=90,
            poll_interval=0.5,
            deferrable=deferrable,
        )
