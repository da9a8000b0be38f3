"""DAGs for the "Flink Web UI" link: tasks that never reach a cluster, and a deploy
whose spec names the address people browse to.

``render_template_as_native_obj`` turns ``{{ params.cluster }}`` into the mapping itself.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_flink_k8s.operators import FlinkDeployOperator, FlinkTeardownOperator
from airflow_provider_flink_k8s.spec import FlinkCluster

with DAG(
    dag_id="flink_test_link_teardown_missing",
    schedule=None,
    render_template_as_native_obj=True,
    params={"cluster": Param({}, type="object")},
):
    FlinkTeardownOperator(task_id="teardown", cluster="{{ params.cluster }}", timeout=30)

with DAG(
    dag_id="flink_test_link_bad_spec",
    schedule=None,
    render_template_as_native_obj=True,
    params={"cluster": Param({}, type="object")},
):
    FlinkDeployOperator(task_id="deploy", cluster="{{ params.cluster }}", timeout=30)

with DAG(dag_id="flink_test_rendered_cluster", schedule=None):
    # A FlinkCluster object as the cluster: the "Rendered Template" view shows it as YAML.
    FlinkTeardownOperator(
        task_id="teardown",
        cluster=FlinkCluster(
            name="rendered", mode="session", taskmanager={"memory": "2g", "slots": 2}
        ),
        timeout=30,
    )

with DAG(
    dag_id="flink_test_link_flink_conn",
    schedule=None,
    render_template_as_native_obj=True,
    params={"cluster": Param({}, type="object")},
):
    # Flink's REST API behind an ingress (the `flink_ingress` connection): the dashboard
    # is served at the same address.
    FlinkDeployOperator(
        task_id="deploy",
        cluster="{{ params.cluster }}",
        flink_conn_id="flink_ingress",
        wait_for_ready=False,
    )
