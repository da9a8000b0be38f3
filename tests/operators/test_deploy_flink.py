"""FlinkDeployOperator with real Flink: a session cluster ready, then the same spec again."""

from __future__ import annotations

from typing import Any

import pytest
from dag_support import LocalSandbox, task_states

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook

pytestmark = pytest.mark.slow


def _spec(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2, "replicas": 2},
    }


def test_a_session_cluster_is_ready_with_every_taskmanager_and_a_redeploy_changes_nothing(
    local_sandbox: LocalSandbox, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("flink_test_deploy_deferred", {"cluster": _spec("ready")})
    assert task_states(dag_run) == {"deploy": "success"}
    first = dag_run.get_task_instance("deploy").xcom_pull(task_ids="deploy")
    out = capfd.readouterr().out
    print(out[-6000:])
    assert first["plan"]["taskmanagers"] == 2
    assert first["applied"]["created"] >= 5 and first["applied"]["unchanged"] == 0
    assert "2 TaskManagers" in out, out[-3000:]
    dag_run = run_dag("flink_test_deploy", {"cluster": _spec("ready")})
    assert task_states(dag_run) == {"deploy": "success"}
    second = dag_run.get_task_instance("deploy").xcom_pull(task_ids="deploy")
    assert second["applied"]["unchanged"] == first["applied"]["created"]
    assert second["applied"]["created"] == second["applied"]["configured"] == 0
    FlinkKubernetesHook().delete_cluster("ready", "default", timeout=60)
