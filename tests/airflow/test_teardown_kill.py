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
- without a savepoint, killed once the delete was sent: the retry deletes everything.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from dag_support import LocalSandbox
from flink_session import SessionCluster, quiet, session_cluster
from polling import wait_until
from task_process import TaskProcess, create_run, needs_task_process, task_result

from airflow_provider_flink_k8s.exceptions import FlinkRestNotFound
from airflow_provider_flink_k8s.flinkrest import SavepointStatus
from airflow_provider_flink_k8s.kube.resources import DEPLOYMENT
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation.ownership import anchor_index
from airflow_provider_flink_k8s.operators.job import stable_id
from airflow_provider_flink_k8s.sandbox.flink.process import FlinkProcess, live_processes
from airflow_provider_flink_k8s.spec import load_cluster

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
    # A TaskManager that stalls (a long GC pause, a frozen node) keeps the stop pending
    # for as long as the test needs: Flink waits for it (heartbeat and RPC timeouts
    # longer than the stall) instead of failing the job over.
    patient = {"heartbeat.timeout": "180000", "pekko.ask.timeout": "180 s"}
    with session_cluster(
        local_sandbox, "tdkill-stopping", slots=1, flink_configuration=patient
    ) as cluster:
        job = cluster.run_job(parallelism=1)
        run_id = cluster.name
        create_run(WITH_SAVEPOINT, run_id, {"cluster": cluster.spec})
        trigger = stable_id(f"{WITH_SAVEPOINT}/teardown/{run_id}/-1", "stop", job)
        (taskmanager,) = [
            process
            for process in live_processes()
            if process.name.startswith(f"default/{cluster.name}-taskmanager") and process.is_alive()
        ]

        def stopping() -> SavepointStatus | None:
            """The stop's savepoint trigger, once Flink knows it and the job still runs."""
            try:
                status = cluster.rest.savepoint_status(job, trigger)
            except FlinkRestNotFound:
                return None
            return status if cluster.rest.job(job).state == "RUNNING" else None

        os.kill(taskmanager.pid, signal.SIGSTOP)
        held = None
        try:
            first = TaskProcess(WITH_SAVEPOINT, "teardown", run_id, log=tmp_path / "first.log")
            pending = first.kill_when(quiet(stopping), "the stop-with-savepoint pending")
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
