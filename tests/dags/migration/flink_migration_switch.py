"""docs/migration.md, "The same deployment, side by side": the official provider's DAG
with the import and the class names switched, as the doc shows it (the test compares the
block between the markers with the doc's and runs the DAG on the stand-in operator).

``flink-deployment.yaml`` next to this file is ``example_dags/specs/clickstream_operator.yaml``.
"""

from __future__ import annotations

from airflow.sdk import DAG

with DAG(dag_id="flink_migration_switch", schedule=None):
    # --- docs/migration.md ---
    from airflow_provider_flink_k8s.operators import FlinkDeployOperator
    from airflow_provider_flink_k8s.sensors import FlinkClusterReadySensor

    deploy = FlinkDeployOperator(
        task_id="deploy",
        application_file="flink-deployment.yaml",
        namespace="flink",
    )
    wait = FlinkClusterReadySensor(
        task_id="wait",
        application_name="clickstream-app",
        namespace="flink",
        attach_log=True,
    )
    deploy >> wait
    # --- end ---
