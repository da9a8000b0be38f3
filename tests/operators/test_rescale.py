"""FlinkRescaleOperator with real Flink, and against the stand-in Flink Kubernetes Operator.

One session cluster with the adaptive scheduler (TaskManagers of 2 slots) serves the
module. Each test states the job it needs with :func:`running_at`; its ``job`` fixture
keeps the job running on the cluster when that one already runs every vertex at that
parallelism on the TaskManagers it needs, and else submits the SQL runner again so. Each
test stands alone and any order works: bad inputs change nothing (at 2); in place 2 -> 4
(a second TaskManager, every vertex at 4, the pause measured); 4 again is a no-op;
savepoint and restart 4 -> 2 (a new job restored from a savepoint on disk, back to 1
TaskManager); ``"auto"`` on a job Flink has no metrics of yet waits for them in the
triggerer, then reads the load (at 2), or takes given loads (2 -> 1). In file order each
test leaves the job the next one needs (the ``"auto"`` test starts its own). Last, a
FlinkDeployment (operator target) on a simulated sandbox with the stand-in operator is
rescaled by patching it, and the task waits until the operator has reconciled the new
generation. Marker ``kill``: a job whose TaskManager is killed mid-rescale (no restart
strategy) fails the task with ``RescaleFailed`` naming the job, not a timeout.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from dag_support import (
    FAST_TIMING,
    LocalSandbox,
    deferrals,
    provider_sleeps,
    rescale_conf,
    task_states,
    use_sandbox,
)
from flink_session import SessionCluster, quiet, session_cluster, wait_quietly
from operator_target import FlinkDeploymentUnderTest, application_spec
from polling import wait_until
from task_process import TaskProcess, create_run, kill_test

from airflow_provider_flink_k8s.kube.resources import DEPLOYMENT
from airflow_provider_flink_k8s.observation.intent import intent_of
from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.flink import SQL_RUNNER_CLASS
from flink_k8s_sandbox.flink.process import live_processes

pytestmark = pytest.mark.slow

NAME = "rescale"
ADAPTIVE = {
    "jobmanager.scheduler": "adaptive",
    "jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling": "0 s",
    "jobmanager.adaptive-scheduler.executing.resource-stabilization-timeout": "1 s",
    "jobmanager.adaptive-scheduler.submission.resource-stabilization-timeout": "1 s",
    "jobmanager.adaptive-scheduler.rescale-trigger.max-delay": "1 s",
}
SLOTS = 2
"""Task slots per TaskManager."""
FETCH_INTERVAL = 30.0
"""Seconds between Flink's fetches of the TaskManagers' metrics (``metrics.fetcher.
update-interval``): long enough that a job started right after a fetch has no metrics
for the next ``parallelism="auto"`` to read."""
FLINK_CONFIGURATION = {
    **ADAPTIVE,
    "metrics.fetcher.update-interval": f"{FETCH_INTERVAL:.0f} s",
}


class Job:
    """The job a test rescales, on the module's cluster."""

    def __init__(self, cluster: SessionCluster, job_id: str):
        self.cluster = cluster
        self.spec = cluster.spec
        self.rest = cluster.rest
        self.jar_id = cluster.jar_id
        self.script = cluster.script
        self.id = job_id

    def parallelisms(self, job_id: str | None = None) -> list[int]:
        return [vertex.parallelism for vertex in self.rest.job(job_id or self.id).vertices]

    def conf(self, **params: Any) -> dict[str, Any]:
        return rescale_conf(self.spec, **{"job_id": self.id, **params})


@pytest.fixture(scope="module")
def cluster(local_sandbox: LocalSandbox) -> Iterator[SessionCluster]:
    """A session cluster with the adaptive scheduler (TaskManagers of ``SLOTS`` slots)
    and the SQL runner's jar uploaded; started once for the module (the costly part)."""
    with session_cluster(
        local_sandbox, NAME, slots=SLOTS, flink_configuration=FLINK_CONFIGURATION
    ) as found:
        yield found


@pytest.fixture
def job(request: pytest.FixtureRequest, cluster: SessionCluster) -> Job:
    """The SQL runner's job at the parallelism the test asks for with :func:`running_at`."""
    return Job(cluster, cluster.job_at(int(request.param)))


def running_at(parallelism: int) -> pytest.MarkDecorator:
    """The test's ``job`` fixture: the cluster's one job, every vertex at ``parallelism``
    (on as many TaskManagers as that needs), whatever ran before."""
    return pytest.mark.parametrize("job", [parallelism], indirect=True, ids=[f"at{parallelism}"])


def _result(dag_run: Any) -> dict[str, Any]:
    return dag_run.get_task_instance("rescale").xcom_pull(task_ids="rescale")


def _restart(job: Job) -> dict[str, Any]:
    """What a savepoint_restart of the SQL runner's job resubmits (its jar, as uploaded)."""
    return {
        "jar_id": job.jar_id,
        "entry_class": SQL_RUNNER_CLASS,
        "args": ["--script", str(job.script)],
    }


@running_at(2)
def test_bad_inputs_fail_before_any_change(
    job: Job, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    cases = [
        ({"parallelism": 0}, "parallelism: must be >= 1, got 0"),
        ({"parallelism": 1000}, "parallelism: must be <= the job's max parallelism 128"),
        ({"parallelism": 4, "strategy": "sideways"}, "strategy: must be one of auto, in_place"),
        ({"parallelism": 4, "job_id": "f" * 32}, f"job_id: cluster {NAME} has no job"),
        (
            {"parallelism": 4, "strategy": "savepoint_restart"},
            "jar_id: savepoint_restart of a session cluster's job resubmits its jar",
        ),
        # Flink itself is asked (/jars/:id/plan) whether the restart's jar, class and
        # arguments build a job -- before the job is stopped.
        (
            {"parallelism": 4, "strategy": "savepoint_restart", **_restart(job)}
            | {"entry_class": "com.example.NotInTheJar"},
            "entry_class: Flink cannot build the job to restart from jar",
        ),
        (
            {"parallelism": 4, "strategy": "savepoint_restart", **_restart(job)}
            | {"args": ["--script", "/nowhere/missing.sql"]},
            "args: Flink cannot build the job to restart from jar",
        ),
        (
            {"parallelism": 4, "strategy": "savepoint_restart", **_restart(job)}
            | {"jar_id": "gone.jar"},
            "jar_id: Flink cannot build the job to restart from jar gone.jar",
        ),
    ]
    for params, _ in cases:
        dag_run = run_dag("flink_test_rescale", job.conf(**params))
        assert task_states(dag_run) == {"rescale": "failed"}, params
    out = capfd.readouterr().out
    for params, message in cases:
        assert message in out, (params, out[-3000:])
    assert "Nothing was stopped" in out
    # Nothing changed: the same job runs at 2, no savepoint was taken.
    assert job.cluster.savepoint_folders(job.id) == set()
    assert job.rest.job(job.id).state == "RUNNING"
    assert job.parallelisms() == [2] * len(job.parallelisms())
    assert job.rest.overview().taskmanagers == 1


@running_at(2)
def test_in_place_rescale_adds_a_taskmanager_and_runs_every_vertex_at_4(
    job: Job,
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    worker_sleeps: list[str],
) -> None:
    caplog.set_level(logging.INFO)
    conf = job.conf(parallelism=4, strategy="auto")
    dag_run = run_dag("flink_test_rescale_deferred", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"rescale": "success"}, out[-5000:]
    # Every wait (the slots, every vertex at 4) deferred; none slept in the worker.
    assert deferrals(caplog)["rescale"] >= 2
    assert provider_sleeps(worker_sleeps) == []
    result = _result(dag_run)
    print(json.dumps(result, indent=1))
    assert result["strategy"] == "in_place"
    assert (result["old_parallelism"], result["new_parallelism"]) == (2, 4)
    assert (result["taskmanagers_before"], result["taskmanagers_after"]) == (1, 2)
    assert result["job_id"] == job.id and result["savepoint_path"] is None
    # The job restarted once (the adaptive scheduler's rescale): some downtime, within
    # the time from the request until every vertex ran at 4.
    assert 0 < result["downtime_seconds"] <= result["time_to_target_seconds"]
    assert set(job.parallelisms()) == {4}
    assert job.rest.overview().slots_total == 4
    assert "auto -> in_place" in out


@running_at(4)
def test_the_same_parallelism_again_changes_nothing(
    job: Job, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("flink_test_rescale", job.conf(parallelism=4))
    assert task_states(dag_run) == {"rescale": "success"}
    result = _result(dag_run)
    assert result["strategy"] == "none" and result["downtime_seconds"] == 0
    assert result["time_to_target_seconds"] == 0
    assert result["job_id"] == job.id
    assert "already runs at parallelism 4: nothing to do" in capfd.readouterr().out


@running_at(4)
def test_savepoint_restart_runs_a_new_job_at_2_restored_from_the_savepoint(
    job: Job,
    run_dag: Any,
    caplog: pytest.LogCaptureFixture,
    worker_sleeps: list[str],
) -> None:
    caplog.set_level(logging.INFO)
    conf = job.conf(
        parallelism=2,
        strategy="savepoint_restart",
        jar_id=job.jar_id,
        entry_class=SQL_RUNNER_CLASS,
        args=["--script", str(job.script)],
    )
    dag_run = run_dag("flink_test_rescale_deferred", conf)
    assert task_states(dag_run) == {"rescale": "success"}
    # Each wait deferred -- the savepoint, the old job's end, the slots, the new job --
    # when it was not over already at the first look; the new job, just submitted, never is.
    assert deferrals(caplog)["rescale"] >= 1
    assert provider_sleeps(worker_sleeps) == []
    result = _result(dag_run)
    print(json.dumps(result, indent=1))
    assert result["strategy"] == "savepoint_restart"
    assert (result["old_parallelism"], result["new_parallelism"]) == (4, 2)
    assert (result["taskmanagers_before"], result["taskmanagers_after"]) == (2, 1)
    assert result["previous_job_id"] == job.id and result["job_id"] != job.id
    savepoint = result["savepoint_path"]
    folder = Path(savepoint.removeprefix("file:").removeprefix("//"))
    assert (folder / "_metadata").is_file()
    assert folder.parent == job.cluster.savepoints
    assert job.rest.job(job.id).state == "FINISHED"
    assert set(job.parallelisms(result["job_id"])) == {2}
    restored = job.rest.checkpoints(result["job_id"]).latest.restored
    assert restored is not None and restored.is_savepoint
    assert Path(str(restored.external_path).removeprefix("file:")) == folder
    assert 0 < result["downtime_seconds"] <= result["time_to_target_seconds"]
    assert job.rest.overview().taskmanagers == 1


def _restart_without_metrics(job: Job) -> None:
    """Replace the job with a new one (parallelism 2) that Flink has no metrics of.

    Flink's REST API fetches the TaskManagers' metrics at the first request that reads
    them once ``FETCH_INTERVAL`` is over, and serves what it fetched last in between.
    Nothing has asked for longer than that: the request here fetches now, so the job
    started right after has no metrics until the next fetch, ``FETCH_INTERVAL`` later."""
    time.sleep(FETCH_INTERVAL + 1)
    job.rest.job(job.id)
    job.rest.cancel(job.id)
    wait_quietly(lambda: job.rest.overview().slots_available == SLOTS, 60, "the job's slots free")
    args = ["--script", str(job.script)]
    job.id = job.rest.run_jar(job.jar_id, SQL_RUNNER_CLASS, args, parallelism=2)
    wait_quietly(lambda: job.rest.job(job.id).all_vertices_running, 60, "the new job RUNNING")


@running_at(2)
def test_auto_waits_for_the_load_in_the_triggerer_and_explains_each_vertex(
    job: Job,
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    worker_sleeps: list[str],
) -> None:
    caplog.set_level(logging.INFO)
    _restart_without_metrics(job)
    dag_run = run_dag("flink_test_rescale_deferred", job.conf(parallelism="auto"))
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"rescale": "success"}, out[-5000:]
    # Flink had no metrics of the new job: the task deferred the wait for them (a
    # "metrics" WaitFor) and slept nowhere in the worker; back from the triggerer it
    # observed the job again and recommended.
    assert "report no load metrics yet" in out
    assert deferrals(caplog)["rescale"] >= 1
    assert provider_sleeps(worker_sleeps) == []
    # The keyed window aggregation's true processing rate is measured (busy time and
    # input rate); the datagen source reports no busy time, so it keeps its parallelism.
    aggregate = next(
        line
        for line in out.splitlines()
        if "GlobalWindowAggregate" in line and "report no load metrics" not in line
    )
    assert "rec/s" in aggregate and "no busy time" not in aggregate, aggregate
    assert "Recommendation:" in out
    assert _result(dag_run)["old_parallelism"] == 2


@running_at(2)
def test_auto_with_given_loads_rescales_to_the_recommendation(
    job: Job, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    # Two lightly loaded vertices (8% busy at 100 rec/s): one subtask each is plenty.
    vertices = [vertex.id for vertex in job.rest.job(job.id).vertices]
    loads = {vid: {"busy_time_ms_per_s": 80.0, "input_rate": 100.0} for vid in vertices}
    dag_run = run_dag("flink_test_rescale", job.conf(parallelism="auto", metrics=loads))
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"rescale": "success"}, out[-5000:]
    result = _result(dag_run)
    assert (result["old_parallelism"], result["new_parallelism"]) == (2, 1)
    assert result["strategy"] == "in_place" and result["job_id"] == job.id
    assert set(job.parallelisms()) == {1}


@kill_test
def test_a_job_failing_mid_rescale_fails_the_task_with_the_jobs_state(
    local_sandbox: LocalSandbox,
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Flink gives the job up at its first failure (no restart strategy). Once the rescale
    # asked for a second TaskManager, the one the job runs on is killed: the job FAILS
    # while the task waits. (Marker ``kill``: it kills a TaskManager's process.)
    caplog.set_level(logging.INFO)
    name = "rsfail"
    settings = {**ADAPTIVE, "restart-strategy.type": "none"}
    with session_cluster(local_sandbox, name, slots=SLOTS, flink_configuration=settings) as found:
        job_id = found.run_job(parallelism=2)
        (taskmanager,) = [
            process
            for process in live_processes()
            if process.name.startswith(f"default/{name}-taskmanager") and process.is_alive()
        ]

        def scaled() -> bool:
            deployment = found.kube.get_object(DEPLOYMENT, "default", f"{name}-taskmanager")
            return ((deployment or {}).get("spec") or {}).get("replicas") == 2

        def kill_once_scaled() -> None:
            wait_until(quiet(scaled), 240, "the rescale's second TaskManager asked for")
            taskmanager.kill()

        with ThreadPoolExecutor(max_workers=1) as meanwhile:
            killed = meanwhile.submit(kill_once_scaled)
            conf = rescale_conf(found.spec, job_id=job_id, parallelism=4, strategy="in_place")
            dag_run = run_dag("flink_test_rescale_deferred", conf)
            killed.result(timeout=60)
        out = capfd.readouterr().out
        assert task_states(dag_run) == {"rescale": "failed"}, out[-5000:]
        assert found.rest.job(job_id).state == "FAILED"
        # The task failed on the job's end, naming it: not a timeout, not stuck.
        failure = next(
            (line for line in out.splitlines() if "DeploymentFailed: " in line and job_id in line),
            "",
        )
        assert failure and "FAILED" in failure, out[-5000:]
        # ... with Flink's root exception: logged whole, its first line in the message.
        assert f"Root exception of job {job_id}" in out, out[-5000:]
        assert "during the rescale: " in failure and "Exception" in failure, failure
        assert "DeploymentTimeout" not in out and "RescaleStuck" not in out, out[-5000:]
        assert deferrals(caplog)["rescale"] >= 1


# -- the operator target, on a simulated sandbox with the stand-in operator ---------------


@pytest.fixture
def operator_sandbox(tmp_path: Path) -> Iterator[Path]:
    """A simulated sandbox running the stand-in Flink Kubernetes Operator; the Airflow
    connection points at it for this test only."""
    kubeconfig = tmp_path / "config"
    previous = os.environ.get("AIRFLOW_CONN_KUBERNETES_DEFAULT")
    with SandboxServer(timing=FAST_TIMING, flink_operator=True) as sandbox:
        sandbox.write_kubeconfig(kubeconfig)
        use_sandbox(kubeconfig)
        try:
            yield kubeconfig
        finally:
            if previous is not None:
                os.environ["AIRFLOW_CONN_KUBERNETES_DEFAULT"] = previous


@pytest.mark.parametrize("dag_id", ["flink_test_rescale", "flink_test_rescale_deferred"])
def test_an_operator_target_is_rescaled_by_patching_its_flinkdeployment(
    operator_sandbox: Path,
    run_dag: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    dag_id: str,
) -> None:
    caplog.set_level(logging.INFO)
    adaptive = {"jobmanager.scheduler": "adaptive"}
    spec = application_spec("opscale", tmp_path / "savepoints", flink_configuration=adaptive)
    deployment = FlinkDeploymentUnderTest(spec).deploy()
    before = deployment.status()["jobStatus"]["jobId"]

    dag_run = run_dag(dag_id, rescale_conf(spec, parallelism=4))
    assert task_states(dag_run) == {"rescale": "success"}
    # Deferred, the wait for the reconciled FlinkDeployment ran in the trigger.
    assert deferrals(caplog).get("rescale", 0) == (1 if dag_id.endswith("deferred") else 0)
    result = _result(dag_run)
    print(json.dumps(result, indent=1))
    after = deployment.read()
    # Flink's REST API does not answer in a simulated sandbox: no vertex ids, so the
    # operator's path is a job.parallelism change (an upgrade through a savepoint).
    assert result["strategy"] == "upgrade"
    assert (result["old_parallelism"], result["new_parallelism"]) == (2, 4)
    assert (result["taskmanagers_before"], result["taskmanagers_after"]) == (1, 2)
    assert after["spec"]["job"]["parallelism"] == 4
    assert after["status"]["observedGeneration"] == after["metadata"]["generation"]
    # The task ends once the operator reconciled the patch (DEPLOYED or STABLE); the
    # stand-in flips DEPLOYED -> STABLE on its own clock, so either may be seen here.
    assert after["status"]["lifecycleState"] in ("DEPLOYED", "STABLE")
    assert result["job_id"] == after["status"]["jobStatus"]["jobId"] != before
    assert result["savepoint_path"] == after["status"]["jobStatus"]["upgradeSavepointPath"]

    again = run_dag("flink_test_rescale", rescale_conf(spec, parallelism=4))
    assert task_states(again) == {"rescale": "success"}
    assert _result(again)["strategy"] == "none"


@kill_test
def test_an_operator_target_rescale_killed_after_the_patch_waits_for_it_on_retry(
    operator_sandbox: Path, dag_bag: Any, tmp_path: Path
) -> None:
    spec = application_spec("opkill", tmp_path / "savepoints")
    deployment = FlinkDeploymentUnderTest(spec).deploy().read
    run_id = create_run("flink_test_rescale", "opkill-run", rescale_conf(spec, parallelism=4))
    log = tmp_path / "task.log"
    first = TaskProcess("flink_test_rescale", "rescale", run_id, log=log)

    def patched() -> Any:
        intent = intent_of(deployment())
        return intent if intent is not None and intent.step == "upgrading" else None

    intent = first.kill_when(patched, "the FlinkDeployment patched")
    assert intent.generation == deployment()["metadata"]["generation"]
    retry = TaskProcess("flink_test_rescale", "rescale", run_id, log=log)
    assert retry.finish() == "success", retry.output[-8000:]
    assert "Found this task's intent" in retry.output
    done = intent_of(deployment())
    assert done is not None and done.step == "done" and done.strategy == "upgrade"
    assert (done.old_parallelism, done.new_parallelism) == (2, 4)
    status = deployment()["status"]
    assert done.new_job_id == status["jobStatus"]["jobId"]
    assert done.savepoint_path == status["jobStatus"]["upgradeSavepointPath"]
