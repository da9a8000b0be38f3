"""DAGs for the cncf.kubernetes arguments every task takes (``config_file``,
``cluster_context``, ``in_cluster``, each overriding the connection's).

- ``flink_test_kube_options``: deploy a FlinkDeployment file and wait on it by name, both
  deferred, through a connection that points nowhere: only ``config_file`` and
  ``cluster_context`` (from the run's config) reach the sandbox;
- ``flink_test_in_cluster``: a deploy with ``in_cluster=True`` outside any cluster.
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import DAG, Param

from airflow_provider_flink_k8s.operators import FlinkDeployOperator
from airflow_provider_flink_k8s.sensors import FlinkClusterReadySensor

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"

with DAG(
    dag_id="flink_test_kube_options",
    schedule=None,
    template_searchpath=[str(EXAMPLES)],
    params={
        "namespace": Param("default", type="string"),
        "config_file": Param("", type="string"),
        "context": Param("", type="string"),
    },
):
    options = {
        "kubernetes_conn_id": "flink_nowhere",
        "config_file": "{{ params.config_file }}",
        "cluster_context": "{{ params.context }}",
        "deferrable": True,
    }
    deploy = FlinkDeployOperator(
        task_id="deploy",
        application_file="specs/clickstream_operator.yaml",
        namespace="{{ params.namespace }}",
        timeout=60,
        poll_interval=0.5,
        **options,
    )
    wait = FlinkClusterReadySensor(
        task_id="wait",
        application_name="clickstream-app",
        namespace="{{ params.namespace }}",
        attach_log=True,
        timeout=30,
        poke_interval=0.5,
        **options,
    )
    deploy >> wait

with DAG(dag_id="flink_test_in_cluster", schedule=None, template_searchpath=[str(EXAMPLES)]):
    FlinkDeployOperator(
        task_id="deploy",
        application_file="specs/clickstream_operator.yaml",
        kubernetes_conn_id="flink_plain",
        in_cluster=True,
        timeout=10,
    )
