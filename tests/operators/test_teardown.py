"""FlinkTeardownOperator on the simulated sandbox (no Flink): deletion, idempotency, and
Airflow's teardown semantics (it runs although the work failed)."""

from __future__ import annotations

from typing import Any

import pytest
from dag_support import task_states

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.operators.teardown import FlinkTeardownOperator
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox import SandboxServer


def _spec(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.25},
        "taskmanager": {"memory": "1024m", "cpu": 0.25, "slots": 1, "replicas": 2},
    }


def _left(name: str) -> list[str]:
    """What the cluster's labels are still on (any kind the teardown deletes)."""
    hook = FlinkKubernetesHook()
    snapshot = hook.observe(name, "default", log_lines=0)
    return [d.name for d in snapshot.deployments] + [p.name for p in snapshot.pods]


def test_teardown_deletes_every_object_and_a_second_teardown_succeeds(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    hook = FlinkKubernetesHook()
    applied = hook.apply(render_manifests(load_cluster(_spec("gone"))))
    assert len(applied.objects) >= 5

    dag_run = run_dag("flink_test_jobs_teardown_plain", {"cluster": _spec("gone")})
    assert task_states(dag_run) == {"teardown": "success"}
    assert dag_run.get_task_instance("teardown").xcom_pull(task_ids="teardown") is None
    out = capfd.readouterr().out
    assert "Deleted " in out and "nothing is left" in out, out[-3000:]
    assert _left("gone") == []
    assert hook.delete_cluster("gone", "default").already_gone

    dag_run = run_dag("flink_test_jobs_teardown_plain", {"cluster": _spec("gone")})
    assert task_states(dag_run) == {"teardown": "success"}
    assert "was already gone" in capfd.readouterr().out


def test_teardown_of_a_cluster_never_deployed_succeeds_even_with_a_savepoint(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("flink_test_jobs_teardown", {"cluster": _spec("never")})
    assert task_states(dag_run) == {"teardown": "success"}
    out = capfd.readouterr().out
    assert "no job to savepoint" in out and "was already gone" in out, out[-3000:]


def test_as_teardown_runs_after_a_failed_work_task_and_removes_the_cluster(
    simulated_sandbox: SandboxServer, run_dag: Any
) -> None:
    dag_run = run_dag("flink_test_jobs_as_teardown", {"cluster": _spec("setup")})
    assert task_states(dag_run) == {"deploy": "success", "work": "failed", "teardown": "success"}
    assert dag_run.state == "failed"
    assert _left("setup") == []
    assert FlinkKubernetesHook().delete_cluster("setup", "default").already_gone


def test_bad_arguments_are_refused_when_the_dag_is_written() -> None:
    with pytest.raises(ValueError, match="format_type must be one of CANONICAL, NATIVE"):
        FlinkTeardownOperator(task_id="t", cluster={"name": "x"}, format_type="native")
    with pytest.raises(ValueError, match="timeout must be > 0"):
        FlinkTeardownOperator(task_id="t", cluster={"name": "x"}, timeout=0)


@pytest.fixture
def operator_sandbox(tmp_path: Any, simulated_sandbox: SandboxServer) -> Any:
    """A sandbox with the stand-in Flink Kubernetes Operator, for this test only."""
    from dag_support import FAST_TIMING, use_sandbox

    kubeconfig = tmp_path / "config"
    with SandboxServer(timing=FAST_TIMING, flink_operator=True) as sandbox:
        sandbox.write_kubeconfig(kubeconfig)
        use_sandbox(kubeconfig)
        try:
            yield sandbox
        finally:
            simulated_sandbox.write_kubeconfig(kubeconfig)
            use_sandbox(kubeconfig)


def test_operator_target_session_job_is_applied_once_and_removed_by_teardown(
    operator_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    spec = {**_spec("sess"), "target": "operator"}
    FlinkKubernetesHook().apply(render_manifests(load_cluster(spec)))
    conf = {"cluster": spec, "jar": "https://example.com/job.jar", "jar_id": None, "args": []}
    first = run_dag("flink_test_jobs_submit", conf)
    assert task_states(first) == {"submit": "success"}, capfd.readouterr().out[-3000:]
    job_id = first.get_task_instance("submit").xcom_pull(task_ids="submit")
    again = run_dag("flink_test_jobs_submit", conf)
    assert again.get_task_instance("submit").xcom_pull(task_ids="submit") == job_id
    local = {**conf, "jar": "/tmp/job.jar"}
    assert task_states(run_dag("flink_test_jobs_submit", local)) == {"submit": "failed"}
    assert "jar must be a URI the Flink operator can fetch" in capfd.readouterr().out

    dag_run = run_dag("flink_test_jobs_teardown_plain", {**conf, "cluster": spec})
    assert task_states(dag_run) == {"teardown": "success"}
    assert "Deleting FlinkSessionJob sess-submit" in capfd.readouterr().out
    assert FlinkKubernetesHook().delete_cluster("sess", "default").already_gone
