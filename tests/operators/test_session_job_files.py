"""FlinkSubmitJobOperator with a FlinkSessionJob as the Flink Kubernetes Operator takes it.

On the simulated sandbox with the stand-in operator: the session FlinkDeployment of the
operator's own example is deployed, then its FlinkSessionJob is submitted from the
run's config, unchanged; bad FlinkSessionJobs fail before anything is written.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from dag_support import task_states
from operator_target import deploy_session_example

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.kube.resources import FLINK_SESSION_JOB
from flink_k8s_sandbox import SandboxServer


@pytest.fixture(scope="module")
def session(simulated_sandbox: SandboxServer) -> dict[str, Any]:
    """The example's session FlinkDeployment, deployed and STABLE; its FlinkSessionJob."""
    return deploy_session_example()


def _same_user_fields(given: Any, applied: Any, where: str = "") -> None:
    if isinstance(given, dict):
        for key, value in given.items():
            assert isinstance(applied, dict) and key in applied, f"{where}.{key} was dropped"
            _same_user_fields(value, applied[key], f"{where}.{key}")
    else:
        assert given == applied, f"{where}: {given!r} became {applied!r}"


def test_a_flink_session_job_runs_unchanged(
    session: dict[str, Any], run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("flink_test_session_job", {"session_job": session})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"submit": "success"}, out[-4000:]
    job_id = dag_run.get_task_instance("submit").xcom_pull(task_ids="submit")
    assert len(job_id) == 32
    name = session["metadata"]["name"]
    applied = FlinkKubernetesHook().get_object(FLINK_SESSION_JOB, "default", name)
    assert applied is not None
    _same_user_fields(session["spec"], applied["spec"], "spec")
    assert applied["status"]["jobStatus"]["jobId"] == job_id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda job: job.update(kind="FlinkDeployment"),
            "kind: 'FlinkDeployment' is not a FlinkSessionJob",
        ),
        (lambda job: job["spec"].update(jobb={}), "spec.jobb: unknown FlinkSessionJob field"),
        (
            lambda job: job["spec"]["job"].update(parallelism=0),
            "spec.job.parallelism: Input should be greater than or equal to 1",
        ),
        (
            lambda job: job["spec"].update(deploymentName="Not_A_Name"),
            "spec.deploymentName: 'Not_A_Name' is not a DNS-1035 label",
        ),
    ],
)
def test_a_bad_flink_session_job_fails_before_anything_is_written(
    session: dict[str, Any],
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    change: Any,
    message: str,
) -> None:
    bad = copy.deepcopy(session)
    bad["metadata"]["name"] = "bad-session-job"
    change(bad)
    dag_run = run_dag("flink_test_session_job", {"session_job": bad})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"submit": "failed"}
    assert message in out, out[-3000:]
    assert FlinkKubernetesHook().get_object(FLINK_SESSION_JOB, "default", "bad-session-job") is None


@pytest.mark.parametrize(
    ("cluster", "jar", "message"),
    [
        (
            None,
            "https://example.com/other.jar",
            "session_job describes the job: do not also give jar",
        ),
        (
            {"name": "elsewhere", "mode": "session", "target": "operator"},
            None,
            "session_job spec.deploymentName is '{deployment}', but the cluster is 'elsewhere'",
        ),
    ],
    ids=["jar-too", "other-cluster"],
)
def test_a_flink_session_job_contradicting_the_tasks_arguments_is_refused_before_writing(
    session: dict[str, Any],
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    cluster: dict[str, Any] | None,
    jar: str | None,
    message: str,
) -> None:
    job = copy.deepcopy(session)
    job["metadata"]["name"] = "contradicted"
    deployment = job["spec"]["deploymentName"]
    given = cluster or {"name": deployment, "mode": "session", "target": "operator"}
    conf = {"cluster": given, "session_job": job, "jar": jar}
    dag_run = run_dag("flink_test_session_job_and_arguments", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"submit": "failed"}
    assert message.format(deployment=deployment) in out, out[-3000:]
    assert FlinkKubernetesHook().get_object(FLINK_SESSION_JOB, "default", "contradicted") is None
