"""Kill tests of FlinkSavepointOperator and FlinkSubmitJobOperator: the worker SIGKILLed
between two steps, the retry converges, and a run after success changes nothing.

One standalone session cluster of real Flink serves the module. Each test runs its task
in a process of its own (``airflow tasks test`` on a fixed run id), SIGKILLs it at a step
boundary seen from outside, and runs the same task instance again:

- the savepoint, killed once Flink knows the trigger (before the task reported the
  savepoint): the retry finds that trigger -- its id derives from the task instance --
  and returns its savepoint; exactly one savepoint was written, the job still runs;
- the submit, killed once Flink lists the job (before the task saw it RUNNING): the retry
  re-attaches to it -- its id derives from the task instance too -- and no second job is
  submitted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dag_support import LocalSandbox
from flink_session import SessionCluster, quiet, session_cluster
from task_process import TaskProcess, create_run, needs_task_process, task_result

from airflow_provider_flink_k8s.exceptions import FlinkRestNotFound
from airflow_provider_flink_k8s.flinkrest import SavepointStatus
from airflow_provider_flink_k8s.operators.job import stable_id
from flink_k8s_sandbox.flink import SQL_RUNNER_CLASS

pytestmark = [pytest.mark.slow, *needs_task_process]

NAME = "jobkill"
SAVEPOINT_DAG = "flink_test_jobs_savepoint"
SUBMIT_DAG = "flink_test_jobs_submit"


@pytest.fixture(scope="module")
def cluster(local_sandbox: LocalSandbox, dag_bag: Any) -> Iterator[SessionCluster]:
    with session_cluster(local_sandbox, NAME, slots=4) as found:
        yield found


def _conf(cluster: SessionCluster, **params: Any) -> dict[str, Any]:
    """Every parameter of the ``flink_test_jobs_*`` DAGs: the jar is the uploaded one."""
    return {
        "cluster": cluster.spec,
        "jar": None,
        "jar_id": cluster.jar_id,
        "args": ["--script", str(cluster.script)],
        "entry_class": SQL_RUNNER_CLASS,
        **params,
    }


def _key(dag_id: str, task_id: str, run_id: str) -> str:
    """The task instance's key (``dag/task/run/map index``) its stable ids derive from."""
    return f"{dag_id}/{task_id}/{run_id}/-1"


def _folder(location: str) -> Path:
    return Path(location.removeprefix("file:").removeprefix("//"))


def test_a_savepoint_killed_after_the_trigger_is_picked_up_by_the_retry(
    cluster: SessionCluster, tmp_path: Path
) -> None:
    job = cluster.run_job(parallelism=1)
    run_id = "kill-savepoint"
    create_run(SAVEPOINT_DAG, run_id, _conf(cluster, job_id=job))
    # The first trigger id of this task instance for this job (the operator's sequence
    # moves on only past a savepoint that failed).
    trigger = stable_id(_key(SAVEPOINT_DAG, "savepoint", run_id), "savepoint", job, 0)
    before = cluster.savepoint_folders(job)

    def triggered() -> SavepointStatus | None:
        try:
            return cluster.rest.savepoint_status(job, trigger)
        except FlinkRestNotFound:
            return None

    first = TaskProcess(SAVEPOINT_DAG, "savepoint", run_id, log=tmp_path / "first.log")
    first.kill_when(quiet(triggered), "the savepoint triggered")
    assert first.process.returncode == -9
    assert "Savepoint written" not in first.output, "killed after the task saw the savepoint"

    retry = TaskProcess(SAVEPOINT_DAG, "savepoint", run_id, log=tmp_path / "retry.log")
    assert retry.finish() == "success", retry.output[-8000:]
    assert f"Picking up savepoint {trigger}" in retry.output
    assert "Triggering" not in retry.output
    status = cluster.rest.savepoint_status(job, trigger)
    assert status.completed and status.failure is None and status.location
    assert f"Savepoint written: {status.location}" in retry.output
    assert task_result(SAVEPOINT_DAG, run_id, "savepoint") == status.location
    # One savepoint for the trigger, and the job it was taken of still runs.
    assert cluster.savepoint_folders(job) - before == {_folder(status.location)}
    assert cluster.rest.job(job).state == "RUNNING"

    # Cleared and run again after success: the same savepoint, no new one.
    again = TaskProcess(SAVEPOINT_DAG, "savepoint", run_id, log=tmp_path / "again.log")
    assert again.finish() == "success", again.output[-8000:]
    assert f"Savepoint written: {status.location}" in again.output
    assert task_result(SAVEPOINT_DAG, run_id, "savepoint") == status.location
    assert "Triggering" not in again.output
    assert cluster.savepoint_folders(job) - before == {_folder(status.location)}
    assert cluster.rest.job(job).state == "RUNNING"
    cluster.rest.cancel(job)


def test_a_submit_killed_after_flink_listed_the_job_is_not_submitted_twice(
    cluster: SessionCluster, tmp_path: Path
) -> None:
    run_id = "kill-submit"
    create_run(SUBMIT_DAG, run_id, _conf(cluster))
    # The first job id of this task instance's sequence.
    job = stable_id(_key(SUBMIT_DAG, "submit", run_id), 0)
    before = {found.id for found in cluster.rest.jobs()}
    assert job not in before

    def listed() -> str | None:
        return next((found.state for found in cluster.rest.jobs() if found.id == job), None)

    first = TaskProcess(SUBMIT_DAG, "submit", run_id, log=tmp_path / "first.log")
    try:
        first.kill_when(quiet(listed), "the job listed by Flink")
        assert first.process.returncode == -9
        assert "new_state=" not in first.output, "killed after the task ended"
        assert "Submitting" in first.output

        retry = TaskProcess(SUBMIT_DAG, "submit", run_id, log=tmp_path / "retry.log")
        assert retry.finish() == "success", retry.output[-8000:]
        assert "Submitting" not in retry.output
        assert "submitted before by this task" in retry.output
        # Never two jobs: the one new job is the task instance's, and it runs.
        jobs = {found.id: found.state for found in cluster.rest.jobs()}
        assert {found for found in jobs if found not in before} == {job}
        assert jobs[job] == "RUNNING"

        # Cleared and run again after success: it finds the job RUNNING, submits nothing.
        again = TaskProcess(SUBMIT_DAG, "submit", run_id, log=tmp_path / "again.log")
        assert again.finish() == "success", again.output[-8000:]
        assert f"Job {job}, submitted before by this task, is RUNNING" in again.output
        assert "Submitting" not in again.output
        jobs = {found.id: found.state for found in cluster.rest.jobs()}
        assert {found for found in jobs if found not in before} == {job}
        assert jobs[job] == "RUNNING"
    finally:
        # Free the slots for the module's other tests (their own jobs).
        quiet(lambda: cluster.rest.cancel(job))()
