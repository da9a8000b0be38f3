"""FlinkDeployOperator in real DAG runs on a sandbox with simulated containers."""

from __future__ import annotations

import time
from typing import Any

import pytest
from dag_support import task_states

from airflow_provider_flink_k8s.sandbox import SandboxServer


def _spec(name: str, **overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2, "replicas": 1},
    }
    spec.update(overrides)
    return spec


@pytest.mark.parametrize("dag_id", ["flink_test_deploy", "flink_test_deploy_deferred"])
def test_an_image_that_cannot_be_pulled_fails_the_task_fast(
    simulated_sandbox: SandboxServer, run_dag: Any, dag_id: str
) -> None:
    name = "pull" + ("d" if "deferred" in dag_id else "s")
    spec = _spec(name, image="registry.example.com/does-not-exist:1.0")
    started = time.monotonic()
    dag_run = run_dag(dag_id, {"cluster": spec})
    assert task_states(dag_run) == {"deploy": "failed"}
    assert time.monotonic() - started < 30
