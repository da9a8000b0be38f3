"""Kill tests of FlinkTeardownOperator: the worker SIGKILLed between two steps, the retry
converges, and a run after success is a no-op.

Each test deploys a standalone session cluster of real Flink of its own, runs the
teardown in a process of its own (``airflow tasks test`` on a fixed run id), SIGKILLs it
at a step boundary seen from outside, and runs the same task instance again:

- with a final savepoint, killed mid stop-with-savepoint (Flink knows the stop's trigger,
  the job still runs: its TaskManager stalled, so the stop stays pending until the retry
  has decided), once the job stopped (stop-with-savepoint done, nothing deleted yet) or
  once the delete was sent (the JobManager going away, so Flink no longer answers): the
  retry deletes everything, exactly one savepoint was written, and the task returns its
  path;
- without a savepoint, killed once the delete was sent: the retry deletes everything;
- deferred (``deferrable=True``) while its stop-with-savepoint is pending, handed to a
  real ``airflow triggerer`` that is SIGKILLed mid-wait: a second triggerer takes the
  trigger over, its one event resumes the task at ``next_method``, and the teardown ends
  with the first try's stop and savepoint.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from dag_support import LocalSandbox
from flink_session import SessionCluster, quiet, session_cluster
from polling import wait_until
from task_process import (
    TaskProcess,
    TriggererProcess,
    create_run,
    deferred_to,
    hand_to_triggerer,
    needs_task_process,
    resumed_with,
    task_result,
)

from airflow_provider_flink_k8s.exceptions import FlinkRestNotFound
from airflow_provider_flink_k8s.flinkrest import SavepointStatus
from airflow_provider_flink_k8s.kube.resources import DEPLOYMENT
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation.ownership import anchor_index
from airflow_provider_flink_k8s.operators.job import stable_id
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox.flink.process import FlinkProcess, live_processes

pytestmark = [pytest.mark.slow, *needs_task_process]

WITH_SAVEPOINT = "flink_test_jobs_teardown"
PLAIN = "flink_test_jobs_teardown_plain"


def _folder(location: str) -> Path:
    return Path(location.removeprefix("file:").removeprefix("//"))


def _anchor_name(cluster: SessionCluster) -> str:
    """The name of the cluster's anchor (its ConfigMap), which the teardown marks first."""
    manifests = render_manifests(load_cluster(cluster.spec))
    return str(manifests[anchor_index(manifests)]["metadata"]["name"])


def _delete_sent(cluster: SessionCluster) -> bool:
    """Whether the JobManager's Deployment is being deleted (or gone): the teardown has
    recorded itself on the anchor and sent its deletes."""
    found = cluster.kube.get_object(DEPLOYMENT, "default", f"{cluster.name}-jobmanager")
    return found is None or bool(found["metadata"].get("deletionTimestamp"))


def _resume(process: FlinkProcess) -> None:
    """SIGCONT a Flink process the test stopped, unless it is gone (its pod deleted)."""
    if process.is_alive():
        os.kill(process.pid, signal.SIGCONT)


def _stalled_taskmanager(cluster: SessionCluster) -> FlinkProcess:
    """The cluster's one TaskManager process, SIGSTOPped: a long GC pause or a frozen
    node, so that a stop-with-savepoint stays pending until the test resumes it."""
    (taskmanager,) = [
        process
        for process in live_processes()
        if process.name.startswith(f"default/{cluster.name}-taskmanager") and process.is_alive()
    ]
    os.kill(taskmanager.pid, signal.SIGSTOP)
    return taskmanager


def _stop_pending(cluster: SessionCluster, job: str, trigger: str) -> SavepointStatus | None:
    """The stop's savepoint trigger, once Flink knows it and the job still runs."""
    try:
        status = cluster.rest.savepoint_status(job, trigger)
    except FlinkRestNotFound:
        return None
    return status if cluster.rest.job(job).state == "RUNNING" else None


PATIENT = {"heartbeat.timeout": "180000", "pekko.ask.timeout": "180 s"}
"""Flink waits for a stalled TaskManager (heartbeat and RPC timeouts longer than the
stall) instead of failing the job over."""


@contextmanager
def _stalling(
    local_sandbox: LocalSandbox, name: str, dag_id: str
) -> Iterator[tuple[SessionCluster, str, str, FlinkProcess]]:
    """A session cluster ``name`` running one job on one TaskManager, which is then
    SIGSTOPped (:func:`_stalled_taskmanager`), and the run of ``dag_id`` (run id: the
    cluster's name) that tears it down: ``(cluster, job id, the teardown's stop trigger
    id, the TaskManager)``. Flink waits for the TaskManager (:data:`PATIENT`)."""
    with session_cluster(local_sandbox, name, slots=1, flink_configuration=PATIENT) as cluster:
        job = cluster.run_job(parallelism=1)
        create_run(dag_id, cluster.name, {"cluster": cluster.spec})
        trigger = stable_id(f"{dag_id}/teardown/{cluster.name}/-1", "stop", job)
        yield cluster, job, trigger, _stalled_taskmanager(cluster)


def _killed_then_retried(
    cluster: SessionCluster,
    tmp_path: Path,
    dag_id: str,
    boundary: Any,
    what: str,
    *,
    nothing_deleted: bool = False,
) -> TaskProcess:
    """Run the teardown of ``cluster`` (run id: the cluster's name), SIGKILL it once
    ``boundary()`` holds (with ``nothing_deleted``: before the delete was sent), run it
    again; the retry, which must succeed and leave nothing of the cluster."""
    run_id = cluster.name
    create_run(dag_id, run_id, {"cluster": cluster.spec})
    first = TaskProcess(dag_id, "teardown", run_id, log=tmp_path / "first.log")
    first.kill_when(quiet(boundary), what)
    assert first.process.returncode == -9
    assert "new_state=" not in first.output, "killed after the task ended"
    if nothing_deleted:
        assert not _delete_sent(cluster), "killed after the delete"
    retry = TaskProcess(dag_id, "teardown", run_id, log=tmp_path / "retry.log")
    assert retry.finish() == "success", retry.output[-8000:]
    assert cluster.remaining() == ()
    return retry


def _run_again_is_a_no_op(cluster: SessionCluster, tmp_path: Path, dag_id: str) -> None:
    """The task cleared and run again after success: nothing to delete, nothing written."""
    savepoints = cluster.savepoint_folders()
    again = TaskProcess(dag_id, "teardown", cluster.name, log=tmp_path / "again.log")
    assert again.finish() == "success", again.output[-8000:]
    assert "was already gone" in again.output
    assert cluster.remaining() == ()
    assert cluster.savepoint_folders() == savepoints


def test_a_teardown_killed_after_the_job_stopped_deletes_and_names_the_one_savepoint(
    local_sandbox: LocalSandbox, dag_bag: Any, tmp_path: Path
) -> None:
    with session_cluster(local_sandbox, "tdkill-stopped", slots=2) as cluster:
        job = cluster.run_job(parallelism=2)
        # Flink ends the job and the stop-with-savepoint at once, and the task marks the
        # anchor right after: the sandbox's API server holds that write (a slow API
        # server) so the kill lands between the two steps every time.
        held = local_sandbox.server.faults.delay(
            30, method="PATCH", path=f"/configmaps/{_anchor_name(cluster)}$", times=1
        )
        try:
            _killed_then_retried(
                cluster,
                tmp_path,
                WITH_SAVEPOINT,
                lambda: cluster.rest.job(job).state == "FINISHED",
                "the job stopped with its savepoint",
                nothing_deleted=True,
            )
        finally:
            local_sandbox.server.faults.remove(held.id)
        (folder,) = cluster.savepoint_folders()
        location = task_result(WITH_SAVEPOINT, cluster.name, "teardown")
        assert isinstance(location, str) and _folder(location) == folder
        _run_again_is_a_no_op(cluster, tmp_path, WITH_SAVEPOINT)


def test_a_teardown_killed_after_the_delete_was_sent_deletes_and_names_the_one_savepoint(
    local_sandbox: LocalSandbox, dag_bag: Any, tmp_path: Path
) -> None:
    with session_cluster(local_sandbox, "tdkill-deleting", slots=2) as cluster:
        cluster.run_job(parallelism=2)
        retry = _killed_then_retried(
            cluster, tmp_path, WITH_SAVEPOINT, lambda: _delete_sent(cluster), "the delete sent"
        )
        # Flink was going away: the retry took the path from the cluster's record, and no
        # second savepoint.
        assert "Stopping job" not in retry.output
        assert "This task instance started deleting default/tdkill-deleting before" in (
            retry.output
        )
        (folder,) = cluster.savepoint_folders()
        location = task_result(WITH_SAVEPOINT, cluster.name, "teardown")
        assert isinstance(location, str) and _folder(location) == folder
        _run_again_is_a_no_op(cluster, tmp_path, WITH_SAVEPOINT)


def test_a_teardown_without_savepoint_killed_after_the_delete_was_sent_deletes_everything(
    local_sandbox: LocalSandbox, dag_bag: Any, tmp_path: Path
) -> None:
    with session_cluster(local_sandbox, "tdkill-plain", slots=1) as cluster:
        cluster.run_job(parallelism=1)
        _killed_then_retried(
            cluster, tmp_path, PLAIN, lambda: _delete_sent(cluster), "the delete sent"
        )
        assert task_result(PLAIN, cluster.name, "teardown") is None
        assert cluster.savepoint_folders() == set()
        _run_again_is_a_no_op(cluster, tmp_path, PLAIN)


def test_a_teardown_killed_mid_stop_with_savepoint_follows_that_stop_on_retry(
    local_sandbox: LocalSandbox, dag_bag: Any, tmp_path: Path
) -> None:
    with _stalling(local_sandbox, "tdkill-stopping", WITH_SAVEPOINT) as stalled:
        cluster, job, trigger, taskmanager = stalled
        run_id = cluster.name
        held = None
        try:
            first = TaskProcess(WITH_SAVEPOINT, "teardown", run_id, log=tmp_path / "first.log")
            pending = first.kill_when(
                quiet(lambda: _stop_pending(cluster, job, trigger)),
                "the stop-with-savepoint pending",
            )
            assert first.process.returncode == -9
            assert not pending.completed, pending
            assert not _delete_sent(cluster)
            # The retry's reads of the job list are slow (a slow API server): the job
            # ends while the retry acts on a list that still shows it RUNNING.
            held = local_sandbox.server.faults.delay(3, method="GET", path="/jobs/overview$")
            retry = TaskProcess(WITH_SAVEPOINT, "teardown", run_id, log=tmp_path / "retry.log")
            wait_until(
                lambda: f"job {job}" in retry.output.lower() or retry.process.poll() is not None,
                120,
                "the retry's decision about the job",
                interval=0.05,
            )
            _resume(taskmanager)
            assert retry.finish() == "success", retry.output[-8000:]
        finally:
            _resume(taskmanager)
            if held is not None:
                local_sandbox.server.faults.remove(held.id)
        # The retry followed the stop the first try had sent: no second stop, one
        # savepoint, the job stopped with it, and everything deleted.
        assert "Stopping job" not in retry.output
        assert f"Picking up the stop-with-savepoint {trigger} of job {job}" in retry.output
        assert cluster.remaining() == ()
        (folder,) = cluster.savepoint_folders()
        location = task_result(WITH_SAVEPOINT, cluster.name, "teardown")
        assert isinstance(location, str) and _folder(location) == folder
        assert f"Job {job} stopped; savepoint {location}" in retry.output
        _run_again_is_a_no_op(cluster, tmp_path, WITH_SAVEPOINT)


DEFERRED = "flink_test_deferred"
STOPPED = "execute_stopped"
"""Where the teardown resumes once its stop-with-savepoint has completed."""


def _assigned(
    dag_id: str, run_id: str, task_id: str, *, besides: int | None = None
) -> tuple[int, int] | None:
    """``(trigger id, triggerer job id)`` once a triggerer other than ``besides`` holds
    the task instance's trigger."""
    found = deferred_to(dag_id, run_id, task_id, STOPPED)
    if found is None or found[1] is None or found[1] == besides:
        return None
    return (found[0], found[1])


def test_a_deferred_teardown_survives_its_triggerer_killed_mid_wait(
    local_sandbox: LocalSandbox, dag_bag: Any, tmp_path: Path
) -> None:
    with _stalling(local_sandbox, "tdkill-triggerer", DEFERRED) as stalled:
        cluster, job, trigger, taskmanager = stalled
        run_id = cluster.name
        triggerers: list[TriggererProcess] = []
        try:
            try:
                # The task stops the job with a savepoint and defers; `airflow tasks test`
                # runs the trigger in line, so its process is the first triggerer: killed
                # while the stop is pending, the task instance handed to real triggerers.
                first = TaskProcess(DEFERRED, "teardown", run_id, log=tmp_path / "first.log")
                first.kill_when(
                    lambda: (
                        deferred_to(DEFERRED, run_id, "teardown", STOPPED)
                        and quiet(lambda: _stop_pending(cluster, job, trigger))()
                    ),
                    "the task deferred, its stop pending",
                )
                deferral = hand_to_triggerer(DEFERRED, run_id, "teardown")
                triggerers.append(TriggererProcess(log=tmp_path / "triggerer-1.log"))
                trigger_row, lost = wait_until(
                    lambda: _assigned(DEFERRED, run_id, "teardown"),
                    120,
                    "the first triggerer running the trigger",
                )
                # Mid-wait: the stop still pending (the TaskManager stalled).
                assert _stop_pending(cluster, job, trigger) is not None
                triggerers[0].kill()
                assert resumed_with(DEFERRED, run_id, "teardown") is None, "fired too early"
                triggerers.append(TriggererProcess(log=tmp_path / "triggerer-2.log"))
                taken = wait_until(
                    lambda: _assigned(DEFERRED, run_id, "teardown", besides=lost),
                    120,
                    "the trigger taken over by the second triggerer",
                )
                assert taken[0] == trigger_row  # the same trigger, not a new deferral
            finally:
                _resume(taskmanager)
            event = wait_until(
                lambda: resumed_with(DEFERRED, run_id, "teardown"), 120, "the trigger's event"
            )
        finally:
            for triggerer in triggerers:
                triggerer.stop()
        # One event, from the trigger the first try deferred with: the task resumes at
        # its next_method with it (not a fresh execute, which would pick the stop up).
        assert deferral["next_method"] == STOPPED, deferral
        outcome = event["event"]["outcome"]
        assert outcome["status"] == "ready", outcome  # the savepoint completed
        resumed = TaskProcess(DEFERRED, "teardown", run_id, log=tmp_path / "resumed.log")
        assert resumed.finish() == "success", resumed.output[-8000:]
        assert "Stopping job" not in resumed.output
        assert "Picking up the stop-with-savepoint" not in resumed.output
        assert cluster.remaining() == ()
        (folder,) = cluster.savepoint_folders()
        location = task_result(DEFERRED, run_id, "teardown")
        assert isinstance(location, str) and _folder(location) == folder
