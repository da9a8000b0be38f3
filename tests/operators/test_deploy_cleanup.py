"""What a failure leaves behind, in real DAG runs of ``deploy >> work >>
teardown.as_teardown(setups=deploy)`` on a sandbox with simulated containers.

A failed deploy deletes the cluster its task instance created (the record is in the
cluster: an annotation, so a retry or a resumed deferral finds it) and waits until it is
gone -- Airflow does not run the teardown of a failed setup; a deferrable deploy defers
for that wait too, then fails with its own error. A cluster some other run created, or
one without a record, is never deleted by a failed deploy.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from dag_support import deferrals, provider_sleeps, task_states
from polling import wait_until

from airflow_provider_flink_k8s.exceptions import DeploymentFailed, error_record
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.kube import cluster_label_selector
from airflow_provider_flink_k8s.kube.resources import CONFIG_MAP, DEPLOYMENT, POD, SERVICE
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation import Lifecycle, Outcome, Reason, Verdict
from airflow_provider_flink_k8s.observation.ownership import (
    OWNER_ANNOTATION,
    anchor_index,
    owner_of,
)
from airflow_provider_flink_k8s.operators import FlinkDeployOperator
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox import SandboxServer

UNPULLABLE = "registry.example.com/does-not-exist:1.0"
"""An image the sandbox's kubelet cannot pull (ErrImagePull, then ImagePullBackOff)."""


def _spec(name: str, **overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.25},
        "taskmanager": {"memory": "1024m", "cpu": 0.25, "slots": 1, "replicas": 1},
    }
    spec.update(overrides)
    return spec


def _left(name: str) -> list[str]:
    """The cluster's Deployments, Services, ConfigMaps and pods that still exist."""
    hook = FlinkKubernetesHook()
    selector = cluster_label_selector(name)
    return [
        f"{ref.kind}/{obj['metadata']['name']}"
        for ref in (DEPLOYMENT, SERVICE, CONFIG_MAP, POD)
        for obj in hook.list_objects(ref, "default", label_selector=selector)
    ]


def _owners(name: str) -> set[str | None]:
    """The owner records on the cluster's Deployments, Services and ConfigMaps."""
    hook = FlinkKubernetesHook()
    selector = cluster_label_selector(name)
    return {
        owner_of(obj)
        for ref in (DEPLOYMENT, SERVICE, CONFIG_MAP)
        for obj in hook.list_objects(ref, "default", label_selector=selector)
    }


def _remove(name: str) -> None:
    FlinkKubernetesHook().delete_cluster(name, "default", timeout=30)


FAULT = "sandbox.flink-k8s.io/fault"
HOLD = "tests.flink-k8s.io/hold"
"""A finalizer that holds an object's deletion until the test removes it."""
_NEVER_TM = {
    "taskmanager": {
        "memory": "1024m",
        "cpu": 0.25,
        "slots": 1,
        "replicas": 1,
        "pod_template": {"metadata": {"annotations": {FAULT: "NeverReady"}}},
    }
}
FAILED_SETUP = {"deploy": "failed", "work": "upstream_failed", "teardown": "upstream_failed"}


@pytest.mark.parametrize("dag_id", ["flink_test_cleanup", "flink_test_cleanup_deferred"])
@pytest.mark.parametrize("cause", ["unpullable", "timeout"])
def test_a_failed_deploy_deletes_the_cluster_it_created(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    worker_sleeps: list[str],
    dag_id: str,
    cause: str,
) -> None:
    caplog.set_level(logging.INFO)
    deferred = "deferred" in dag_id
    name = f"{cause[:4]}-{'d' if deferred else 'p'}"
    # A TaskManager that never turns Ready never registers: the wait runs out of time.
    spec = _spec(name, image=UNPULLABLE) if cause == "unpullable" else _spec(name, **_NEVER_TM)
    dag_run = run_dag(dag_id, {"cluster": spec})
    captured = capfd.readouterr()
    out = captured.out + captured.err  # Airflow 3.0 logs the task's error to stderr
    assert task_states(dag_run) == FAILED_SETUP, out[-3000:]
    assert dag_run.state == "failed"
    # The task's error is the deploy's own, raised after the cleanup (once deferred: in
    # execute_after_cleanup, rebuilt from its record with its type and reason).
    kind = "DeploymentFailed" if cause == "unpullable" else "DeploymentTimeout"
    error = f"{kind}: "  # Airflow 3.0 logs the class alone, 3.1+ with its module
    assert error in out, out[-3000:]
    last = out.rindex(error)  # the task's error, as Airflow logs it
    assert last > out.index("; nothing is left"), out[-3000:]
    if cause == "unpullable":  # ErrImagePull, or ImagePullBackOff once the kubelet backs off
        assert "ImagePull" in out[last + len(error) :].split(":", 1)[0], out[last:][:500]
    until = "deferring" if deferred else "waiting"
    deleting = f"Deleting Flink cluster default/{name}, which this task instance created"
    assert f"{deleting} ({until} until it is gone)" in out, out[-3000:]
    if deferred:
        # One deferral for readiness, one for the deletion; no wait in the worker.
        assert deferrals(caplog) == {"deploy": 2}
        assert provider_sleeps(worker_sleeps) == []
        assert "Its deletion was already under way" not in out
    else:
        assert deferrals(caplog) == {}
    assert _left(name) == []


def test_each_failed_try_of_a_deploy_with_retries_deletes_what_it_created(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("flink_test_cleanup_retries", {"cluster": _spec("tries", image=UNPULLABLE)})
    out = capfd.readouterr().out
    assert task_states(dag_run) == FAILED_SETUP, out[-3000:]
    assert dag_run.get_task_instance("deploy").try_number == 2
    assert out.count("Deleting Flink cluster default/tries, which this task instance created") == 2
    assert "Resuming" not in out  # the first try left nothing for the second
    assert _left("tries") == []


def test_a_deploy_that_fails_before_writing_anything_deletes_nothing(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    too_big = _spec("toobig", taskmanager={"memory": "2g", "cpu": 64, "slots": 2})
    dag_run = run_dag("flink_test_cleanup", {"cluster": too_big})
    out = capfd.readouterr().out
    assert task_states(dag_run) == FAILED_SETUP, out[-3000:]
    assert "Unschedulable" in out
    assert "Deleting" not in out and "left as it is" not in out
    assert _left("toobig") == []


@pytest.mark.parametrize("dag_id", ["flink_test_cleanup_keep", "flink_test_cleanup_deferred_keep"])
def test_keep_failed_cluster_keeps_it_and_says_how_to_remove_it(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    dag_id: str,
) -> None:
    caplog.set_level(logging.INFO)
    name = "keptd" if "deferred" in dag_id else "kept"
    dag_run = run_dag(dag_id, {"cluster": _spec(name, image=UNPULLABLE)})
    out = capfd.readouterr().out
    assert task_states(dag_run) == FAILED_SETUP, out[-3000:]
    assert f"Keeping the failed Flink cluster default/{name} for debugging" in out
    command = "kubectl -n default delete configmap,deployment,service -l "
    assert command + cluster_label_selector(name) in out, out[-3000:]
    # Nothing deleted, nothing to wait for: a deferrable deploy deferred only for readiness.
    assert deferrals(caplog) == ({"deploy": 1} if "deferred" in dag_id else {})
    left = _left(name)
    assert {f"Deployment/{name}-jobmanager", f"Deployment/{name}-taskmanager"} <= set(left), left
    assert any(item.startswith("ConfigMap/") for item in left)
    assert any(item.startswith("Service/") for item in left)
    _remove(name)


def test_a_failed_work_task_runs_the_teardown_which_removes_the_cluster(
    simulated_sandbox: SandboxServer, run_dag: Any
) -> None:
    dag_run = run_dag("flink_test_cleanup_no_wait", {"cluster": _spec("work"), "fail_work": True})
    assert task_states(dag_run) == {"deploy": "success", "work": "failed", "teardown": "success"}
    assert dag_run.state == "failed"
    assert _left("work") == []


# A JobManager that never turns Ready: its Service has no endpoints, so Flink's REST API
# cannot be reached and no final savepoint can be taken.
_UNREACHABLE = {
    "jobmanager": {
        "memory": "1024m",
        "cpu": 0.25,
        "pod_template": {"metadata": {"annotations": {FAULT: "NeverReady"}}},
    }
}


def test_a_teardown_that_cannot_take_the_required_savepoint_keeps_the_cluster(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    spec = _spec("tdsave", **_UNREACHABLE)
    dag_run = run_dag("flink_test_cleanup_savepoint", {"cluster": spec})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "success", "work": "success", "teardown": "failed"}
    assert "cannot reach Flink to take the final savepoint, so the cluster is kept" in out, out[
        -3000:
    ]
    # Airflow leaves a failed teardown out of the run's state (on_failure_fail_dagrun=False).
    assert dag_run.state == "success"
    assert {"Deployment/tdsave-jobmanager", "Deployment/tdsave-taskmanager"} <= set(_left("tdsave"))
    _remove("tdsave")


def test_savepoint_required_false_deletes_a_cluster_flink_cannot_be_reached_on(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    spec = _spec("tdopt", **_UNREACHABLE)
    dag_run = run_dag("flink_test_cleanup_savepoint_optional", {"cluster": spec})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {
        "deploy": "success",
        "work": "success",
        "teardown": "success",
    }, out[-3000:]
    assert "savepoint_required=False" in out, out[-3000:]
    assert _left("tdopt") == []


def test_a_teardown_the_api_refuses_keeps_the_cluster_and_can_fail_the_run(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    refused = simulated_sandbox.faults.fail(
        403, method="DELETE", path=r"/deployments/tdapi-", times=None, message="forbidden"
    )
    try:
        dag_run = run_dag("flink_test_cleanup_no_wait_fail_run", {"cluster": _spec("tdapi")})
    finally:
        simulated_sandbox.faults.remove(refused.id)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "success", "work": "success", "teardown": "failed"}
    assert "forbidden" in out, out[-3000:]
    # The work succeeded: the run fails only because of on_failure_fail_dagrun=True.
    assert dag_run.state == "failed"
    assert {"Deployment/tdapi-jobmanager", "Deployment/tdapi-taskmanager"} <= set(_left("tdapi"))
    _remove("tdapi")


def test_a_retry_adopts_what_an_earlier_try_left_and_deletes_it_when_it_fails_too(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    conf = {"cluster": _spec("retry", image=UNPULLABLE), "owner": "deploy"}
    dag_run = run_dag("flink_test_cleanup_leftovers_update", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"leftovers": "success", "deploy": "failed"}, out[-3000:]
    assert "an earlier try of this task instance created 5 of its objects" in out
    assert "Deleting Flink cluster default/retry, which this task instance created" in out
    assert _left("retry") == []


def test_on_exists_fail_does_not_refuse_what_an_earlier_try_of_the_task_left(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    conf = {"cluster": _spec("retryfail", image=UNPULLABLE), "owner": "deploy"}
    dag_run = run_dag("flink_test_cleanup_leftovers_fail", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"leftovers": "success", "deploy": "failed"}, out[-3000:]
    assert "AlreadyExists" not in out
    assert "ImagePull" in out
    assert _left("retryfail") == []


@pytest.mark.parametrize("owner", ["other_dag/deploy/manual__1/-1", None])
def test_a_failed_deploy_never_deletes_a_cluster_it_did_not_create(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    owner: str | None,
) -> None:
    name = "foreign" if owner else "unrecorded"
    conf = {"cluster": _spec(name, image=UNPULLABLE), "owner": owner}
    dag_run = run_dag("flink_test_cleanup_leftovers_update", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"leftovers": "success", "deploy": "failed"}, out[-3000:]
    assert f"Flink cluster default/{name} is left as it is" in out
    left = _left(name)
    assert {f"Deployment/{name}-jobmanager", f"Deployment/{name}-taskmanager"} <= set(left)
    # The update carried the other owner's record forward (server-side apply by the same
    # field manager would otherwise have removed it).
    assert _owners(name) == {owner}
    _remove(name)


def test_on_exists_fail_refuses_a_cluster_another_run_created_and_leaves_it(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    conf = {"cluster": _spec("othersfail"), "owner": "other_dag/deploy/manual__1/-1"}
    dag_run = run_dag("flink_test_cleanup_leftovers_fail", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"leftovers": "success", "deploy": "failed"}, out[-3000:]
    assert (
        "AlreadyExists: Flink cluster default/othersfail already exists, created by other_dag"
        in out
    )
    assert any(item.startswith("Deployment/") for item in _left("othersfail"))
    _remove("othersfail")


ME = "flink_test_cleanup/deploy/manual__1/-1"


@pytest.mark.parametrize(
    ("owner", "keep", "deleted"),
    [
        (ME, False, True),
        (ME, True, False),
        ("other_dag/deploy/manual__1/-1", False, False),
        (None, False, False),
    ],
)
def test_on_kill_deletes_only_a_cluster_this_task_instance_created(
    simulated_sandbox: SandboxServer, owner: str | None, keep: bool, deleted: bool
) -> None:
    name = f"kill-{'me' if owner == ME else 'other' if owner else 'none'}-{str(keep).lower()}"
    manifests = render_manifests(load_cluster(_spec(name)))
    for manifest in manifests:
        if owner is not None:
            manifest["metadata"].setdefault("annotations", {})[OWNER_ANNOTATION] = owner
    FlinkKubernetesHook().apply(manifests)
    operator = FlinkDeployOperator(task_id="deploy", cluster=_spec(name), keep_failed_cluster=keep)
    operator._task_key = ME  # what execute() records before it writes anything
    operator.on_kill()
    if deleted:  # on_kill does not wait for the deletion
        wait_until(lambda: _left(name) == [], 30, f"cluster {name} gone")
    else:
        assert _left(name) != []
    _remove(name)


def test_on_kill_before_the_task_looked_at_the_cluster_deletes_nothing(
    simulated_sandbox: SandboxServer,
) -> None:
    FlinkKubernetesHook().apply(render_manifests(load_cluster(_spec("killed-early"))))
    FlinkDeployOperator(task_id="deploy", cluster=_spec("killed-early")).on_kill()
    assert any(item.startswith("Deployment/") for item in _left("killed-early"))
    _remove("killed-early")


@pytest.mark.parametrize("error", ["Trigger timeout", "Trigger failure"])
def test_a_deferral_airflow_ends_itself_deletes_the_cluster_too(
    simulated_sandbox: SandboxServer, error: str
) -> None:
    """Airflow's own deferral timeout (or a crashed trigger) resumes the task with
    ``__fail__``: ``execute_complete`` never runs, the cluster is still deleted."""
    try:
        from airflow.sdk.exceptions import TaskDeferralError, TaskDeferralTimeout
    except ImportError:  # Airflow 3.0 and 3.1
        from airflow.exceptions import TaskDeferralError, TaskDeferralTimeout

    name = f"resume-{error.split()[1]}"
    manifests = render_manifests(load_cluster(_spec(name)))
    for manifest in manifests:
        manifest["metadata"].setdefault("annotations", {})[OWNER_ANNOTATION] = ME
    FlinkKubernetesHook().apply(manifests)
    operator = FlinkDeployOperator(task_id="deploy", cluster=_spec(name), timeout=30)
    with pytest.raises((TaskDeferralError, TaskDeferralTimeout)):
        operator.resume_execution("__fail__", {"error": error}, _context())
    assert _left(name) == []


def _deferral_classes() -> tuple[Any, Any, Any]:
    try:
        from airflow.sdk.exceptions import TaskDeferralError, TaskDeferralTimeout, TaskDeferred
    except ImportError:  # Airflow 3.0 and 3.1
        from airflow.exceptions import TaskDeferralError, TaskDeferralTimeout, TaskDeferred
    return TaskDeferred, TaskDeferralError, TaskDeferralTimeout


def _mine(name: str, *, hold: bool = False) -> None:
    """The cluster ``name``, as this task instance (``ME``) created it; ``hold`` puts a
    finalizer nobody removes on its JobManager Deployment (its deletion never ends)."""
    manifests = render_manifests(load_cluster(_spec(name)))
    for manifest in manifests:
        manifest["metadata"].setdefault("annotations", {})[OWNER_ANNOTATION] = ME
        if (
            hold
            and manifest["kind"] == "Deployment"
            and "jobmanager" in manifest["metadata"]["name"]
        ):
            manifest["metadata"]["finalizers"] = [HOLD]
    FlinkKubernetesHook().apply(manifests)


def _release(name: str) -> None:
    FlinkKubernetesHook().patch_object(
        DEPLOYMENT, "default", f"{name}-jobmanager", {"metadata": {"finalizers": None}}
    )


HOLD = "tests.flink-k8s.io/hold"


class _TaskInstance:
    """The task instance ``ME`` as an operator's context holds it: its ids, and its own
    XComs (what Airflow keeps for it across its deferrals)."""

    def __init__(self) -> None:
        self.dag_id, self.task_id, self.run_id, map_index = ME.split("/")
        self.map_index = int(map_index)
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = json.loads(json.dumps(value))  # stored as JSON, as Airflow does

    def xcom_pull(self, task_ids: str, key: str) -> Any:
        assert task_ids == self.task_id
        return self.xcoms.get(key)


def _context(ti: _TaskInstance | None = None) -> Any:
    return {"ti": ti or _TaskInstance()}


def test_a_deferrable_deploy_airflow_ended_defers_once_for_its_cleanup_and_never_again(
    simulated_sandbox: SandboxServer, worker_sleeps: list[str]
) -> None:
    """Airflow ends the readiness deferral (``__fail__``): the deploy sends the deletion and
    defers on it; resumed, it raises Airflow's error again -- without cleaning up anew.
    Airflow ending that cleanup deferral too finds the deletion under way and does not
    defer on it again: no loop."""
    task_deferred, deferral_error, deferral_timeout = _deferral_classes()
    _mine("resume-defer", hold=True)
    ti = _TaskInstance()
    operator = FlinkDeployOperator(
        task_id="deploy", cluster=_spec("resume-defer"), timeout=30, deferrable=True
    )
    with pytest.raises(task_deferred) as deferred:
        operator.resume_execution("__fail__", {"error": "Trigger timeout"}, _context(ti))
    assert deferred.value.method_name == "execute_after_cleanup"
    trigger = deferred.value.trigger
    assert trigger.wait.kind == "deleted" and not trigger.delete_on_kill
    # The deploy's error is kept as a JSON record in the task instance's XCom, which
    # outlives the deferral (Airflow replaces the deferral's kwargs when it ends it).
    assert ti.xcoms["deploy_error"]["type"].endswith(".TaskDeferralTimeout")
    kwargs = json.loads(json.dumps(trigger.serialize()[1]))
    assert "error" not in kwargs["context"]
    assert provider_sleeps(worker_sleeps) == []  # sent, not waited for
    # The held Deployment is still there, being deleted; the rest is gone or going.
    assert "Deployment/resume-defer-jobmanager" in _left("resume-defer")

    # Airflow ends the cleanup's deferral too (its trigger crashed): the task fails with
    # the deploy's own error, and nothing is deleted or deferred anew.
    again = FlinkDeployOperator(
        task_id="deploy", cluster=_spec("resume-defer"), timeout=30, deferrable=True
    )
    with pytest.raises(deferral_timeout, match="Trigger timeout"):
        again.resume_execution("__fail__", {"error": "Trigger failure"}, _context(ti))

    # Airflow ends a readiness deferral of a try that recorded no error: the deletion
    # is under way already, so it fails with Airflow's error without deferring again.
    with pytest.raises(deferral_error):
        again.resume_execution("__fail__", {"error": "Trigger failure"}, _context())

    # The trigger reports the deletion over: the original error, and nothing else runs.
    _release("resume-defer")
    wait_until(lambda: _left("resume-defer") == [], 30, "the cluster gone")
    done = Verdict(Lifecycle.READY, Reason.DELETED, "cluster resume-defer: nothing is left")
    event = {"outcome": Outcome(done).to_event(), "context": kwargs["context"]}
    resumed = FlinkDeployOperator(
        task_id="deploy", cluster=_spec("resume-defer"), timeout=30, deferrable=True
    )
    with pytest.raises(deferral_timeout, match="Trigger timeout"):
        resumed.resume_execution("execute_after_cleanup", {"event": event}, _context(ti))


def test_a_cleanup_whose_deletion_is_not_over_in_time_fails_with_the_deploys_error(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The wait for the deletion timed out: the task says what is left, then fails with
    the deploy's own error, its fields intact."""
    error = DeploymentFailed(
        "ImagePullBackOff", "JobManager pod cannot pull", details={"pods": ["late-jm"]}
    )
    left = "cluster late: 1 object(s) left: Deployment/late-jobmanager (finalizers: x)"
    outcome = Outcome.timeout(
        Verdict.progressing(Reason.DELETING, left), waited=timedelta(seconds=30)
    )
    event = {"outcome": outcome.to_event(), "context": {"deleted": ["Deployment/late-jobmanager"]}}
    ti = _TaskInstance()
    ti.xcom_push("deploy_error", error_record(error))
    operator = FlinkDeployOperator(task_id="deploy", cluster=_spec("late"), deferrable=True)
    with pytest.raises(DeploymentFailed) as raised:
        operator.execute_after_cleanup(_context(ti), event)
    assert (raised.value.reason, raised.value.message, raised.value.details) == (
        "ImagePullBackOff",
        "JobManager pod cannot pull",
        {"pods": ["late-jm"]},
    )
    warning = "The deletion of Flink cluster default/late is not over after 30s: " + left
    assert warning in capfd.readouterr().out


def test_a_deploy_over_an_earlier_clusters_objects_still_being_deleted_waits_for_them(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    """What is left of an earlier cluster -- its JobManager Deployment, deleted but held
    by a finalizer -- is waited for once the deploy created the anchor; not gone within
    the deploy's timeout (8 s), the deploy fails with ``BeingDeleted`` and deletes only
    the anchor it created."""
    name = "leftover-deleting"
    hook = FlinkKubernetesHook()
    manifests = render_manifests(load_cluster(_spec(name)))
    anchor = manifests[anchor_index(manifests)]
    held = f"{name}-jobmanager"
    rest = [m for m in manifests if m is not anchor]
    for manifest in rest:
        if manifest["kind"] == "Deployment" and manifest["metadata"]["name"] == held:
            manifest["metadata"]["finalizers"] = [HOLD]
    hook.apply(rest)
    hook.delete_cluster(name, "default", wait=False)
    try:
        dag_run = run_dag("flink_test_cleanup", {"cluster": _spec(name)})
        out = capfd.readouterr().out
        assert task_states(dag_run) == FAILED_SETUP, out[-4000:]
        described = f"objects of an earlier Flink cluster default/{name} are still being deleted"
        assert f"The {described}; waiting for them" in out, out[-4000:]
        assert f"BeingDeleted: {described}; not gone after 8s" in out, out[-4000:]
        assert f"Deleting Flink cluster default/{name}, which this task instance created" in out
        left = _left(name)
        assert f"Deployment/{held}" in left, left
        assert f"ConfigMap/{anchor['metadata']['name']}" not in left, left
    finally:
        hook.patch_object(DEPLOYMENT, "default", held, {"metadata": {"finalizers": None}})
    wait_until(lambda: _left(name) == [], 30, f"cluster {name} gone")
