"""One-task DAGs for the operator tests: deploy the cluster given in the run's config.

``flink_test_deploy`` waits in the worker, ``flink_test_deploy_deferred`` in the
trigger; the others do not wait, and differ in ``on_exists``.
``render_template_as_native_obj`` turns ``{{ params.cluster }}`` into the mapping itself.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Param

from airflow_provider_flink_k8s.operators import FlinkDeployOperator

VARIANTS: dict[str, dict[str, Any]] = {
    "flink_test_deploy": {},
    "flink_test_deploy_deferred": {"deferrable": True},
    "flink_test_deploy_no_wait": {"wait_for_ready": False},
    "flink_test_deploy_on_exists_fail": {"on_exists": "fail", "wait_for_ready": False},
    "flink_test_deploy_adopt": {"on_exists": "adopt", "wait_for_ready": False},
}

for dag_id, options in VARIANTS.items():
    with DAG(
        dag_id=dag_id,
        schedule=None,
        render_template_as_native_obj=True,
        params={"cluster": Param({}, type="object")},
    ):
        FlinkDeployOperator(
            task_id="deploy",
            cluster="{{ params.cluster }}",
            timeout=60,
            poll_interval=0.5,
            **{"deferrable": False, **options},
        )
