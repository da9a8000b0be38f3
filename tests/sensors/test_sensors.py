"""The sensors in real DAG runs on a sandbox with simulated containers (no Flink).

Each cluster is applied with the Kubernetes hook, then a one-task DAG of
``tests/dags/flink_test_sensors.py`` runs a sensor on it, poking in the worker and
deferred to the trigger. A failing cluster fails the sensor within seconds, the cause in
the task log; a cluster that is not there times the sensor out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException
from dag_support import deferrals, task_states

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.sensors import FlinkClusterReadySensor, FlinkJobSensor
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox import SandboxServer

MODES = ["", "_deferred"]
FAULT = "sandbox.flink-k8s.io/fault"


def _spec(name: str, **overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2, "replicas": 1},
    }
    spec.update(overrides)
    return spec


@pytest.fixture(scope="module")
def warm_run_dag(simulated_sandbox: SandboxServer, run_dag: Any) -> Any:
    """``run_dag`` after one throw-away run: the first ``dag.test()`` of a session spends
    some 20 s on set-up, which must not count against "fails within seconds"."""
    run_dag("flink_test_sensor_job", {"cluster": _spec("warmup"), "job_id": "warm-up"})
    return run_dag


@pytest.fixture
def hook(simulated_sandbox: SandboxServer) -> Iterator[FlinkKubernetesHook]:
    hook = FlinkKubernetesHook()
    applied: list[str] = []

    def deploy(spec: dict[str, Any]) -> None:
        hook.apply(render_manifests(load_cluster(spec)))
        applied.append(spec["name"])

    hook.deploy = deploy  # type: ignore[attr-defined]
    yield hook
    for name in applied:
        hook.delete_cluster(name, "default", wait=False)


_TASKMANAGER = {"memory": "1024m", "cpu": 0.5, "slots": 2, "replicas": 1}
NEVER = {FAULT: "NeverReady"}

# (case, DAG, spec overrides, what the task log must say)
FAILURES = [
    (
        "pull",
        "failfast",
        {"image": "registry.example.com/does-not-exist:1.0"},
        ["cannot pull image", "does-not-exist"],  # ErrImagePull or ImagePullBackOff
    ),
    ("crash", "failfast", {"annotations": {FAULT: "CrashLoopBackOff"}}, ["CrashLoopBackOff"]),
    (
        "unsched",
        "failfast",
        {"taskmanager": {"memory": "1024m", "cpu": 8, "slots": 2, "replicas": 1}},
        ["Unschedulable", "Insufficient cpu"],
    ),
    (  # the TaskManager's pod never turns Ready, so it never registers with Flink
        "stuck",
        "deadline",
        {"taskmanager": {**_TASKMANAGER, "pod_template": {"metadata": {"annotations": NEVER}}}},
        ["ProgressDeadlineExceeded", "made no progress"],
    ),
]


@pytest.mark.parametrize("mode", MODES, ids=["poke", "deferred"])
@pytest.mark.parametrize(
    ("case", "dag", "overrides", "expected"), FAILURES, ids=[f[0] for f in FAILURES]
)
def test_a_failing_cluster_fails_the_sensor_within_seconds_with_its_cause(
    hook: Any,
    warm_run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    case: str,
    dag: str,
    overrides: dict[str, Any],
    expected: list[str],
    mode: str,
) -> None:
    spec = _spec(case + ("d" if mode else "p"), **overrides)
    hook.deploy(spec)
    dag_run = warm_run_dag(f"flink_test_sensor_{dag}{mode}", {"cluster": spec})
    out = capfd.readouterr().out
    print(out[-6000:])
    assert task_states(dag_run) == {"ready": "failed"}, out[-3000:]
    for text in expected:
        assert text in out, (text, out[-3000:])
    # Failed on the cause (AirflowFailException), before its timeout (AirflowSensorTimeout).
    assert "AirflowFailException" in out, out[-3000:]
    if case == "crash":  # the crash-looping container's last lines are in the task log
        assert "Last log lines of" in out and "sandbox: simulated container" in out


@pytest.mark.parametrize("mode", MODES, ids=["poke", "deferred"])
def test_a_sensor_on_a_missing_cluster_times_out(
    warm_run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    mode: str,
) -> None:
    dag_run = warm_run_dag(f"flink_test_sensor_missing{mode}", {"cluster": _spec("nothing")})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"ready": "failed"}, out[-3000:]
    assert "AirflowSensorTimeout" in out, out[-3000:]
    assert "has no JobManager or TaskManager Deployment" in out


@pytest.mark.parametrize("mode", MODES, ids=["poke", "deferred"])
def test_soft_fail_skips_a_sensor_that_timed_out(warm_run_dag: Any, mode: str) -> None:
    dag_run = warm_run_dag(f"flink_test_sensor_soft{mode}", {"cluster": _spec("nothing")})
    assert task_states(dag_run) == {"ready": "skipped"}


@pytest.mark.parametrize("mode", MODES, ids=["poke", "deferred"])
def test_soft_fail_skips_a_sensor_whose_cluster_failed_and_logs_the_cause(
    hook: Any,
    warm_run_dag: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    mode: str,
) -> None:
    caplog.set_level(logging.INFO)
    image = "registry.example.com/does-not-exist:soft"
    spec = _spec("softpull" + ("d" if mode else "p"), image=image)
    hook.deploy(spec)
    dag_run = warm_run_dag(f"flink_test_sensor_softfail{mode}", {"cluster": spec})
    out = capfd.readouterr().out
    # A failure (not the timeout: 30 s) skips the task, the cause in its log.
    assert task_states(dag_run) == {"ready": "skipped"}, out[-3000:]
    assert "cannot pull image" in out and image in out, out[-3000:]
    assert "AirflowSensorTimeout" not in out
    if not mode:  # the skip's reason is the failure (deferred, the trigger logged it)
        assert "Skipping (soft_fail): " in out, out[-3000:]
    assert deferrals(caplog) == ({"ready": 1} if mode else {})


def test_a_bad_job_id_fails_the_task_naming_the_field(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("flink_test_sensor_job", {"cluster": _spec("badid"), "job_id": "nope"})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"job": "failed"}
    assert "job_id must be a Flink job id (32 hex digits), not 'nope'" in out, out[-3000:]


def test_a_bad_spec_fails_the_task_with_every_problem(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    spec = _spec("badspec", taskmanager={"slots": 0})
    dag_run = run_dag("flink_test_sensor_ready_deferred", {"cluster": spec})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"ready": "failed"}
    assert "taskmanager.slots" in out, out[-3000:]


@pytest.mark.parametrize(
    ("sensor", "arguments", "message"),
    [
        (FlinkJobSensor, {"target_states": ["RUN"]}, "target_states must name Flink job states"),
        (FlinkJobSensor, {"target_states": []}, "got none"),
        (FlinkClusterReadySensor, {"progress_deadline": 0}, "progress_deadline must be > 0"),
        (FlinkClusterReadySensor, {"unschedulable_grace": -1}, "unschedulable_grace must be >="),
        (FlinkClusterReadySensor, {"cluster": None}, "cluster is required"),
        (FlinkClusterReadySensor, {"rest_route": "auto", "poke_interval": -1}, "poke_interval"),
    ],
)
def test_bad_arguments_are_refused_when_the_dag_is_parsed(
    sensor: type[Any], arguments: dict[str, Any], message: str
) -> None:
    arguments = {"cluster": {"name": "x"}, **arguments}
    # Airflow's own poke_interval check raises AirflowException before 3.2, ValueError since.
    with pytest.raises((ValueError, AirflowException), match=message):
        sensor(task_id="s", **arguments)


def test_the_sensors_wait_for_what_the_plan_and_arguments_say() -> None:
    ready = FlinkClusterReadySensor(
        task_id="ready",
        cluster=_spec("plan", taskmanager={"cpu": 1, "memory": "1024m", "slots": 3, "replicas": 2}),
        namespace="elsewhere",
        progress_deadline=30,
    )
    wait = ready.flink_wait
    assert (wait.kind, wait.name, wait.namespace) == ("cluster", "plan", "elsewhere")
    assert (wait.expected_taskmanagers, wait.expected_slots) == (2, 6)
    assert wait.progress_deadline_seconds == 30
    job = FlinkJobSensor(
        task_id="job",
        cluster=_spec("plan"),
        target_states="finished",
        job_id="a1b2c3d4e5f60718293a4b5c6d7e8f90",
    )
    assert job.flink_wait.kind == "job"
    assert job.flink_wait.target_states == ("FINISHED",)
    assert job.flink_wait.job_id == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert "job_id" in job.template_fields and "cluster" in job.template_fields
