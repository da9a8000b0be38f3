"""Kill tests of FlinkRescaleOperator: the worker SIGKILLed between two steps, the retry
converges.

One session cluster with the adaptive scheduler (TaskManagers of 2 slots) runs the SQL
runner; each test starts from the job it needs (``SessionCluster.job_at``: alone or in any
order), rescales it in a task process of its own (``airflow tasks test``
on a fixed run id), SIGKILLs it at a step boundary seen from outside -- the savepoint
triggered, the old job stopped, the new job submitted, the resource requirements set --
and runs the same task instance again. The retry must end with exactly one RUNNING job at
the new parallelism (restored from the one savepoint of the recorded trigger id) and the
planned TaskManagers; a run after success changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dag_support import LocalSandbox, rescale_conf
from flink_session import SessionCluster, quiet, session_cluster
from polling import wait_until
from task_process import TaskProcess, create_run, needs_task_process

from airflow_provider_flink_k8s.exceptions import FlinkRestNotFound
from airflow_provider_flink_k8s.flinkrest import FlinkRestService
from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.kube.resources import DEPLOYMENT
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation.intent import Intent, intent_of
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox.flink import (
    SQL_RUNNER_CLASS,
    SQL_RUNNER_JAR,
)

pytestmark = [pytest.mark.slow, *needs_task_process]

NAME = "rskill"
DAG = "flink_test_rescale"


class Cluster(SessionCluster):
    """The session cluster, and what the rescale tests read of it."""

    def conf(self, **params: Any) -> dict[str, Any]:
        script = ["--script", str(self.script)]
        given = {"jar_id": self.jar_id, "entry_class": SQL_RUNNER_CLASS, "args": script}
        return rescale_conf(self.spec, **{**given, **params})

    def intent(self) -> Intent | None:
        return intent_of(self.jobmanager())

    def parallelisms(self, job_id: str) -> set[int]:
        return {vertex.parallelism for vertex in self.rest.job(job_id).vertices}

    def taskmanager_replicas(self) -> int:
        found = self.kube.get_object(DEPLOYMENT, "default", f"{NAME}-taskmanager") or {}
        return int(found["spec"]["replicas"])


@pytest.fixture(scope="module")
def cluster(local_sandbox: LocalSandbox, dag_bag: Any) -> Iterator[Cluster]:
    adaptive = {
        "jobmanager.scheduler": "adaptive",
        "jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling": "0 s",
        "jobmanager.adaptive-scheduler.executing.resource-stabilization-timeout": "1 s",
        "jobmanager.adaptive-scheduler.submission.resource-stabilization-timeout": "1 s",
        "jobmanager.adaptive-scheduler.rescale-trigger.max-delay": "1 s",
    }
    with session_cluster(local_sandbox, NAME, slots=2, flink_configuration=adaptive) as found:
        yield Cluster(found.spec, found.rest, found.jar_id, found.script)


def _killed_then_retried(
    cluster: Cluster,
    tmp_path: Path,
    run_id: str,
    conf: dict[str, Any],
    boundary: Any,
    what: str,
    *,
    intruder: bool = False,
) -> TaskProcess:
    create_run(DAG, run_id, conf)
    log = tmp_path / f"{run_id}.log"
    first = TaskProcess(DAG, "rescale", run_id, log=log)
    first.kill_when(quiet(boundary), what)
    assert first.process.returncode == -9
    if intruder:
        # Another run finds the killed task's unfinished intent: it fails, naming it,
        # and changes nothing.
        recorded = cluster.intent()
        other = create_run(DAG, f"{run_id}-other", conf)
        process = TaskProcess(DAG, "rescale", other, log=tmp_path / f"{other}.log")
        assert process.finish() == "failed"
        assert "Task failed with exception" in process.output
        assert "RescaleInProgress" in process.output
        assert f"{DAG}/rescale/{run_id}/-1" in process.output
        assert cluster.intent() == recorded
    retry = TaskProcess(DAG, "rescale", run_id, log=log)
    assert retry.finish() == "success", retry.output[-8000:]
    return retry


def _assert_restarted_once(cluster: Cluster, before: set[Path], old_job: str, p: int) -> Intent:
    intent = cluster.intent()
    assert intent is not None and intent.step == "done", intent
    assert intent.job_id == old_job and intent.strategy == "savepoint_restart"
    new_job = cluster.only_running_job()
    assert new_job == intent.new_job_id != old_job
    assert cluster.rest.job(old_job).state == "FINISHED"
    wait_until(quiet(lambda: cluster.parallelisms(new_job) == {p}), 60, f"every vertex at {p}")
    # Restored from the one savepoint of the recorded trigger id.
    added = cluster.savepoint_folders() - before
    assert len(added) == 1, added
    assert intent.savepoint_path is not None
    folder = Path(intent.savepoint_path.removeprefix("file:").removeprefix("//"))
    assert added == {folder}
    restored = cluster.rest.checkpoints(new_job).latest.restored
    assert restored is not None and restored.is_savepoint
    assert Path(str(restored.external_path).removeprefix("file:")) == folder
    old = cluster.rest.job(old_job)
    new = cluster.rest.job(new_job)
    debug = (intent, old.end_time, old.timestamps, [v.start_time for v in new.vertices])
    assert intent.downtime_seconds > 0, debug
    return intent


def _savepoint_triggered(cluster: Cluster) -> Any:
    intent = cluster.intent()
    if intent is None or intent.trigger_id is None or intent.step != "stopping":
        return None
    try:
        return cluster.rest.savepoint_status(str(intent.job_id), intent.trigger_id)
    except FlinkRestNotFound:
        return None


def test_savepoint_restart_killed_after_the_savepoint_was_triggered(
    cluster: Cluster, tmp_path: Path
) -> None:
    old = cluster.job_at(2)
    before = cluster.savepoint_folders()
    conf = cluster.conf(parallelism=4, strategy="savepoint_restart", job_id=old)
    retry = _killed_then_retried(
        cluster,
        tmp_path,
        "kill-triggered",
        conf,
        lambda: _savepoint_triggered(cluster),
        "the savepoint triggered",
    )
    _assert_restarted_once(cluster, before, old, 4)
    assert cluster.taskmanager_replicas() == 2
    assert "Found this task's intent" in retry.output

    # A run after success is a no-op: nothing stopped, nothing written.
    annotation = cluster.intent()
    again = TaskProcess(DAG, "rescale", "kill-triggered", log=tmp_path / "again.log")
    assert again.finish() == "success", again.output[-8000:]
    assert "nothing to do" in again.output
    assert cluster.intent() == annotation
    assert len(cluster.running()) == 1


def test_savepoint_restart_killed_after_the_job_stopped(cluster: Cluster, tmp_path: Path) -> None:
    old = cluster.job_at(4)
    before = cluster.savepoint_folders()
    conf = cluster.conf(parallelism=2, strategy="savepoint_restart", job_id=old)
    _killed_then_retried(
        cluster,
        tmp_path,
        "kill-stopped",
        conf,
        lambda: cluster.rest.job(old).state == "FINISHED",
        "the job stopped",
        intruder=True,
    )
    _assert_restarted_once(cluster, before, old, 2)
    assert cluster.taskmanager_replicas() == 1


def test_savepoint_restart_killed_after_the_resubmit(cluster: Cluster, tmp_path: Path) -> None:
    old = cluster.job_at(2)
    before = cluster.savepoint_folders()
    conf = cluster.conf(parallelism=4, strategy="savepoint_restart", job_id=old)

    def resubmitted() -> bool:
        intent = cluster.intent()
        new = intent.new_job_id if intent is not None else None
        return bool(new) and any(job.id == new for job in cluster.rest.jobs())

    _killed_then_retried(cluster, tmp_path, "kill-resubmitted", conf, resubmitted, "the resubmit")
    _assert_restarted_once(cluster, before, old, 4)
    assert cluster.taskmanager_replicas() == 2


def test_in_place_killed_after_the_requirements_were_set(cluster: Cluster, tmp_path: Path) -> None:
    job = cluster.job_at(4)
    assert cluster.taskmanager_replicas() == 2
    conf = cluster.conf(parallelism=2, strategy="in_place", job_id=job)

    def requirements_set() -> bool:
        found = cluster.rest.resource_requirements(job)
        return {req.parallelism.upper_bound for req in found.values()} == {2}

    _killed_then_retried(
        cluster, tmp_path, "kill-requirements", conf, requirements_set, "the requirements set"
    )
    intent = cluster.intent()
    assert intent is not None and intent.step == "done" and intent.strategy == "in_place"
    assert (intent.taskmanagers_before, intent.taskmanagers_after) == (2, 1)
    assert cluster.only_running_job() == job
    assert cluster.parallelisms(job) == {2}
    # The retry scaled the surplus TaskManager down, as planned.
    assert cluster.taskmanager_replicas() == 1
    wait_until(quiet(lambda: cluster.rest.overview().taskmanagers == 1), 60, "1 TaskManager")


def test_an_application_cluster_killed_after_the_redeploy_converges(
    local_sandbox: LocalSandbox, dag_bag: Any, tmp_path: Path
) -> None:
    state = local_sandbox.state
    spec = {
        "name": "rsapp",
        "mode": "application",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2},
        "savepoint_dir": (state / "app-savepoints").as_uri(),
        "checkpoint_dir": (state / "app-checkpoints").as_uri(),
        "flink_configuration": {
            "execution.checkpointing.interval": "1s",
            "heartbeat.interval": "1000",
            "heartbeat.timeout": "5000",
        },
        "job": {
            "jar_uri": f"local:///opt/flink/usrlib/{SQL_RUNNER_JAR}",
            "entry_class": SQL_RUNNER_CLASS,
            "args": ["--script", "/opt/flink/usrlib/clickstream.sql"],
            "parallelism": 2,
        },
    }
    hook = FlinkKubernetesHook()
    hook.apply(render_manifests(load_cluster(spec)))
    service = FlinkRestService.for_cluster("rsapp", "default", route="service_proxy")
    rest = FlinkRestHook(service=service)

    def running() -> list[str]:
        found = [job.id for job in rest.jobs() if job.state == "RUNNING"]
        return found if found and all(rest.job(j).all_vertices_running for j in found) else []

    def jobmanager() -> dict[str, Any]:
        found = hook.get_object(DEPLOYMENT, "default", "rsapp-jobmanager")
        assert found is not None
        return found

    def redeployed() -> bool:
        container = jobmanager()["spec"]["template"]["spec"]["containers"][0]
        return "--fromSavepoint" in (container.get("args") or [])

    try:
        (old,) = wait_until(quiet(running), 120, "the application's job RUNNING")
        conf = rescale_conf(spec, parallelism=4, strategy="savepoint_restart")
        create_run(DAG, "kill-redeploy", conf)
        log = tmp_path / "redeploy.log"
        first = TaskProcess(DAG, "rescale", "kill-redeploy", log=log)
        first.kill_when(quiet(redeployed), "the application cluster redeployed")
        retry = TaskProcess(DAG, "rescale", "kill-redeploy", log=log)
        assert retry.finish() == "success", retry.output[-8000:]
        intent = intent_of(jobmanager())
        assert intent is not None and intent.step == "done", retry.output[-8000:]
        assert intent.job_id == old and intent.savepoint_path is not None
        (new,) = wait_until(quiet(running), 60, "one RUNNING job")
        assert new == intent.new_job_id
        assert {vertex.parallelism for vertex in rest.job(new).vertices} == {4}
        restored = rest.checkpoints(new).latest.restored
        assert restored is not None and restored.is_savepoint
        folder = intent.savepoint_path.removeprefix("file:").removeprefix("//")
        assert str(restored.external_path).removeprefix("file:") == folder
    finally:
        try:
            hook.delete_cluster("rsapp", "default", timeout=60)
        finally:
            rest.close()
