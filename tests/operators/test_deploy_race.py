"""Deploys and teardowns of the same cluster racing each other, as separate DAG runs:
each task is ``airflow tasks test`` in a process of its own (the kill-test harness), on a
sandbox with simulated containers.

Ownership is decided in the cluster: a deploy claims the cluster by *creating* its anchor
(the ConfigMap) with a create-only ``POST``; exactly one of two racing deploys gets it
created, the other reads the record on it back. A teardown records itself on the anchor
before deleting anything and deletes the anchor last.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from polling import wait_until
from task_process import TaskProcess, create_run, needs_task_process

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.kube import cluster_label_selector
from airflow_provider_flink_k8s.kube.resources import CONFIG_MAP, DEPLOYMENT, POD, SERVICE
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation.ownership import (
    OWNER_ANNOTATION,
    anchor_index,
    deleted_by,
    owner_of,
)
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox import SandboxServer

pytestmark = needs_task_process

FAULT = "sandbox.flink-k8s.io/fault"
HOLD = "tests.flink-k8s.io/hold"
OTHER = "other_dag/deploy/manual__1/-1"
TEARDOWN = "other_dag/teardown/manual__1/-1"


def _spec(name: str, *, never_ready: bool = False) -> dict[str, Any]:
    taskmanager: dict[str, Any] = {"memory": "1024m", "cpu": 0.25, "slots": 1, "replicas": 1}
    if never_ready:  # the wait cannot end READY: the deploy stays in its wait
        taskmanager["pod_template"] = {"metadata": {"annotations": {FAULT: "NeverReady"}}}
    return {
        "name": name,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.25},
        "taskmanager": taskmanager,
    }


def _objects(name: str) -> dict[str, dict[str, Any]]:
    """The cluster's Deployments, Services, ConfigMaps and pods, by ``Kind/name``."""
    hook = FlinkKubernetesHook()
    selector = cluster_label_selector(name)
    return {
        f"{ref.kind}/{obj['metadata']['name']}": obj
        for ref in (DEPLOYMENT, SERVICE, CONFIG_MAP, POD)
        for obj in hook.list_objects(ref, "default", label_selector=selector)
    }


def _whole(name: str) -> set[str | None]:
    """The owner records of a whole cluster (asserting it is whole: every object there)."""
    objects = _objects(name)
    expected = {
        f"{m['kind']}/{m['metadata']['name']}" for m in render_manifests(load_cluster(_spec(name)))
    }
    assert expected <= set(objects), sorted(objects)
    return {owner_of(objects[key]) for key in expected}


def _gone(name: str) -> bool:
    return not _objects(name)


def _key(dag_id: str, run_id: str, task_id: str = "deploy") -> str:
    return f"{dag_id}/{task_id}/{run_id}/-1"


def _start(dag_id: str, run_id: str, conf: dict[str, Any], tmp_path: Path) -> TaskProcess:
    create_run(dag_id, run_id, conf)
    task_id = "teardown" if dag_id.endswith("teardown") else "deploy"
    return TaskProcess(dag_id, task_id, run_id, log=tmp_path / f"{run_id}.log")


def _remove(name: str) -> None:
    FlinkKubernetesHook().delete_cluster(name, "default", timeout=60)


def test_of_two_runs_deploying_a_cluster_at_once_one_creates_it_the_other_names_it(
    simulated_sandbox: SandboxServer, dag_bag: object, tmp_path: Path
) -> None:
    dag_id, conf = "flink_test_race_fail", {"cluster": _spec("race-fail")}
    runs = ["race-fail-1", "race-fail-2"]
    for run_id in runs:
        create_run(dag_id, run_id, conf)
    tasks = [TaskProcess(dag_id, "deploy", run, log=tmp_path / f"{run}.log") for run in runs]
    states = [task.finish() for task in tasks]
    assert sorted(states) == ["failed", "success"], [task.output[-3000:] for task in tasks]
    winner, loser = (tasks[0], tasks[1]) if states[0] == "success" else (tasks[1], tasks[0])
    holder = _key(dag_id, winner.run_id)
    assert "created by this task instance (it was free" in winner.output
    assert (
        f"AlreadyExists: Flink cluster default/race-fail already exists, created by {holder}"
        in loser.output
    ), loser.output[-3000:]
    assert "it was free" not in loser.output
    assert "Deleting" not in loser.output
    assert _whole("race-fail") == {holder}
    _remove("race-fail")


def test_killing_the_run_that_did_not_create_the_cluster_leaves_it_and_a_retry_adopts_its_own(
    simulated_sandbox: SandboxServer, dag_bag: object, tmp_path: Path
) -> None:
    """Two runs deploy at once (``on_exists="update"``); the cluster never turns ready, so
    both stay in their wait. The run that did not create it is sent SIGTERM (Airflow calls
    its ``on_kill``): it leaves the cluster. The one that created it is SIGKILLed (no
    ``on_kill``): the cluster stays. Run again as the same task instance, it resumes its
    own cluster; killed with SIGTERM in turn, its ``on_kill`` deletes it."""
    name, dag_id = "race-kill", "flink_test_race_update"
    conf = {"cluster": _spec(name, never_ready=True)}
    runs = ["race-kill-1", "race-kill-2"]
    for run_id in runs:
        create_run(dag_id, run_id, conf)
    tasks = [TaskProcess(dag_id, "deploy", run, log=tmp_path / f"{run}.log") for run in runs]

    def claimed() -> tuple[TaskProcess, TaskProcess] | None:
        for this, that in (tasks, tasks[::-1]):
            if "it was free" in this.output and "already exists, created by" in that.output:
                return this, that
        return None

    holder, other = wait_until(claimed, 180, "both runs to claim the cluster")
    holder_key = _key(dag_id, holder.run_id)
    assert f"already exists, created by {holder_key}; applying the spec" in other.output
    wait_until(lambda: "Waiting up to" in other.output, 120, "the other run to wait")

    os.kill(other.process.pid, signal.SIGTERM)
    left = f"Flink cluster default/{name} is left as it is: created by {holder_key}"
    wait_until(lambda: left in other.output, 60, "the other run's on_kill")
    other.kill()
    assert "Deleting" not in other.output
    assert _whole(name) == {holder_key}
    holder.kill()
    assert _whole(name) == {holder_key}

    again = TaskProcess(dag_id, "deploy", holder.run_id, log=tmp_path / "again.log")
    resumed = f"Resuming default/{name}: an earlier try of this task instance created 5 of"
    wait_until(lambda: resumed in again.output, 180, "the retry to resume its cluster")
    wait_until(lambda: "Waiting up to" in again.output, 120, "the retry to wait")
    assert "it was free" not in again.output
    os.kill(again.process.pid, signal.SIGTERM)
    deleting = f"Deleting Flink cluster default/{name}, which this task instance created"
    wait_until(lambda: deleting in again.output, 60, "the retry's on_kill")
    wait_until(lambda: _gone(name), 60, "nothing of the cluster to be left")
    again.kill()


@pytest.mark.parametrize("dag_id", ["flink_test_race_update", "flink_test_race_deferred"])
def test_a_deploy_of_a_cluster_being_deleted_waits_until_it_is_gone_and_deploys_it_anew(
    simulated_sandbox: SandboxServer, dag_bag: object, tmp_path: Path, dag_id: str
) -> None:
    name = "race-repair" + ("-deferred" if dag_id.endswith("deferred") else "")
    hook = FlinkKubernetesHook()
    manifests = render_manifests(load_cluster(_spec(name)))
    anchor = manifests[anchor_index(manifests)]
    for manifest in manifests:
        manifest["metadata"].setdefault("annotations", {})[OWNER_ANNOTATION] = OTHER
    anchor["metadata"]["finalizers"] = [HOLD]  # holds the deletion until the test lets go
    hook.apply(manifests)
    hook.mark_deleting(anchor, TEARDOWN)
    hook.delete_cluster(name, "default", wait=False)

    task = _start(dag_id, name, {"cluster": _spec(name)}, tmp_path)
    wait_until(
        lambda: (
            f"Flink cluster default/{name} is being deleted (by {TEARDOWN}); waiting "
            "until it is gone, then deploying it anew" in task.output
        ),
        120,
        "the deploy to see the deletion",
    )
    assert task.process.poll() is None  # still waiting
    hook.patch_object(
        CONFIG_MAP, "default", anchor["metadata"]["name"], {"metadata": {"finalizers": None}}
    )
    assert task.finish() == "success", task.output[-3000:]
    assert "created by this task instance (it was free" in task.output
    if dag_id.endswith("deferred"):  # the wait for the deletion, then the one for readiness
        assert task.output.count("running trigger in line") >= 2, task.output[-3000:]
    key = _key(dag_id, name)
    assert _whole(name) == {key}
    assert deleted_by(_objects(name)[f"ConfigMap/{anchor['metadata']['name']}"]) is None
    _remove(name)


@pytest.mark.parametrize("when", ["apply", "wait"])
def test_a_teardown_racing_a_deploy_fails_the_deploy_fast_and_leaves_nothing(
    simulated_sandbox: SandboxServer, dag_bag: object, tmp_path: Path, when: str
) -> None:
    """The teardown starts once the deploy has claimed the cluster: while the deploy still
    applies (its JobManager Deployment's apply held back) or while it waits (a cluster
    that never turns ready). The deploy fails at once with the cause, never waiting for
    its timeout, and afterwards nothing of the cluster is left."""
    name = f"race-td-{when}"
    conf = {"cluster": _spec(name, never_ready=when == "wait")}
    held = None
    if when == "apply":
        path = f"/deployments/{name}-jobmanager"
        held = simulated_sandbox.faults.delay(30, method="PATCH", path=path, times=1)
    try:
        deploy = _start("flink_test_race_update", f"{name}-d", conf, tmp_path)
        step = "it was free" if when == "apply" else "Waiting up to"
        wait_until(lambda: step in deploy.output, 120, f"the deploy to log {step!r}")
        teardown = _start("flink_test_race_teardown", f"{name}-t", conf, tmp_path)
        assert teardown.finish() == "success", teardown.output[-3000:]
        assert deploy.finish() == "failed"
    finally:
        if held is not None:
            simulated_sandbox.faults.remove(held.id)
    out = deploy.output
    teardown_key = _key("flink_test_race_teardown", f"{name}-t", "teardown")
    assert "DeploymentTimeout" not in out and "gave up" not in out, out[-3000:]
    # The teardown's record is on the anchor until the rest is gone; then the anchor goes.
    named = f"BeingDeleted: Flink cluster default/{name} is being deleted (by {teardown_key})"
    gone = (
        f"BeingDeleted: Flink cluster default/{name} was deleted (its anchor ConfigMap is "
        "gone) while this task deployed it"
    )
    assert named in out or gone in out, out[-3000:]
    wait_until(lambda: _gone(name), 60, "nothing of the cluster to be left")
