"""Kill tests of the operator target: the worker SIGKILLed right after its one
FlinkDeployment patch, the retry (the same task instance) converges, and a run after
success changes nothing.

Each test applies an application FlinkDeployment of its own on the stand-in Flink
Kubernetes Operator (a simulated sandbox: the stand-in moves the status as the operator
does and writes each savepoint's folder under the spec's ``savepoint_dir``), runs one task
in a process of its own (``airflow tasks test`` on a fixed run id), SIGKILLs it once the
patch is seen on the FlinkDeployment, and runs the same task instance again:

- the rescale, killed between the patch (``job.parallelism`` 2 -> 4, a new generation)
  and the intent's ``upgrading`` step: the retry finds its intent, applies the same spec
  (unchanged: no new generation), waits for that upgrade and records it ``done``; one
  savepoint, the upgraded job's;
- the savepoint, killed once ``savepointTriggerNonce`` is set: the retry does not set it
  again and returns the savepoint of that nonce; exactly one savepoint was taken;
- the teardown with a final savepoint, killed once ``job.state: suspended`` is set: the
  retry waits for the suspend, deletes everything and returns the one savepoint's path;
- a FlinkSessionJob submit (the operator's own session example), killed once the
  FlinkSessionJob is applied: the retry applies the same spec (no new generation) and
  returns the job the operator started for it -- one job.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dag_support import rescale_conf
from operator_target import FlinkDeploymentUnderTest, application_spec, deploy_session_example
from task_process import TaskProcess, create_run, needs_task_process, task_result

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.kube.resources import FLINK_SESSION_JOB
from airflow_provider_flink_k8s.observation.intent import intent_of
from airflow_provider_flink_k8s.operators.job import stable_id
from flink_k8s_sandbox import SandboxServer

pytestmark = [pytest.mark.slow, *needs_task_process]

RESCALE_DAG = "flink_test_rescale"
SAVEPOINT_DAG = "flink_test_jobs_savepoint"
TEARDOWN_DAG = "flink_test_jobs_teardown"
SESSION_JOB_DAG = "flink_test_session_job"


@pytest.fixture
def deploy(
    simulated_sandbox: SandboxServer, dag_bag: Any, tmp_path: Path
) -> Iterator[Callable[[str], FlinkDeploymentUnderTest]]:
    """Deploy the test's own FlinkDeployment ``name`` (STABLE); deleted afterwards,
    whatever the test did to it."""
    made: list[FlinkDeploymentUnderTest] = []

    def deploy(name: str) -> FlinkDeploymentUnderTest:
        made.append(FlinkDeploymentUnderTest(application_spec(name, tmp_path / "savepoints")))
        return made[-1].deploy()

    yield deploy
    for under_test in made:
        under_test.hook.delete_cluster(under_test.name, "default", timeout=60)


def _savepoints(deployment: FlinkDeploymentUnderTest) -> set[Path]:
    """The savepoints written under the spec's ``savepoint_dir``."""
    folder = Path(str(deployment.spec["savepoint_dir"]).removeprefix("file://"))
    if not folder.exists():
        return set()
    return {path for path in folder.iterdir() if (path / "_metadata").exists()}


def _folder(location: str) -> Path:
    return Path(location.removeprefix("file:").removeprefix("//"))


def _killed(
    dag_id: str, task_id: str, run_id: str, log: Path, boundary: Any, what: str
) -> TaskProcess:
    first = TaskProcess(dag_id, task_id, run_id, log=log)
    first.kill_when(boundary, what)
    assert first.process.returncode == -9
    assert "new_state=" not in first.output, "killed after the task ended"
    return first


def test_a_rescale_killed_between_the_patch_and_its_intent_waits_for_that_upgrade(
    simulated_sandbox: SandboxServer, deploy: Any, tmp_path: Path
) -> None:
    deployment = deploy("otk-rescale")
    name = deployment.name
    before = deployment.read()
    old_job = before["status"]["jobStatus"]["jobId"]
    conf = rescale_conf(deployment.spec, parallelism=4)
    run_id = create_run(RESCALE_DAG, name, conf)
    log = tmp_path / "rescale.log"

    def patched() -> dict[str, Any] | None:
        found = deployment.read()
        return found if found["spec"]["job"]["parallelism"] == 4 else None

    # The task writes the FlinkDeployment three times in a row (the intent, the patch,
    # the intent's next step): the sandbox's API server holds each write a second (a
    # slow API server), so the kill lands after the patch, before the next intent.
    held = simulated_sandbox.faults.delay(1, method="PATCH", path=f"/flinkdeployments/{name}$")
    try:
        _killed(RESCALE_DAG, "rescale", run_id, log, patched, "the FlinkDeployment patched")
    finally:
        simulated_sandbox.faults.remove(held.id)
    killed = deployment.read()
    intent = intent_of(killed)
    assert intent is not None and intent.step == "patching", intent
    assert intent.owner == f"{RESCALE_DAG}/rescale/{run_id}/-1"
    generation = killed["metadata"]["generation"]
    assert generation > before["metadata"]["generation"]

    retry = TaskProcess(RESCALE_DAG, "rescale", run_id, log=log)
    assert retry.finish() == "success", retry.output[-8000:]
    assert "Found this task's intent" in retry.output
    assert "RescaleInProgress" not in retry.output
    after = deployment.read()
    # Its own upgrade: the same spec applied again changed nothing, one generation.
    assert after["metadata"]["generation"] == generation
    done = intent_of(after)
    assert done is not None and done.step == "done" and done.strategy == "upgrade", done
    assert (done.old_parallelism, done.new_parallelism) == (2, 4)
    assert done.generation == generation
    status = after["status"]
    assert status["observedGeneration"] == generation
    job_status = status["jobStatus"]
    assert job_status["state"] == "RUNNING"
    assert done.new_job_id == job_status["jobId"] != old_job
    assert status["taskManager"]["replicas"] == 2
    # The job runs the upgraded spec, restored from the one savepoint of the upgrade.
    reconciled = json.loads(status["reconciliationStatus"]["lastReconciledSpec"])
    assert reconciled["job"]["parallelism"] == 4
    assert done.savepoint_path == job_status["upgradeSavepointPath"]
    assert _savepoints(deployment) == {_folder(done.savepoint_path)}
    result = task_result(RESCALE_DAG, run_id, "rescale")
    assert result["strategy"] == "upgrade" and result["new_parallelism"] == 4
    assert result["savepoint_path"] == done.savepoint_path
    assert result["job_id"] == done.new_job_id

    # Run again after success: already at the parallelism, nothing patched or written.
    again = TaskProcess(RESCALE_DAG, "rescale", run_id, log=tmp_path / "again.log")
    assert again.finish() == "success", again.output[-8000:]
    assert "nothing to do" in again.output
    assert deployment.read()["metadata"]["generation"] == generation
    assert intent_of(deployment.read()) == done
    assert _savepoints(deployment) == {_folder(done.savepoint_path)}


def test_a_savepoint_killed_after_the_nonce_was_set_returns_the_one_savepoint(
    deploy: Any, tmp_path: Path
) -> None:
    deployment = deploy("otk-savepoint")
    name = deployment.name
    job = deployment.status()["jobStatus"]["jobId"]
    run_id = create_run(SAVEPOINT_DAG, name, {"cluster": deployment.spec, "job_id": None})
    key = f"{SAVEPOINT_DAG}/savepoint/{run_id}/-1"
    nonce = int(stable_id(key, "savepoint-nonce")[:12], 16)

    def nonce_set() -> int | None:
        found = deployment.read()["spec"]["job"].get("savepointTriggerNonce")
        return int(found) if found is not None else None

    log = tmp_path / "savepoint.log"
    first = _killed(SAVEPOINT_DAG, "savepoint", run_id, log, nonce_set, "the nonce set")
    assert "Savepoint written" not in first.output
    killed = deployment.read()
    assert killed["spec"]["job"]["savepointTriggerNonce"] == nonce
    generation = killed["metadata"]["generation"]

    retry = TaskProcess(SAVEPOINT_DAG, "savepoint", run_id, log=tmp_path / "retry.log")
    assert retry.finish() == "success", retry.output[-8000:]
    assert "Setting spec.job.savepointTriggerNonce" not in retry.output
    after = deployment.read()
    assert after["metadata"]["generation"] == generation, "the nonce was set again"
    job_status = after["status"]["jobStatus"]
    history = job_status["savepointInfo"]["savepointHistory"]
    (taken,) = [entry for entry in history if entry.get("triggerNonce") == nonce]
    location = taken["location"]
    assert f"Savepoint written: {location}" in retry.output
    assert task_result(SAVEPOINT_DAG, run_id, "savepoint") == location
    # One savepoint in all, and the job it was taken of still runs.
    assert _savepoints(deployment) == {_folder(location)}
    assert job_status["state"] == "RUNNING" and job_status["jobId"] == job

    # Run again after success: the same savepoint, nothing set, nothing taken.
    again = TaskProcess(SAVEPOINT_DAG, "savepoint", run_id, log=tmp_path / "again.log")
    assert again.finish() == "success", again.output[-8000:]
    assert f"Savepoint written: {location}" in again.output
    assert "Setting spec.job.savepointTriggerNonce" not in again.output
    assert deployment.read()["metadata"]["generation"] == generation
    assert _savepoints(deployment) == {_folder(location)}


def test_a_teardown_killed_after_the_suspend_patch_deletes_and_names_the_one_savepoint(
    deploy: Any, tmp_path: Path
) -> None:
    deployment = deploy("otk-teardown")
    name = deployment.name
    run_id = create_run(TEARDOWN_DAG, name, {"cluster": deployment.spec})

    def suspend_set() -> bool:
        return deployment.read()["spec"]["job"].get("state") == "suspended"

    log = tmp_path / "teardown.log"
    first = _killed(TEARDOWN_DAG, "teardown", run_id, log, suspend_set, "the suspend patch")
    assert "Deleting Flink cluster" not in first.output
    killed = deployment.read()
    assert not killed["metadata"].get("deletionTimestamp"), "killed after the delete"

    retry = TaskProcess(TEARDOWN_DAG, "teardown", run_id, log=tmp_path / "retry.log")
    assert retry.finish() == "success", retry.output[-8000:]
    # Everything is gone, and the one savepoint -- the suspend's -- is the result.
    assert deployment.hook.remaining_objects(name, "default") == ()
    location = task_result(TEARDOWN_DAG, run_id, "teardown")
    assert isinstance(location, str), location
    assert _savepoints(deployment) == {_folder(location)}
    assert f"FlinkDeployment {name} suspended; savepoint {location}" in retry.output

    # Run again after success: nothing to delete, no savepoint.
    again = TaskProcess(TEARDOWN_DAG, "teardown", run_id, log=tmp_path / "again.log")
    assert again.finish() == "success", again.output[-8000:]
    assert "was already gone" in again.output
    assert _savepoints(deployment) == {_folder(location)}


def test_a_session_job_submit_killed_after_the_apply_returns_the_one_job(
    simulated_sandbox: SandboxServer, dag_bag: Any, tmp_path: Path
) -> None:
    session_job = deploy_session_example()
    name = session_job["metadata"]["name"]
    hook = FlinkKubernetesHook()
    run_id = create_run(SESSION_JOB_DAG, "otk-session-job", {"session_job": session_job})

    def applied() -> dict[str, Any] | None:
        # Listed, not read by name: only the task's reads by name are held (below).
        found = hook.list_objects(FLINK_SESSION_JOB, "default")
        return next((job for job in found if job["metadata"]["name"] == name), None)

    # The operator starts the job right after the apply: the API server holds the task's
    # reads of the FlinkSessionJob a while (a slow API server), so the kill lands after
    # the apply, before the task has seen the job.
    held = simulated_sandbox.faults.delay(2, method="GET", path=f"/flinksessionjobs/{name}$")
    try:
        log = tmp_path / "submit.log"
        _killed(SESSION_JOB_DAG, "submit", run_id, log, applied, "the FlinkSessionJob applied")
        generation = applied()["metadata"]["generation"]  # type: ignore[index]

        retry = TaskProcess(SESSION_JOB_DAG, "submit", run_id, log=tmp_path / "retry.log")
        assert retry.finish() == "success", retry.output[-8000:]
    finally:
        simulated_sandbox.faults.remove(held.id)
    after = applied()
    assert after is not None
    # The same spec applied again changed nothing; the task returns the operator's job.
    assert after["metadata"]["generation"] == generation
    job_id = after["status"]["jobStatus"]["jobId"]
    assert after["status"]["jobStatus"]["state"] == "RUNNING"
    assert task_result(SESSION_JOB_DAG, run_id, "submit") == job_id

    # Run again after success: the same job, nothing new.
    again = TaskProcess(SESSION_JOB_DAG, "submit", run_id, log=tmp_path / "again.log")
    assert again.finish() == "success", again.output[-8000:]
    assert task_result(SESSION_JOB_DAG, run_id, "submit") == job_id
    final = applied()
    assert final is not None and final["metadata"]["generation"] == generation
    assert final["status"]["jobStatus"]["jobId"] == job_id
    hook.delete_object(FLINK_SESSION_JOB, "default", name)
