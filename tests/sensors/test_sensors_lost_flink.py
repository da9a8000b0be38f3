"""Lost is not pending, with real Flink: a JobManager restart that loses a running job
fails the job sensor as ``JobLost``; a job not submitted yet is still awaited.

Flink without high availability keeps its jobs in the JobManager process: a new
JobManager pod, or the old pod's restarted container, lists none. The job sensor and the
submit operator's wait (the trigger's loop) fail as ``JobLost`` then. One small session
cluster serves the module; the tests run in file order, each leaving the cluster up
with its TaskManager registered for the next. While ``dag.test()`` runs the sensor, a
thread plays the JobManager's fate once the sensor waits (its task instance queued,
running, rescheduled or deferred) and the sensor had a few polls to see the job.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dag_support import LocalSandbox, task_states
from kubernetes import client

from airflow_provider_flink_k8s.flinkrest import FlinkRestService, RetryPolicy
from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation import PodState
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox.flink import SQL_RUNNER_CLASS, SQL_RUNNER_JAR
from flink_k8s_sandbox.flink.process import live_processes

# JobManagers are killed under waiting sensors: `make test-kill`.
pytestmark = [pytest.mark.slow, pytest.mark.kill]

NAME = "lost"
SPEC: dict[str, Any] = {
    "name": NAME,
    "mode": "session",
    "jobmanager": {"memory": "1024m", "cpu": 0.5},
    "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2, "replicas": 1},
    "flink_configuration": {"restart-strategy.type": "none"},
}
SETTLE = 4.0
"""Seconds the sensor waits, polling every second or less, before the JobManager goes."""
HA_HINT = "Flink without high availability forgets its jobs when the JobManager restarts"


@pytest.fixture(scope="module")
def kube(local_sandbox: LocalSandbox) -> Iterator[FlinkKubernetesHook]:
    """The cluster, applied; deleted after the module."""
    hook = FlinkKubernetesHook()
    hook.apply(render_manifests(load_cluster(SPEC)))
    try:
        yield hook
    finally:
        hook.delete_cluster(NAME, "default", timeout=60)


def _rest() -> FlinkRestHook:
    service = FlinkRestService.for_cluster(
        NAME, "default", kubernetes_conn_id="kubernetes_default", route="service_proxy"
    )
    return FlinkRestHook(service=service, retry=RetryPolicy.never())


def _until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as error:  # the REST API or a pod not there yet
            last = error
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def _jobmanager(kube: FlinkKubernetesHook) -> PodState | None:
    snapshot = kube.observe(NAME, "default", target="standalone", log_lines=0)
    pods = [pod for pod in snapshot.active_pods if pod.component == "jobmanager"]
    return pods[0] if len(pods) == 1 and pods[0].ready else None


def _cluster_up(kube: FlinkKubernetesHook) -> PodState:
    """The cluster back (or up): one Ready JobManager pod, its TaskManager registered
    with both slots free (an earlier test's job canceled); that pod."""

    def up() -> PodState | None:
        with _rest() as rest:
            for job in rest.jobs():
                if job.state == "RUNNING":
                    rest.cancel(job.id)
            overview = rest.overview()
        free = overview.taskmanagers == 1 and overview.slots_available == 2
        return _jobmanager(kube) if free else None

    found: PodState = _until(up, 180, "the cluster with a free TaskManager")
    return found


def _submit_streaming_job(local_sandbox: LocalSandbox) -> str:
    """The SQL runner's endless clickstream job (the jar uploaded anew: a restarted
    JobManager forgets its uploads too); its id."""
    with _rest() as rest:
        jar_id = rest.upload_jar(local_sandbox.usrlib / SQL_RUNNER_JAR)
        script = str(local_sandbox.usrlib / "clickstream.sql")
        return rest.run_jar(jar_id, entry_class=SQL_RUNNER_CLASS, args=["--script", script])


def _sensor_waiting(dag_id: str) -> bool:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    # dag.test() runs a deferred task's trigger in line, the task instance queued
    waiting = ("queued", "running", "up_for_reschedule", "deferred")
    with create_session() as session:
        states = session.query(TaskInstance.state).filter(TaskInstance.dag_id == dag_id).all()
    return any(state in waiting for (state,) in states)


class _Meanwhile:
    """Run ``action`` in a thread once the sensor of ``dag_id`` waits, ``SETTLE`` seconds
    later; its error (or result) is read after the DAG run."""

    def __init__(self, dag_id: str, action: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                _until(lambda: _sensor_waiting(dag_id), 120, f"the sensor of {dag_id} to wait")
                time.sleep(SETTLE)
                self.result = action()
            except BaseException as error:  # reported by done()
                self.error = error

        self.thread = threading.Thread(target=run, name=f"meanwhile-{dag_id}", daemon=True)
        self.thread.start()

    def done(self) -> Any:
        self.thread.join(timeout=240)
        assert not self.thread.is_alive(), "the action never ended"
        if self.error is not None:
            raise self.error
        return self.result


def _kill_jobmanager_process(kube: FlinkKubernetesHook) -> PodState:
    """Kill the JobManager's Flink process: the kubelet restarts its container."""
    pod = _jobmanager(kube)
    assert pod is not None
    name = f"default/{pod.name}/flink-main-container"
    (process,) = [p for p in live_processes() if p.name == name]
    process.kill()
    return pod


def _restarts(kube: FlinkKubernetesHook, before: PodState) -> int | None:
    """Restarts of the Flink container of ``before``'s pod, once Ready again."""
    pod = _jobmanager(kube)
    if pod is None or pod.uid != before.uid:
        return None
    return next(c.restart_count for c in pod.containers if c.name == "flink-main-container")


def _delete_jobmanager_pod(kube: FlinkKubernetesHook) -> PodState:
    """Delete the JobManager pod: its Deployment replaces it."""
    pod = _jobmanager(kube)
    assert pod is not None
    client.CoreV1Api(kube.api_client).delete_namespaced_pod(pod.name, "default")
    return pod


def test_a_job_submitted_after_the_sensor_started_is_awaited_not_lost(
    local_sandbox: LocalSandbox,
    kube: FlinkKubernetesHook,
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # The sensor follows the cluster's latest job: none yet. Meanwhile the JobManager
    # restarts -- with no job seen that is no loss -- and then the job is submitted.
    _cluster_up(kube)

    def restart_then_submit() -> str:
        before = _kill_jobmanager_process(kube)
        _until(lambda: _restarts(kube, before) == 1, 120, "the JobManager's container restarted")
        _cluster_up(kube)
        return _submit_streaming_job(local_sandbox)

    meanwhile = _Meanwhile("flink_test_sensor_job", restart_then_submit)
    dag_run = run_dag("flink_test_sensor_job", {"cluster": SPEC, "job_id": ""})
    job_id = meanwhile.done()
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"job": "success"}, out[-4000:]
    result = dag_run.get_task_instance("job").xcom_pull(task_ids="job")
    assert result["job_id"] == job_id and f"{job_id} is RUNNING" in result["message"]
    assert "runs no job yet" in out, out[-4000:]
    assert "JobLost" not in out


def test_a_submit_operator_waiting_for_finished_fails_as_job_lost(
    local_sandbox: LocalSandbox,
    kube: FlinkKubernetesHook,
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # The operator submits the endless job and waits, deferred, for FINISHED; once Flink
    # lists the job RUNNING, the JobManager's container restarts.
    _cluster_up(kube)

    def kill_once_running() -> tuple[str, PodState]:
        def running() -> str | None:
            with _rest() as rest:
                return next((job.id for job in rest.jobs() if job.state == "RUNNING"), None)

        job_id: str = _until(running, 120, "the submitted job RUNNING")
        time.sleep(SETTLE)
        return job_id, _kill_jobmanager_process(kube)

    meanwhile = _Meanwhile("flink_test_jobs_batch_deferred", kill_once_running)
    script = str(local_sandbox.usrlib / "clickstream.sql")
    conf = {
        "cluster": SPEC,
        "jar": str(local_sandbox.usrlib / SQL_RUNNER_JAR),
        "args": ["--script", script],
    }
    dag_run = run_dag("flink_test_jobs_batch_deferred", conf)
    job_id, pod = meanwhile.done()
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"submit": "failed"}, out[-4000:]
    assert f"Flink job {job_id} of Flink cluster {NAME} is lost: the JobManager pod {pod.name}" in (
        out
    ), out[-4000:]
    assert "JobLost" in out and HA_HINT in out, out[-4000:]


@pytest.mark.parametrize(
    ("dag_id", "fate", "change"),
    [
        pytest.param(
            "flink_test_sensor_batch_deferred",
            _kill_jobmanager_process,
            "restarted its container (restart count ",
            id="deferred-container-restarted",
        ),
        pytest.param(
            "flink_test_sensor_batch_reschedule",
            _kill_jobmanager_process,
            "restarted its container (restart count ",
            id="reschedule-container-restarted",
        ),
        # Last: the sandbox wires a TaskManager to its JobManager pod's address when it
        # starts, so after a new JobManager pod the TaskManager never registers again.
        pytest.param(
            "flink_test_sensor_batch",
            _delete_jobmanager_pod,
            "was replaced by",
            id="poke-pod-replaced",
        ),
    ],
)
def test_a_jobmanager_restart_that_loses_the_job_fails_the_sensor_as_job_lost(
    local_sandbox: LocalSandbox,
    kube: FlinkKubernetesHook,
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    dag_id: str,
    fate: Callable[[FlinkKubernetesHook], PodState],
    change: str,
) -> None:
    # The sensor waits for the endless job to be FINISHED: it sees it RUNNING first.
    _cluster_up(kube)
    job_id = _submit_streaming_job(local_sandbox)
    meanwhile = _Meanwhile(dag_id, lambda: fate(kube))
    dag_run = run_dag(dag_id, {"cluster": SPEC, "job_id": job_id})
    pod = meanwhile.done()
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"job": "failed"}, out[-4000:]
    assert "AirflowFailException: JobLost" in out, out[-4000:]
    assert f"Flink job {job_id} of Flink cluster {NAME} is lost: the JobManager pod {pod.name}" in (
        out
    ), out[-4000:]
    assert change in out and HA_HINT in out, out[-4000:]
    assert "Sensor has timed out" not in out
    if dag_id.endswith("_reschedule"):  # each poke a new run: the memory was stored
        assert job_id in _stored_memory(dag_run), "the sighting is in the task_state_store"


def _stored_memory(dag_run: Any) -> str:
    store = pytest.importorskip("airflow.models.task_state_store", reason="Airflow 3.3+")
    model = store.TaskStateStoreModel
    from airflow.utils.session import create_session

    with create_session() as session:
        (row,) = (
            session.query(model)
            .filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id, key="flink_job_seen")
            .all()
        )
        return str(row.value)
