"""docs/migration.md, "Going further": the same FlinkDeployment file without the Flink
Kubernetes Operator (the test compares the block between the markers with the doc's and
runs the DAG on real Flink)."""

from __future__ import annotations

from airflow.sdk import DAG

with DAG(dag_id="flink_migration_standalone", schedule=None):
    # --- docs/migration.md ---
    from pathlib import Path

    from airflow_provider_flink_k8s.operators import FlinkDeployOperator, FlinkTeardownOperator
    from airflow_provider_flink_k8s.spec import load_cluster

    cluster = load_cluster(Path(__file__).parent / "flink-deployment.yaml", target="standalone")
    deploy = FlinkDeployOperator(task_id="deploy", cluster=cluster)
    teardown = FlinkTeardownOperator(task_id="teardown", cluster=cluster).as_teardown(setups=deploy)
    deploy >> teardown
    # --- end ---
