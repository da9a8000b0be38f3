"""Task arguments: a bad literal value fails the task's creation (so the DAG file's
import), a bad templated one the task once rendered -- with the same message."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from dag_support import load_dag_bag, orders_jar, task_states

from airflow_provider_flink_k8s.operators import (
    FlinkDeployOperator,
    FlinkRescaleOperator,
    FlinkSavepointOperator,
    FlinkSubmitJobOperator,
    FlinkTeardownOperator,
)
from airflow_provider_flink_k8s.sensors import FlinkClusterReadySensor, FlinkJobSensor

SESSION = {"name": "orders", "mode": "session"}
TYPO = {"name": "orders", "mode": "session", "taskmanger": {"slots": 2}}
TINY = {"name": "orders", "mode": "session", "taskmanager": {"memory": "100m"}}

EVERY_TASK: list[tuple[type[Any], dict[str, Any]]] = [
    (FlinkDeployOperator, {}),
    (FlinkSubmitJobOperator, {"jar": "https://example.com/job.jar"}),
    (FlinkRescaleOperator, {"parallelism": 2}),
    (FlinkSavepointOperator, {}),
    (FlinkTeardownOperator, {}),
    (FlinkClusterReadySensor, {}),
    (FlinkJobSensor, {}),
]
TASK_IDS = [task.__name__ for task, _ in EVERY_TASK]
DEFAULTS: dict[str, dict[str, Any]] = {
    "flink_test_arguments_submit": {"jar": None, "args": [], "parallelism": None},
    "flink_test_arguments_rescale": {"parallelism": 2, "strategy": "auto"},
}


def _message(
    task: type[Any], errors: tuple[type[Exception], ...] = (ValueError,), **arguments: Any
) -> str:
    """The error creating ``task`` with ``arguments`` raises (it must raise one of
    ``errors``: every check of ours raises a ``ValueError``)."""
    with pytest.raises(errors) as raised:
        task(task_id="t", **arguments)
    return str(raised.value)


@pytest.mark.parametrize(("task", "arguments"), EVERY_TASK, ids=TASK_IDS)
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"rest_route": "proxy"}, "rest_route must be one of auto, cluster_dns, service_proxy"),
        ({"cluster": TYPO}, "taskmanger: unknown field"),
        ({"cluster": TINY}, "taskmanager.memory: does not fit Flink's memory model"),
        ({"in_cluster": "yes"}, "in_cluster must be True, False or None, not 'yes'"),
        ({"cluster_context": ""}, "cluster_context must be a non-empty string"),
        ({"poll_interval": 0}, "must be > 0 seconds, not 0"),
    ],
    ids=["rest_route", "spec-typo", "spec-memory", "in_cluster", "cluster_context", "interval"],
)
def test_every_task_refuses_a_bad_literal_argument_when_it_is_created(
    task: type[Any], arguments: dict[str, Any], bad: dict[str, Any], message: str
) -> None:
    errors: tuple[type[Exception], ...] = (ValueError,)
    if "poll_interval" in bad and task in (FlinkClusterReadySensor, FlinkJobSensor):
        from airflow.exceptions import AirflowException

        bad = {"poke_interval": -1}
        message = "poke_interval"
        # Airflow's own check: AirflowException before 3.2, ValueError since.
        errors = (ValueError, AirflowException)
    assert message in _message(task, errors, **{"cluster": SESSION, **arguments, **bad})


@pytest.mark.parametrize(
    ("task", "arguments", "message"),
    [
        (FlinkRescaleOperator, {"parallelism": 0}, "parallelism: must be >= 1, got 0"),
        (
            FlinkRescaleOperator,
            {"parallelism": 2, "strategy": "inplace"},
            "strategy: must be one of auto, in_place, savepoint_restart, got 'inplace'",
        ),
        (
            FlinkRescaleOperator,
            {"parallelism": 2, "args": "a b"},
            "args must be a list of strings (one per argument), not the string 'a b'",
        ),
        (
            FlinkSubmitJobOperator,
            {"jar": "https://example.com/job.jar", "args": "a b"},
            "args must be a list of strings (one per argument), not the string 'a b'",
        ),
        (
            FlinkSubmitJobOperator,
            {"jar": "/nowhere/job.jar"},
            "jar: no such file '/nowhere/job.jar' on the Airflow worker",
        ),
        (FlinkSubmitJobOperator, {}, "jar is required: a jar file to upload, or give jar_id"),
        (
            FlinkSubmitJobOperator,
            {"jar": "https://example.com/job.jar", "parallelism": 0},
            "parallelism must be at least 1, not 0",
        ),
        (
            FlinkSubmitJobOperator,
            {"cluster": {**SESSION, "target": "operator"}, "jar": "/opt/job.jar"},
            "jar must be a URI the Flink operator can fetch",
        ),
        (FlinkJobSensor, {"job_id": "nope"}, "job_id must be a Flink job id (32 hex digits)"),
        (
            FlinkSubmitJobOperator,
            {"cluster": None, "jar": "https://example.com/job.jar"},
            "cluster is required (or a session_job naming its deploymentName)",
        ),
        (
            FlinkSubmitJobOperator,
            {"session_job": "- a FlinkSessionJob\n- as a list"},
            "session_job: must be a FlinkSessionJob mapping, file or text",
        ),
        (FlinkDeployOperator, {"on_exists": "replace"}, "on_exists must be 'update', 'fail'"),
        (
            FlinkDeployOperator,
            {"application_file": "specs/app.yaml"},
            "application_file and cluster must not both be given",
        ),
        (FlinkDeployOperator, {"api_version": "v1"}, "api_version must be 'v1beta1'"),
        (FlinkClusterReadySensor, {"plural": "flinkapps"}, "plural must be 'flinkdeployments'"),
        (
            FlinkClusterReadySensor,
            {"cluster": None, "application_name": "a", "taskmanager_pods_namespace": "tm"},
            "taskmanager_pods_namespace must be the FlinkDeployment's namespace",
        ),
        (
            FlinkJobSensor,
            {"application_name": "orders"},
            "application_name and cluster must not both be given",
        ),
    ],
)
def test_a_bad_literal_argument_is_refused_naming_it_and_its_rule(
    task: type[Any], arguments: dict[str, Any], message: str
) -> None:
    assert message in _message(task, **{"cluster": SESSION, **arguments})


def test_a_literal_flink_session_job_is_validated_when_the_task_is_created() -> None:
    corpus = Path(__file__).resolve().parents[1] / "data" / "flinkdeployments"
    _, job = yaml.safe_load_all((corpus / "session-cluster-and-job.yaml").read_text())
    FlinkSubmitJobOperator(task_id="t", session_job=job)
    job["spec"]["jobb"] = {}
    message = _message(FlinkSubmitJobOperator, session_job=job)
    assert "spec.jobb: unknown FlinkSessionJob field" in message, message


def test_a_submit_to_an_application_cluster_is_refused_once_rendered(
    run_dag: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    application = {"name": "orders", "job": {"jar_uri": "local:///opt/flink/usrlib/job.jar"}}
    conf = {**DEFAULTS["flink_test_arguments_submit"], "cluster": application}
    dag_run = run_dag("flink_test_arguments_submit", {**conf, "jar": str(orders_jar(tmp_path))})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"submit": "failed"}
    assert (
        "cluster orders runs in application mode; jobs are submitted to session clusters "
        "(an application cluster runs its spec's job)"
    ) in out, out[-3000:]


def test_templated_and_file_values_wait_for_rendering() -> None:
    FlinkSubmitJobOperator(
        task_id="t",
        cluster="{{ params.cluster }}",
        jar="{{ params.jar }}",
        args="{{ params.args }}",
        parallelism="{{ params.parallelism }}",
    )
    FlinkRescaleOperator(task_id="t", cluster="specs/orders.yaml", parallelism="{{ params.p }}")
    FlinkDeployOperator(task_id="t", cluster={"name": "{{ params.name }}", "mode": "session"})


def test_a_bad_literal_argument_is_an_import_error_of_the_dag_file(
    airflow_db: None, tmp_path: Path
) -> None:
    (tmp_path / "bad_rescale.py").write_text(
        textwrap.dedent(
            """
            from airflow.sdk import DAG
            from airflow_provider_flink_k8s.operators import FlinkRescaleOperator

            with DAG(dag_id="bad_rescale", schedule=None):
                FlinkRescaleOperator(
                    task_id="rescale", cluster={"name": "orders", "mode": "session"},
                    parallelism=0,
                )
            """
        )
    )
    bag = load_dag_bag(dag_folder=str(tmp_path))
    assert bag.dag_ids == []
    (error,) = bag.import_errors.values()
    assert "parallelism: must be >= 1, got 0" in error, error


@pytest.mark.parametrize(
    ("dag_id", "conf", "literal"),
    [
        (
            "flink_test_arguments_submit",
            {"cluster": SESSION, "jar": "https://example.com/job.jar", "args": "a b"},
            (FlinkSubmitJobOperator, {"jar": "https://example.com/job.jar", "args": "a b"}),
        ),
        (
            "flink_test_arguments_submit",
            {"cluster": SESSION, "jar": "/nowhere/job.jar"},
            (FlinkSubmitJobOperator, {"jar": "/nowhere/job.jar"}),
        ),
        (
            "flink_test_arguments_submit",
            {"cluster": TYPO, "jar": "https://example.com/job.jar"},
            (FlinkSubmitJobOperator, {"cluster": TYPO, "jar": "https://example.com/job.jar"}),
        ),
        (
            "flink_test_arguments_rescale",
            {"cluster": SESSION, "strategy": "inplace"},
            (FlinkRescaleOperator, {"parallelism": 2, "strategy": "inplace"}),
        ),
    ],
    ids=["args", "jar", "spec", "strategy"],
)
def test_a_templated_value_is_checked_once_rendered_with_the_same_message(
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    dag_id: str,
    conf: dict[str, Any],
    literal: tuple[type[Any], dict[str, Any]],
) -> None:
    task, arguments = literal
    message = _message(task, **{"cluster": SESSION, **arguments})
    dag_run = run_dag(dag_id, {**DEFAULTS[dag_id], **conf})  # a run keeps the last one's
    out = capfd.readouterr().out
    assert set(task_states(dag_run).values()) == {"failed"}
    for line in message.splitlines():
        assert line in out, (line, out[-3000:])
