"""The official provider's way: a FlinkDeployment file as ``application_file``."""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import DAG, Param

from airflow_provider_flink_k8s.operators import FlinkDeployOperator

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"

with DAG(
    dag_id="flink_test_application_file",
    schedule=None,
    template_searchpath=[str(EXAMPLES)],
    params={"namespace": Param("default", type="string")},
):
    FlinkDeployOperator(
        task_id="deploy",
        application_file="specs/clickstream_operator.yaml",
        namespace="{{ params.namespace }}",
        timeout=60,
        poll_interval=0.5,
    )
