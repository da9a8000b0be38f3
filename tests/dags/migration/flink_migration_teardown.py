"""docs/migration.md, the same deployment with this provider's teardown (the test compares
the block between the markers with the doc's and runs the DAG on the stand-in operator)."""

from __future__ import annotations

from airflow.sdk import DAG

with DAG(dag_id="flink_migration_teardown", schedule=None):
    # --- docs/migration.md ---
    from airflow_provider_flink_k8s.operators import FlinkDeployOperator, FlinkTeardownOperator

    deploy = FlinkDeployOperator(
        task_id="deploy",
        application_file="flink-deployment.yaml",  # or cluster="flink-deployment.yaml"
        namespace="flink",
    )
    teardown = FlinkTeardownOperator(
        task_id="teardown", cluster="flink-deployment.yaml", namespace="flink", savepoint=True
    ).as_teardown(setups=deploy)
    deploy >> teardown
    # --- end ---
