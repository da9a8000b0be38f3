"""DAGs for the argument tests: every argument templated, so the rules run once rendered.

- ``flink_test_arguments_submit``: a submit task whose cluster, jar, arguments and
  parallelism come from the run's config;
- ``flink_test_arguments_rescale``: a rescale task whose parallelism and strategy do.

The task fails before it touches anything when a rendered value breaks its rule, with
the message the same literal value gets when the task is created.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_flink_k8s.operators import FlinkRescaleOperator, FlinkSubmitJobOperator

with DAG(
    dag_id="flink_test_arguments_submit",
    schedule=None,
    render_template_as_native_obj=True,
    params={
        "cluster": Param({}, type="object"),
        "jar": Param(None, type=["null", "string"]),
        "args": Param([], type=["array", "string"]),
        "parallelism": Param(None, type=["null", "integer"]),
    },
):
    FlinkSubmitJobOperator(
        task_id="submit",
        cluster="{{ params.cluster }}",
        jar="{{ params.jar }}",
        args="{{ params.args }}",
        parallelism="{{ params.parallelism }}",
        timeout=10,
    )

with DAG(
    dag_id="flink_test_arguments_rescale",
    schedule=None,
    render_template_as_native_obj=True,
    params={
        "cluster": Param({}, type="object"),
        "parallelism": Param(2, type=["integer", "string"]),
        "strategy": Param("auto", type="string"),
    },
):
    FlinkRescaleOperator(
        task_id="rescale",
        cluster="{{ params.cluster }}",
        parallelism="{{ params.parallelism }}",
        strategy="{{ params.strategy }}",
        timeout=10,
    )
