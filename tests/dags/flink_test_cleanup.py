"""``deploy >> work >> teardown.as_teardown(setups=deploy)``, the pattern the docs
recommend, for the tests of what a failure leaves behind. The run's config names the
cluster (a spec mapping) and whether the work task fails (``fail_work``).

- ``flink_test_cleanup``: the deploy waits in the worker (a short timeout);
- ``flink_test_cleanup_deferred``: the same, waiting in the trigger (for readiness, and
  after a failure for the deletion of the cluster);
- ``flink_test_cleanup_keep``: ``keep_failed_cluster=True``;
- ``flink_test_cleanup_deferred_keep``: the same, deferrable;
- ``flink_test_cleanup_retries``: the deploy has one retry;
- ``flink_test_cleanup_no_wait``: the deploy does not wait;
- ``flink_test_cleanup_savepoint``: the deploy does not wait; the teardown takes a
  final savepoint, which it requires (the default);
- ``flink_test_cleanup_savepoint_optional``: the same with ``savepoint_required=False``;
- ``flink_test_cleanup_no_wait_fail_run``: the deploy does not wait; the teardown is
  ``as_teardown(..., on_failure_fail_dagrun=True)``;
- ``flink_test_cleanup_leftovers_update`` and ``..._fail``: a first task plays an
  earlier try of the deploy that was killed: it applies the cluster stamped with the
  owner the run's config names (``owner``: ``"deploy"`` for the deploy task instance of
  this run, another key, or ``null`` for no record), then the deploy runs with that
  ``on_exists``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_flink_k8s.operators import FlinkDeployOperator, FlinkTeardownOperator

_PARAMS = {
    "cluster": Param({}, type="object"),
    "fail_work": Param(False, type="boolean"),
}
_DEPLOY: dict[str, Any] = {"timeout": 8, "poll_interval": 0.5, "deferrable": False}

_NO_WAIT = {"wait_for_ready": False}
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    # dag_id: (deploy options, teardown options, as_teardown options)
    "flink_test_cleanup": ({}, {}, {}),
    "flink_test_cleanup_deferred": ({"deferrable": True}, {}, {}),
    "flink_test_cleanup_keep": ({"keep_failed_cluster": True}, {}, {}),
    "flink_test_cleanup_deferred_keep": ({"deferrable": True, "keep_failed_cluster": True}, {}, {}),
    "flink_test_cleanup_retries": ({"retries": 1, "retry_delay": timedelta(0)}, {}, {}),
    "flink_test_cleanup_no_wait": (_NO_WAIT, {}, {}),
    "flink_test_cleanup_savepoint": (_NO_WAIT, {"savepoint": True}, {}),
    "flink_test_cleanup_savepoint_optional": (
        _NO_WAIT,
        {"savepoint": True, "savepoint_required": False},
        {},
    ),
    "flink_test_cleanup_no_wait_fail_run": (_NO_WAIT, {}, {"on_failure_fail_dagrun": True}),
}


@task
def work(params: Any = None) -> None:
    """The pipeline's work: fails when the run's config says so."""
    if params["fail_work"]:
        raise RuntimeError("the work failed")


for dag_id, (deploy_options, teardown_options, as_teardown) in VARIANTS.items():
    with DAG(dag_id=dag_id, schedule=None, render_template_as_native_obj=True, params=_PARAMS):
        deploy = FlinkDeployOperator(
            task_id="deploy", cluster="{{ params.cluster }}", **{**_DEPLOY, **deploy_options}
        )
        teardown = FlinkTeardownOperator(
            task_id="teardown",
            cluster="{{ params.cluster }}",
            timeout=30,
            poll_interval=0.5,
            **teardown_options,
        )
        deploy >> work() >> teardown.as_teardown(setups=deploy, **as_teardown)


@task
def leftovers(params: Any = None, dag_run: Any = None) -> None:
    """What a killed earlier try of ``deploy`` left: the cluster, stamped with ``owner``."""
    from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
    from airflow_provider_flink_k8s.manifests import render_manifests
    from airflow_provider_flink_k8s.observation.ownership import OWNER_ANNOTATION
    from airflow_provider_flink_k8s.spec import load_cluster

    owner = params["owner"]
    if owner == "deploy":  # the deploy task instance of this very run
        owner = f"{dag_run.dag_id}/deploy/{dag_run.run_id}/-1"
    manifests = render_manifests(load_cluster(params["cluster"]))
    for manifest in manifests:
        if owner is not None:
            manifest["metadata"].setdefault("annotations", {})[OWNER_ANNOTATION] = owner
    FlinkKubernetesHook().apply(manifests)


for on_exists in ("update", "fail"):
    with DAG(
        dag_id=f"flink_test_cleanup_leftovers_{on_exists}",
        schedule=None,
        render_template_as_native_obj=True,
        params={
            "cluster": Param({}, type="object"),
            "owner": Param(None, type=["null", "string"]),
        },
    ):
        leftovers() >> FlinkDeployOperator(
            task_id="deploy", cluster="{{ params.cluster }}", on_exists=on_exists, **_DEPLOY
        )
