"""The operators' documented failure paths, each in a real DAG run on a sandbox with
simulated containers and the Flink REST stand-in (no JVM): no RUNNING job, several
RUNNING jobs, no savepoint directory, a cluster the operator target does not have, a
rescale refused (another task instance's unfinished intent, a cluster not deployed, bad
requests of a FlinkDeployment, a restart's jar missing from an upstream task's mapping)
or losing its intent write to another writer, an in-place scale-down, a task cleared
and run again after it succeeded (or after its job was cancelled), and (marker
``kill``) a submit killed while it waits: ``on_kill`` cancels only a job its own try
submitted.

Each test deploys its own standalone session cluster with the Kubernetes hook, runs jobs
on it through Flink's REST API, runs a one-task DAG of ``tests/dags/flink_test_failures.py``
(or ``flink_test_rescale``) and checks the task's state, its error (the field, the job
ids, the cause) and that nothing changed: the jobs run on, no savepoint was written, no
TaskManager was added, no rescale intent was recorded, no object was deleted.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from dag_support import deferrals, orders_jar, rescale_conf, task_states
from flink_session import quiet
from operator_target import FlinkDeploymentUnderTest, application_spec
from polling import wait_until
from task_process import TaskProcess, create_run, kill_test

from airflow_provider_flink_k8s.flinkrest import FlinkRestService
from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.kube.resources import DEPLOYMENT, FLINK_DEPLOYMENT
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation.intent import Intent, intent_of
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox import SandboxServer


def _wait(check: Callable[[], Any], what: str) -> Any:
    """:func:`wait_until`, taking a Flink REST error (a JobManager starting) for "not yet"."""
    return wait_until(quiet(check), 60, what, interval=0.2)


class Cluster:
    """A deployed session cluster, its REST hook, its uploaded jar and its jobs."""

    def __init__(self, spec: dict[str, Any], rest: FlinkRestHook, folder: Path) -> None:
        self.spec = spec
        self.name = str(spec["name"])
        self.rest = rest
        self.folder = folder
        self.jar = orders_jar(folder)
        self.jar_id = ""
        self.hook = FlinkKubernetesHook()

    def run_job(self, parallelism: int = 1) -> str:
        """Run a job of the jar; its id once every task of it runs."""
        if not self.jar_id:
            self.jar_id = self.rest.upload_jar(self.jar)
        job_id = self.rest.run_jar(self.jar_id, "demo.Orders", [], parallelism=parallelism)
        _wait(lambda: self.rest.job(job_id).all_vertices_running, f"job {job_id} running")
        return job_id

    def states(self) -> dict[str, str]:
        return {job.id: job.state for job in self.rest.jobs()}

    def savepoints(self) -> list[str]:
        """What is written under the spec's savepoint folder (the stand-in writes there)."""
        folder = self.folder / "savepoints"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def intent(self) -> Any:
        deployment = self.hook.get_object(DEPLOYMENT, "default", f"{self.name}-jobmanager")
        assert deployment is not None
        return intent_of(deployment)

    def objects(self) -> tuple[Any, ...]:
        return tuple(self.hook.remaining_objects(self.name, "default"))


def _spec(name: str, folder: Path, *, savepoint_dir: bool = True) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.25},
        "taskmanager": {"memory": "1024m", "cpu": 0.25, "slots": 2, "replicas": 1},
        "flink_configuration": {"jobmanager.scheduler": "adaptive"},
    }
    if savepoint_dir:
        spec["savepoint_dir"] = (folder / "savepoints").as_uri()
    return spec


@pytest.fixture
def deploy(simulated_sandbox: SandboxServer, tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    """Deploy a session cluster (hook, not a task) and wait until its TaskManager
    registered; every cluster deployed is deleted after the test."""
    hook = FlinkKubernetesHook()
    made: list[Cluster] = []

    def make(name: str, *, savepoint_dir: bool = True) -> Cluster:
        spec = _spec(name, tmp_path, savepoint_dir=savepoint_dir)
        hook.apply(render_manifests(load_cluster(spec)))
        service = FlinkRestService.for_cluster(name, "default", route="service_proxy")
        cluster = Cluster(spec, FlinkRestHook(service=service), tmp_path)
        made.append(cluster)
        _wait(lambda: cluster.rest.overview().slots_total == 2, "1 TaskManager, 2 slots")
        return cluster

    yield make
    for cluster in made:
        try:
            hook.delete_cluster(cluster.name, "default", timeout=30)
        finally:
            cluster.rest.close()


def _error(out: str, start: str) -> str:
    """The first line of the task log holding ``start`` (the error's stable part: the
    field and the cluster), from there on; the exception's class may change."""
    line = next((line for line in out.splitlines() if start in line), "")
    assert line, f"no {start!r} in:\n{out[-4000:]}"
    return line[line.index(start) :]


def _savepoint_conf(cluster: Cluster, **params: Any) -> dict[str, Any]:
    return {"cluster": cluster.spec, "job_id": None, "savepoint_dir": None, **params}


# -- no RUNNING job, several RUNNING jobs ----------------------------------------------------


def test_savepoint_and_rescale_of_a_cluster_that_runs_no_job_fail_and_change_nothing(
    deploy: Callable[..., Cluster], run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    cluster = deploy("nojob")
    ended = cluster.run_job()
    cluster.rest.cancel(ended)
    _wait(lambda: cluster.states() == {ended: "CANCELED"}, "the job CANCELED")

    savepoint = run_dag("flink_test_failures_savepoint", _savepoint_conf(cluster))
    out = capfd.readouterr().out
    assert task_states(savepoint) == {"savepoint": "failed"}, out[-4000:]
    # The message names the field, the cluster and the jobs it knows.
    error = _error(out, "job_id: cluster nojob")
    assert "no RUNNING job" in error and "savepoint" in error, error
    assert f"{ended} (CANCELED)" in error

    rescale = run_dag("flink_test_rescale", rescale_conf(cluster.spec, parallelism=2))
    out = capfd.readouterr().out
    assert task_states(rescale) == {"rescale": "failed"}, out[-4000:]
    error = _error(out, "job_id: cluster nojob")
    assert "no RUNNING job" in error and "rescale" in error, error

    assert cluster.states() == {ended: "CANCELED"}
    assert cluster.savepoints() == []
    assert cluster.intent() is None
    assert cluster.rest.overview().taskmanagers == 1


def test_savepoint_and_rescale_of_a_cluster_that_runs_two_jobs_name_both_and_change_nothing(
    deploy: Callable[..., Cluster], run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    cluster = deploy("twojobs")
    first, second = cluster.run_job(), cluster.run_job()

    savepoint = run_dag("flink_test_failures_savepoint", _savepoint_conf(cluster))
    out = capfd.readouterr().out
    assert task_states(savepoint) == {"savepoint": "failed"}, out[-4000:]
    error = _error(out, "job_id: cluster twojobs")
    assert "savepoint" in error and first in error and second in error, error

    rescale = run_dag("flink_test_rescale", rescale_conf(cluster.spec, parallelism=2))
    out = capfd.readouterr().out
    assert task_states(rescale) == {"rescale": "failed"}, out[-4000:]
    error = _error(out, "job_id: cluster twojobs")
    assert first in error and second in error, error

    assert cluster.states() == {first: "RUNNING", second: "RUNNING"}
    assert [v.parallelism for v in cluster.rest.job(first).vertices] == [1, 1]
    assert cluster.savepoints() == []
    assert cluster.intent() is None
    assert cluster.rest.overview().taskmanagers == 1


# -- no savepoint directory ---------------------------------------------------------------------


def test_without_a_savepoint_directory_each_savepoint_task_is_refused_naming_the_field(
    deploy: Callable[..., Cluster], run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    cluster = deploy("nodir", savepoint_dir=False)
    job_id = cluster.run_job()
    objects = cluster.objects()

    savepoint = run_dag("flink_test_failures_savepoint", _savepoint_conf(cluster))
    out = capfd.readouterr().out
    assert task_states(savepoint) == {"savepoint": "failed"}, out[-4000:]
    assert "savepoint_dir: the savepoint needs a savepoint directory" in out, out[-4000:]
    assert "Triggering" not in out  # refused before Flink was asked

    teardown = run_dag("flink_test_failures_teardown", _savepoint_conf(cluster))
    out = capfd.readouterr().out
    assert task_states(teardown) == {"teardown": "failed"}, out[-4000:]
    rule = "savepoint_dir: the final savepoint (savepoint=True) needs a savepoint directory"
    assert rule in out, out[-4000:]
    assert "Deleting" not in out

    restart = {"strategy": "savepoint_restart", "jar_id": cluster.jar_id}
    conf = rescale_conf(cluster.spec, parallelism=2, job_id=job_id, **restart)
    rescale = run_dag("flink_test_rescale", conf)
    out = capfd.readouterr().out
    assert task_states(rescale) == {"rescale": "failed"}, out[-4000:]
    assert "cluster.savepoint_dir: savepoint_restart needs a savepoint directory" in out

    # Refused before any change: the job runs on at parallelism 1, nothing was deleted.
    assert cluster.states() == {job_id: "RUNNING"}
    assert [v.parallelism for v in cluster.rest.job(job_id).vertices] == [1, 1]
    assert cluster.objects() == objects
    assert cluster.intent() is None
    assert cluster.rest.overview().taskmanagers == 1


# -- the operator target: no FlinkDeployment ----------------------------------------------------


def test_savepoint_and_rescale_of_a_flinkdeployment_that_does_not_exist_name_it(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    spec = application_spec("ghost", tmp_path / "savepoints")
    savepoint = run_dag(
        "flink_test_failures_savepoint", {"cluster": spec, "job_id": None, "savepoint_dir": None}
    )
    out = capfd.readouterr().out
    assert task_states(savepoint) == {"savepoint": "failed"}, out[-4000:]
    assert "FlinkDeployment default/ghost does not exist" in out, out[-4000:]

    rescale = run_dag("flink_test_rescale", rescale_conf(spec, parallelism=4))
    out = capfd.readouterr().out
    assert task_states(rescale) == {"rescale": "failed"}, out[-4000:]
    assert "cluster: FlinkDeployment default/ghost does not exist" in out, out[-4000:]
    assert FlinkKubernetesHook().remaining_objects("ghost", "default") == ()


def test_a_savepoint_of_a_suspended_flinkdeployment_fails_naming_its_state_and_patches_nothing(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    spec = application_spec("asleep", tmp_path / "savepoints")
    under_test = FlinkDeploymentUnderTest(spec)
    hook, deployment = under_test.hook, under_test.read
    try:
        under_test.deploy()
        suspend = {"spec": {"job": {"state": "suspended"}}}
        hook.patch_object(FLINK_DEPLOYMENT, "default", "asleep", suspend)
        under_test.wait_for(
            lambda status: (
                (status.get("jobStatus") or {}).get("state") == "SUSPENDED"
                and status.get("lifecycleState") == "SUSPENDED"
            ),
            "the job SUSPENDED",
        )
        before = deployment()["metadata"]["generation"]
        conf = {"cluster": spec, "job_id": None, "savepoint_dir": None}
        dag_run = run_dag("flink_test_failures_savepoint", conf)
        out = capfd.readouterr().out
        assert task_states(dag_run) == {"savepoint": "failed"}, out[-4000:]
        error = _error(out, "default/asleep")
        assert "SUSPENDED" in error and "RUNNING" in error, error
        after = deployment()
        assert after["metadata"]["generation"] == before
        assert "savepointTriggerNonce" not in after["spec"]["job"]
    finally:
        hook.delete_cluster("asleep", "default", timeout=30)


# -- the rescale's refusals: another task's intent, no cluster, bad operator-target inputs ----

OTHER_RESCALE = "other_dag/rescale/manual__1/-1"


def _foreign_intent(job_id: str | None) -> Intent:
    """An unfinished rescale of another task instance, as its worker left it."""
    return Intent(
        operation="rescale",
        owner=OTHER_RESCALE,
        strategy="savepoint_restart",
        step="stopping",
        job_id=job_id,
        old_parallelism=1,
        new_parallelism=2,
    )


def _record_foreign_intent(ref: Any, name: str, job_id: str | None) -> Intent:
    """Write :func:`_foreign_intent` on ``ref`` ``name`` through the provider's own hook
    (guarded by the object's resourceVersion, as a task writes it)."""
    hook = FlinkKubernetesHook()
    found = hook.get_object(ref, "default", name)
    assert found is not None, name
    intent = _foreign_intent(job_id)
    hook.record_intent(ref, "default", name, intent, found["metadata"]["resourceVersion"])
    return intent


def test_a_rescale_while_another_task_instance_holds_the_intent_fails_naming_it(
    deploy: Callable[..., Cluster],
    run_dag: Any,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    cluster = deploy("held")
    job_id = cluster.run_job()
    held = _record_foreign_intent(DEPLOYMENT, "held-jobmanager", job_id)

    conf = rescale_conf(cluster.spec, parallelism=2, job_id=job_id)
    dag_run = run_dag("flink_test_rescale", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"rescale": "failed"}, out[-4000:]
    error = _error(out, "RescaleInProgress: ")
    assert f"another task ({OTHER_RESCALE}) is in the middle of a rescale" in error, error
    assert f"(step stopping, job {job_id})" in error, error
    assert "remove the annotation airflow-provider-flink-k8s/intent" in error, error
    # Nothing changed: the other task's intent stays, the job runs on at 1, no savepoint.
    assert cluster.intent() == held
    assert cluster.states() == {job_id: "RUNNING"}
    assert [v.parallelism for v in cluster.rest.job(job_id).vertices] == [1, 1]
    assert cluster.savepoints() == []
    assert cluster.rest.overview().taskmanagers == 1

    # The operator target: the intent lives on the FlinkDeployment; nothing is patched.
    spec = application_spec("opheld", tmp_path / "savepoints")
    under_test = FlinkDeploymentUnderTest(spec)
    try:
        under_test.deploy()
        held = _record_foreign_intent(FLINK_DEPLOYMENT, "opheld", None)
        generation = under_test.read()["metadata"]["generation"]
        dag_run = run_dag("flink_test_rescale", rescale_conf(spec, parallelism=4))
        out = capfd.readouterr().out
        assert task_states(dag_run) == {"rescale": "failed"}, out[-4000:]
        error = _error(out, "RescaleInProgress: ")
        assert f"another task ({OTHER_RESCALE}) is in the middle of a rescale" in error, error
        after = under_test.read()
        assert intent_of(after) == held
        assert after["metadata"]["generation"] == generation
        assert after["spec"]["job"]["parallelism"] == 2
    finally:
        under_test.hook.delete_cluster("opheld", "default", timeout=30)


def test_a_rescale_of_a_cluster_that_is_not_deployed_names_it_and_creates_nothing(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    spec = _spec("absent", tmp_path)
    dag_run = run_dag("flink_test_rescale", rescale_conf(spec, parallelism=2))
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"rescale": "failed"}, out[-4000:]
    assert "cluster: default/absent is not deployed" in out, out[-4000:]
    assert FlinkKubernetesHook().remaining_objects("absent", "default") == ()


def test_bad_rescale_requests_of_a_flinkdeployment_are_refused_before_any_patch(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Flink 1.20 without the adaptive scheduler, max parallelism 4; the simulated
    sandbox's FlinkDeployment has no Flink REST API behind it."""
    spec = application_spec("oprefuse", tmp_path / "savepoints")
    spec["job"] = {**spec["job"], "max_parallelism": 4}
    session = application_spec("opsession", tmp_path / "savepoints", mode="session")
    del session["job"]
    cases = [
        (spec, {"parallelism": 8}, "parallelism: must be <= job.max_parallelism 4, got 8"),
        (
            spec,
            {"parallelism": 3, "strategy": "in_place"},
            "strategy: in_place on the operator target needs 'jobmanager.scheduler: adaptive' "
            "and Flink >= 1.18 (flink_version is 1.20)",
        ),
        (
            spec,
            {"parallelism": "auto"},
            "parallelism: 'auto' needs the job's vertices from Flink's REST API",
        ),
        (session, {"parallelism": 4}, "cluster.job: a session FlinkDeployment runs no job"),
    ]
    under_test = FlinkDeploymentUnderTest(spec)
    try:
        under_test.deploy()
        before = under_test.read()
        for cluster, params, message in cases:
            dag_run = run_dag("flink_test_rescale", rescale_conf(cluster, **params))
            out = capfd.readouterr().out
            assert task_states(dag_run) == {"rescale": "failed"}, (params, out[-4000:])
            assert message in out, (params, out[-4000:])
        # Nothing was written: no intent, no patch, the same job.
        after = under_test.read()
        assert intent_of(after) is None
        assert after["metadata"]["generation"] == before["metadata"]["generation"]
        assert after["spec"]["job"]["parallelism"] == 2
        assert after["status"]["jobStatus"]["jobId"] == before["status"]["jobStatus"]["jobId"]
        assert FlinkKubernetesHook().remaining_objects("opsession", "default") == ()
    finally:
        under_test.hook.delete_cluster("oprefuse", "default", timeout=30)


def test_a_rescale_that_loses_the_intent_write_reads_it_again_and_decides_again(
    simulated_sandbox: SandboxServer,
    deploy: Callable[..., Cluster],
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The intent's write carries the JobManager Deployment's resourceVersion: a write
    that loses to another writer (409 Conflict, injected here) is read and decided again.
    A writer that always wins fails the task with ``RescaleConflict``, before any change."""
    cluster = deploy("conflict")
    job_id = cluster.run_job()
    path = "/deployments/conflict-jobmanager$"
    rule = simulated_sandbox.faults.fail(409, method="PATCH", path=path, times=None)
    try:
        refused = run_dag("flink_test_rescale", rescale_conf(cluster.spec, parallelism=2))
    finally:
        simulated_sandbox.faults.remove(rule.id)
    out = capfd.readouterr().out
    assert task_states(refused) == {"rescale": "failed"}, out[-4000:]
    assert "RescaleConflict: could not record the intent on conflict-jobmanager" in out
    assert out.count("The intent on conflict-jobmanager changed meanwhile") == 5, out[-4000:]
    assert cluster.intent() is None
    assert [v.parallelism for v in cluster.rest.job(job_id).vertices] == [1, 1]

    simulated_sandbox.faults.fail(409, method="PATCH", path=path, times=1)
    dag_run = run_dag("flink_test_rescale", rescale_conf(cluster.spec, parallelism=2))
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"rescale": "success"}, out[-4000:]
    assert out.count("The intent on conflict-jobmanager changed meanwhile") == 1, out[-4000:]
    result = dag_run.get_task_instance("rescale").xcom_pull(task_ids="rescale")
    assert (result["strategy"], result["new_parallelism"]) == ("in_place", 2)
    assert {v.parallelism for v in cluster.rest.job(job_id).vertices} == {2}
    assert cluster.intent().step == "done"


def test_an_in_place_scale_down_releases_the_taskmanagers_it_no_longer_needs(
    deploy: Callable[..., Cluster], run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    cluster = deploy("scaledown")
    job_id = cluster.run_job(parallelism=2)
    up = run_dag(
        "flink_test_rescale", rescale_conf(cluster.spec, parallelism=4, strategy="in_place")
    )
    out = capfd.readouterr().out
    assert task_states(up) == {"rescale": "success"}, out[-4000:]
    assert cluster.rest.overview().taskmanagers == 2

    down = run_dag(
        "flink_test_rescale", rescale_conf(cluster.spec, parallelism=2, strategy="in_place")
    )
    out = capfd.readouterr().out
    assert task_states(down) == {"rescale": "success"}, out[-4000:]
    result = down.get_task_instance("rescale").xcom_pull(task_ids="rescale")
    assert result["strategy"] == "in_place" and result["job_id"] == job_id
    assert (result["old_parallelism"], result["new_parallelism"]) == (4, 2)
    assert (result["taskmanagers_before"], result["taskmanagers_after"]) == (2, 1)
    # The same job runs on at 2; the second TaskManager and its slots are gone.
    assert cluster.states() == {job_id: "RUNNING"}
    assert {v.parallelism for v in cluster.rest.job(job_id).vertices} == {2}
    overview = cluster.rest.overview()
    assert (overview.taskmanagers, overview.slots_total) == (1, 2)


# -- savepoint and restart with the jar from an upstream task's XCom ---------------------------


def test_a_restart_takes_the_jar_from_an_xcom_mapping_and_refuses_one_without_jar_id(
    deploy: Callable[..., Cluster], run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    cluster = deploy("fromxcom")
    job_id = cluster.run_job()
    conf = {"cluster": cluster.spec, "job_id": job_id, "parallelism": 2}

    # No jar_id in the mapping: refused before the savepoint, naming jar_id.
    refused = run_dag(
        "flink_test_failures_restart_from_xcom",
        {**conf, "submission": {"entry_class": "demo.Orders", "args": []}},
    )
    out = capfd.readouterr().out
    assert task_states(refused)["rescale"] == "failed", out[-4000:]
    error = _error(out, "jar_id: savepoint_restart of a session cluster's job resubmits its jar")
    assert "give jar_id (and entry_class, args)" in error, error
    assert cluster.states() == {job_id: "RUNNING"}
    assert cluster.savepoints() == []
    assert cluster.intent() is None

    # jar_id, entry_class and args from the mapping: a new job at 2 from the savepoint.
    submission = {"jar_id": cluster.jar_id, "entry_class": "demo.Orders", "args": []}
    dag_run = run_dag("flink_test_failures_restart_from_xcom", {**conf, "submission": submission})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"submission": "success", "rescale": "success"}, out[-6000:]
    result = dag_run.get_task_instance("rescale").xcom_pull(task_ids="rescale")
    assert result["strategy"] == "savepoint_restart"
    assert (result["old_parallelism"], result["new_parallelism"]) == (1, 2)
    assert result["previous_job_id"] == job_id and result["job_id"] != job_id
    new_job = result["job_id"]
    assert cluster.states() == {job_id: "FINISHED", new_job: "RUNNING"}
    assert {v.parallelism for v in cluster.rest.job(new_job).vertices} == {2}
    [written] = cluster.savepoints()
    assert written in result["savepoint_path"]
    restored = cluster.rest.checkpoints(new_job).latest.restored
    assert restored is not None and written in str(restored.external_path)
    assert cluster.intent().step == "done"


# -- a submit cleared after its job ended ------------------------------------------------------


def test_a_submit_cleared_after_its_job_was_cancelled_runs_it_anew_from_the_same_jar(
    deploy: Callable[..., Cluster], dag_bag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    cluster = deploy("resubmit")
    cluster.jar_id = cluster.rest.upload_jar(cluster.jar)
    dag = dag_bag.get_dag("flink_test_jobs_submit")
    when = datetime.now(timezone.utc).replace(microsecond=0)
    conf = {
        "cluster": cluster.spec,
        "jar": None,
        "jar_id": cluster.jar_id,  # uploaded already: nothing is uploaded again
        "args": [],
        "entry_class": "demo.Orders",
    }
    first = dag.test(run_conf=conf, logical_date=when, run_after=when)
    out = capfd.readouterr().out
    assert task_states(first) == {"submit": "success"}, out[-4000:]
    job_id = first.get_task_instance("submit").xcom_pull(task_ids="submit")
    assert f"Submitting {cluster.jar_id} as job {job_id}" in out
    cluster.rest.cancel(job_id)
    _wait(lambda: cluster.states() == {job_id: "CANCELED"}, "the job CANCELED")

    again = dag.test(run_conf=conf, logical_date=when, run_after=when)  # the run, cleared
    out = capfd.readouterr().out
    assert again.run_id == first.run_id
    assert task_states(again) == {"submit": "success"}, out[-4000:]
    resubmitted = again.get_task_instance("submit").xcom_pull(task_ids="submit")
    # The ended job is not re-attached to: a new job, under the next id of the task's
    # sequence, from the same uploaded jar.
    assert f"Job {job_id}, submitted before by this task, is CANCELED" in out, out[-4000:]
    assert resubmitted != job_id
    assert f"Submitting {cluster.jar_id} as job {resubmitted}" in out
    assert cluster.states() == {job_id: "CANCELED", resubmitted: "RUNNING"}
    assert [jar.id for jar in cluster.rest.jars()] == [cluster.jar_id]


# -- cleared and run again after success: a no-op ----------------------------------------------


def test_submit_savepoint_rescale_and_teardown_cleared_after_success_change_nothing(
    deploy: Callable[..., Cluster],
    dag_bag: Any,
    capfd: pytest.CaptureFixture[str],
) -> None:
    cluster = deploy("rerun")
    dag = dag_bag.get_dag("flink_test_failures_rerun")
    when = datetime.now(timezone.utc).replace(microsecond=0)
    conf = {"cluster": cluster.spec, "jar": str(cluster.jar), "parallelism": 4}
    tasks = ("submit", "savepoint", "rescale")

    first = dag.test(run_conf=conf, logical_date=when, run_after=when)
    out = capfd.readouterr().out
    assert task_states(first) == dict.fromkeys(tasks, "success"), out[-6000:]
    done = {t: first.get_task_instance(t).xcom_pull(task_ids=t) for t in tasks}
    job_id, location = done["submit"], done["savepoint"]
    assert done["rescale"]["strategy"] == "in_place"
    assert done["rescale"]["new_parallelism"] == 4
    written = cluster.savepoints()
    assert len(written) == 1
    intent = cluster.intent()

    again = dag.test(run_conf=conf, logical_date=when, run_after=when)  # the run, cleared
    out = capfd.readouterr().out
    assert again.run_id == first.run_id
    assert task_states(again) == dict.fromkeys(tasks, "success"), out[-6000:]
    redone = {t: again.get_task_instance(t).xcom_pull(task_ids=t) for t in tasks}
    # The same job (not a second one), the same savepoint (not a second one)...
    assert redone["submit"] == job_id
    assert f"Job {job_id}, submitted before by this task, is RUNNING" in out
    assert redone["savepoint"] == location
    assert "Triggering" not in out
    assert cluster.states() == {job_id: "RUNNING"}
    assert len(cluster.rest.jars()) == 1
    assert cluster.savepoints() == written
    # ... and the rescale finds the job at 4: nothing to do, nothing written.
    assert redone["rescale"]["strategy"] == "none"
    assert redone["rescale"]["job_id"] == job_id
    assert "already runs at parallelism 4: nothing to do" in out
    assert cluster.intent() == intent
    assert {v.parallelism for v in cluster.rest.job(job_id).vertices} == {4}
    assert cluster.rest.overview().taskmanagers == 2

    teardown = dag_bag.get_dag("flink_test_failures_teardown")
    conf = {"cluster": cluster.spec, "savepoint_dir": None}
    removed = teardown.test(run_conf=conf, logical_date=when, run_after=when)
    out = capfd.readouterr().out
    assert task_states(removed) == {"teardown": "success"}, out[-6000:]
    final = removed.get_task_instance("teardown").xcom_pull(task_ids="teardown")
    assert isinstance(final, str) and final != location
    assert len(cluster.savepoints()) == 2
    assert cluster.objects() == ()

    cleared = teardown.test(run_conf=conf, logical_date=when, run_after=when)
    out = capfd.readouterr().out
    assert cleared.run_id == removed.run_id
    assert task_states(cleared) == {"teardown": "success"}, out[-6000:]
    assert "was already gone" in out and "no job to savepoint" in out, out[-6000:]
    assert len(cluster.savepoints()) == 2


@pytest.mark.parametrize("mode", ["", "_deferred"], ids=["worker", "deferred"])
def test_a_submit_that_times_out_fails_naming_the_job_and_leaves_it_running(
    deploy: Callable[..., Cluster],
    run_dag: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    mode: str,
) -> None:
    caplog.set_level(logging.INFO)
    cluster = deploy("submittimeout" + mode.replace("_", "-"))
    conf = {"cluster": cluster.spec, "jar": str(cluster.jar)}
    dag_run = run_dag(f"flink_test_failures_submit_timeout{mode}", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"submit": "failed"}, out[-4000:]
    assert deferrals(caplog) == ({"submit": 1} if mode else {})
    [job_id] = cluster.states()
    assert "DeploymentTimeout" in out and job_id in out and "FINISHED" in out, out[-4000:]
    assert cluster.states() == {job_id: "RUNNING"}  # a timeout cancels nothing


# -- on_kill through a killed task ----------------------------------------------------------


@kill_test
def test_a_killed_submit_cancels_only_the_job_its_own_try_submitted(
    deploy: Callable[..., Cluster], dag_bag: Any, tmp_path: Path
) -> None:
    """``airflow tasks test`` of a submit waiting for its (streaming) job to finish: SIGKILL
    runs no ``on_kill`` (the job runs on); the retry re-attaches to that job, and SIGTERM
    (Airflow calls ``on_kill``) leaves it, as that try did not submit it; a try that
    submitted its job cancels it when SIGTERMed."""
    cluster = deploy("killsubmit")
    dag_id = "flink_test_failures_submit_finished"
    conf = {"cluster": cluster.spec, "jar": str(cluster.jar)}

    def running() -> list[str]:
        return [job for job, state in cluster.states().items() if state == "RUNNING"]

    def waiting(task: TaskProcess) -> bool:
        if task.process.poll() is not None:
            raise AssertionError(f"{task} ended:\n{task.output[-3000:]}")
        return "Waiting up to" in task.output

    started: list[TaskProcess] = []

    def task(run: str, log: str) -> TaskProcess:
        started.append(TaskProcess(dag_id, "submit", run, log=tmp_path / log))
        return started[-1]

    try:
        run_id = create_run(dag_id, "killsubmit-1", conf)
        first = task(run_id, "first.log")
        [job_id] = first.kill_when(running, "the job RUNNING")
        retry = task(run_id, "retry.log")
        wait_until(lambda: waiting(retry), 120, "the retry to wait")
        assert f"Re-attaching to job {job_id}, submitted before by this task" in retry.output
        os.kill(retry.process.pid, signal.SIGTERM)
        left = "Killed: this try submitted no job, so none is cancelled"
        wait_until(lambda: left in retry.output, 60, "the retry's on_kill")
        retry.kill()
        assert "cancelling job" not in retry.output, retry.output[-3000:]
        assert cluster.states() == {job_id: "RUNNING"}

        other = task(create_run(dag_id, "killsubmit-2", conf), "other.log")
        wait_until(lambda: waiting(other), 120, "the other run to wait")
        [submitted] = _wait(lambda: [j for j in running() if j != job_id], "its job RUNNING")
        os.kill(other.process.pid, signal.SIGTERM)
        killed = f"Killed: cancelling job {submitted}, which this try submitted"
        wait_until(lambda: killed in other.output, 60, "the other run's on_kill")
        _wait(lambda: cluster.states() == {job_id: "RUNNING", submitted: "CANCELED"}, "cancelled")
        other.kill()
    finally:
        for process in started:
            process.kill()
