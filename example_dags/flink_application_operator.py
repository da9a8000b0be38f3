"""An application cluster through the Flink Kubernetes Operator: a FlinkDeployment file.

::

    deploy -> wait_running -> savepoint            (teardown runs whatever happens)

``specs/clickstream_operator.yaml`` is a FlinkDeployment as the operator's own examples
write one; the deploy task applies it (server-side apply, idempotent) and waits until
the operator reports it READY with the job RUNNING -- failing at once with the cause
when the operator reports an error, the JobManager cannot start or a pod cannot be
scheduled. The savepoint goes through the operator too (``savepointTriggerNonce``), and
the teardown suspends the job with a savepoint before deleting the FlinkDeployment.

On the embedded sandbox (``SandboxServer(flink_operator=True)``) a stand-in reconciler
moves the FlinkDeployment through the operator's real states; on a real cluster, install
the Flink Kubernetes Operator and point ``kubernetes_default`` at it.
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import DAG

from airflow_provider_flink_k8s.operators import (
    FlinkDeployOperator,
    FlinkSavepointOperator,
    FlinkTeardownOperator,
)
from airflow_provider_flink_k8s.sensors import FlinkJobSensor

HERE = Path(__file__).resolve().parent
APPLICATION = "specs/clickstream_operator.yaml"

with DAG(
    dag_id="flink_application_operator",
    description="Run an application cluster as a FlinkDeployment of the Flink operator",
    schedule=None,
    catchup=False,
    tags=["flink", "example", "flink-kubernetes-operator"],
    template_searchpath=[str(HERE)],
) as dag:
    deploy = FlinkDeployOperator(task_id="deploy", cluster=APPLICATION, timeout=300)

    running = FlinkJobSensor(
        task_id="wait_running", cluster=APPLICATION, deferrable=True, timeout=300
    )

    savepoint = FlinkSavepointOperator(task_id="savepoint", cluster=APPLICATION)

    teardown = FlinkTeardownOperator(
        task_id="teardown", cluster=APPLICATION, savepoint=True, savepoint_required=False
    ).as_teardown(setups=deploy)

    deploy >> running >> savepoint >> teardown
