"""One-task DAGs for the tests of deploys and teardowns of the same cluster racing each
other, run as separate runs (``airflow tasks test`` processes on their own run ids). The
run's config names the cluster (a spec mapping).

- ``flink_test_race_update``: a deploy with the default ``on_exists="update"``;
- ``flink_test_race_fail``: a deploy with ``on_exists="fail"``;
- ``flink_test_race_deferred``: ``flink_test_race_update``, deferrable (``airflow tasks
  test`` runs the trigger in the task's process);

The deploys' timeout is long: the tests end them (a kill, a teardown), never their
timeout, which only bounds a hang.
- ``flink_test_race_teardown``: a teardown.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_flink_k8s.operators import FlinkDeployOperator, FlinkTeardownOperator

_PARAMS = {"cluster": Param({}, type="object")}
_OPTIONS = {"poll_interval": 0.5, "deferrable": False}

for suffix, on_exists, deferrable in (
    ("update", "update", False),
    ("fail", "fail", False),
    ("deferred", "update", True),
):
    with DAG(
        dag_id=f"flink_test_race_{suffix}",
        schedule=None,
        render_template_as_native_obj=True,
        params=_PARAMS,
    ):
        FlinkDeployOperator(
            task_id="deploy",
            cluster="{{ params.cluster }}",
            on_exists=on_exists,
            timeout=240,
            **{**_OPTIONS, "deferrable": deferrable},
        )

with DAG(
    dag_id="flink_test_race_teardown",
    schedule=None,
    render_template_as_native_obj=True,
    params=_PARAMS,
):
    FlinkTeardownOperator(
        task_id="teardown", cluster="{{ params.cluster }}", timeout=60, **_OPTIONS
    )
