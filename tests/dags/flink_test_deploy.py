"""One-task DAGs for the operator tests: deploy the cluster given in the run's config.

``flink_test_deploy`` waits in the worker, ``flink_test_deploy_deferred`` in the
trigger. ``render_template_as_native_obj`` turns ``{{ params.cluster }}`` into the
mapping itself.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_flink_k8s.operators import FlinkDeployOperator

for deferrable in (False, True):
    with DAG(
        dag_id="flink_test_deploy" + ("_deferred" if deferrable else ""),
        schedule=None,
        render_template_as_native_obj=True,
        params={"cluster": Param({}, type="object")},
    ):
        FlinkDeployOperator(
            task_id="deploy",
            cluster="{{ params.cluster }}",
            timeout=60,
            poll_interval=0.5,
            deferrable=deferrable,
        )
