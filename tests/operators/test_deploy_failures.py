"""FlinkDeployOperator in real DAG runs on a sandbox with simulated containers: what
fails, fails fast with its cause -- and a bad input fails before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dag_support import load_dag_bag, task_states

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.operators.base import cluster_from
from flink_k8s_sandbox import SandboxServer

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
PULL = ("ErrImagePull", "ImagePullBackOff")


def _spec(name: str, **overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2, "replicas": 1},
    }
    spec.update(overrides)
    return spec


def _nothing_deployed(name: str) -> bool:
    snapshot = FlinkKubernetesHook().observe(name, "default", log_lines=0)
    return not (snapshot.deployments or snapshot.pods)


@pytest.mark.parametrize("dag_id", ["flink_test_deploy", "flink_test_deploy_deferred"])
def test_an_image_that_cannot_be_pulled_fails_the_task_fast(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    dag_id: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    name = "pull" + ("d" if "deferred" in dag_id else "s")
    spec = _spec(name, image="registry.example.com/does-not-exist:1.0")
    dag_run = run_dag(dag_id, {"cluster": spec})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "failed"}
    # Failed on its cause (below), before its timeout (that would be a DeploymentTimeout).
    # ErrImagePull, or ImagePullBackOff once the kubelet backs off: whichever is seen.
    assert any(f"DeploymentFailed: {reason}: JobManager pod" in out for reason in PULL), out[-3000:]
    assert 'cannot pull image "registry.example.com/does-not-exist:1.0"' in out


def test_a_bad_spec_fails_before_anything_is_written(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    spec = _spec("badspec", taskmanager={"memory": "1024m", "slots": 0}, jobmanager="big")
    dag_run = run_dag("flink_test_deploy", {"cluster": spec})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "failed"}
    assert "SpecError: invalid cluster spec" in out, out[-3000:]
    assert "taskmanager.slots: Input should be greater than or equal to 1" in out
    assert "jobmanager:" in out
    assert _nothing_deployed("badspec")


def test_a_cluster_that_cannot_fit_the_nodes_is_refused_before_anything_is_written(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    spec = _spec("toobig", taskmanager={"memory": "2g", "cpu": 64, "slots": 2, "replicas": 2})
    dag_run = run_dag("flink_test_deploy", {"cluster": spec})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "failed"}
    assert "DeploymentFailed: Unschedulable: Flink cluster default/toobig does not fit" in out
    assert "need 64 CPU each" in out, out[-3000:]
    assert _nothing_deployed("toobig")


def test_on_exists_fail_refuses_an_existing_cluster_and_adopt_keeps_it(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    spec = _spec("exists")
    dag_run = run_dag("flink_test_deploy_no_wait", {"cluster": spec})
    assert task_states(dag_run) == {"deploy": "success"}
    first = dag_run.get_task_instance("deploy").xcom_pull(task_ids="deploy")
    assert first["applied"]["created"] == 5
    dag_run = run_dag("flink_test_deploy_on_exists_fail", {"cluster": spec})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "failed"}
    assert "AlreadyExists: Flink cluster default/exists already exists" in out
    # A different spec, adopted: nothing is applied, the cluster keeps its first spec.
    bigger = _spec("exists", taskmanager={"memory": "1024m", "cpu": 0.5, "slots": 4})
    dag_run = run_dag("flink_test_deploy_adopt", {"cluster": bigger})
    assert task_states(dag_run) == {"deploy": "success"}
    adopted = dag_run.get_task_instance("deploy").xcom_pull(task_ids="deploy")
    assert adopted["applied"] == {}
    FlinkKubernetesHook().delete_cluster("exists", "default", timeout=30)


def test_the_ui_params_of_the_example_pipeline_size_the_cluster(airflow_db: None) -> None:
    dag = load_dag_bag(dag_folder=str(EXAMPLES / "flink_batch_to_stream.py")).get_dag(
        "flink_batch_to_stream"
    )
    assert dag is not None
    task = dag.get_task("deploy_session_cluster")
    params = {
        **{name: param.value for name, param in dag.params.items()},
        "taskmanagers": 3,
        "taskmanager_memory": "2g",
        "taskmanager_slots": 4,
    }
    task.render_template_fields({"params": params})  # type: ignore[arg-type]
    cluster = cluster_from(task.cluster)  # type: ignore[attr-defined]
    assert cluster.taskmanager.replicas == 3
    assert cluster.taskmanager.slots == 4
    assert str(cluster.taskmanager.memory) in ("2g", "2048m", "2 gb", "2147483648")
