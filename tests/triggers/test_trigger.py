"""FlinkClusterTrigger: plain-JSON serialization, resuming after a triggerer restart, and
each fail-fast cause as an event -- run with ``asyncio.run`` against the simulated sandbox.

No mocks: clusters are rendered and applied with the Kubernetes hook, and faults come from
the sandbox (an image that does not exist, the pod-fault annotation, a TaskManager bigger
than any node, a Deployment with a 2-second progress deadline whose pods never turn Ready).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.module_loading import import_string
from dag_support import orders_jar
from pydantic import ValidationError

from airflow_provider_flink_k8s.flinkrest import FlinkRestService
from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation import Outcome
from airflow_provider_flink_k8s.observation.waits import WaitFor
from airflow_provider_flink_k8s.triggers.cluster import FlinkClusterTrigger, outcome_of_event
from flink_k8s_sandbox import SandboxServer

try:
    from airflow.sdk.serde import deserialize, serialize
except ImportError:  # Airflow 3.0 and 3.1: the serde module is still in core
    from airflow.serialization.serde import deserialize, serialize

CLASSPATH = "airflow_provider_flink_k8s.triggers.cluster.FlinkClusterTrigger"
FAULT = "sandbox.flink-k8s.io/fault"


def _spec(name: str, **overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2, "replicas": 1},
    }
    spec.update(overrides)
    return spec


def _trigger(name: str, *, seconds: float, **wait: Any) -> FlinkClusterTrigger:
    return FlinkClusterTrigger(
        wait=WaitFor(name=name, expected_taskmanagers=1, expected_slots=2, **wait).to_dict(),
        deadline=time.time() + seconds,
        poll_interval=0.5,
        context={"name": name, "try": 1},
    )


def _next_event(trigger: FlinkClusterTrigger) -> tuple[Outcome, dict[str, Any]]:
    """Run the trigger until its first event (what the triggerer does)."""

    async def first() -> Any:
        return await trigger.run().__anext__()

    event = asyncio.run(first())
    return outcome_of_event(event.payload)


Deploy = Callable[..., None]


@pytest.fixture
def deploy(simulated_sandbox: SandboxServer) -> Iterator[Deploy]:
    """Apply a cluster's manifests (``edit`` may change them first); delete them after."""
    hook = FlinkKubernetesHook()
    names: list[str] = []

    def apply(spec: dict[str, Any], edit: Callable[[dict[str, Any]], None] | None = None) -> None:
        from airflow_provider_flink_k8s.spec import load_cluster

        manifests = render_manifests(load_cluster(spec))
        for manifest in manifests:
            if edit is not None:
                edit(manifest)
        hook.apply(manifests)
        names.append(spec["name"])

    yield apply
    for name in names:
        hook.delete_cluster(name, "default", wait=False)


# -- serialization -----------------------------------------------------------------------


def test_serialize_gives_the_classpath_and_plain_json_kwargs() -> None:
    wait = WaitFor(kind="job", name="c", namespace="n", job_id="a" * 32)
    trigger = FlinkClusterTrigger(
        wait=wait.to_dict(),
        kubernetes_conn_id="k8s",
        kube_options={"config_file": "/etc/kube/config", "cluster_context": "prod"},
        flink_conn_id="flink_orders",
        rest_route="service_proxy",
        deadline=1767225600.5,
        poll_interval=3,
        context={"name": "c", "plan": {"taskmanagers": 2}},
        delete_on_kill=True,
        owner="dag/deploy/run/-1",
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == CLASSPATH
    assert kwargs == {
        "wait": wait.to_dict(),
        "kubernetes_conn_id": "k8s",
        "kube_options": {"config_file": "/etc/kube/config", "cluster_context": "prod"},
        "flink_conn_id": "flink_orders",
        "rest_route": "service_proxy",
        "deadline": 1767225600.5,
        "poll_interval": 3.0,
        "context": {"name": "c", "plan": {"taskmanagers": 2}},
        "delete_on_kill": True,
        "owner": "dag/deploy/run/-1",
    }
    assert json.loads(json.dumps(kwargs)) == kwargs
    again = import_string(classpath)(**kwargs)
    assert again.serialize() == (classpath, kwargs)
    # What the triggerer stores and reads back (Airflow's serde, as dag.test() uses it).
    assert import_string(classpath)(**deserialize(serialize(kwargs))).serialize() == (
        classpath,
        kwargs,
    )


def test_a_bad_wait_is_refused_when_the_trigger_is_built() -> None:
    with pytest.raises(ValidationError, match="target_states"):
        FlinkClusterTrigger(wait={"name": "c", "target_states": ["DONE"]}, deadline=0)


# -- runs --------------------------------------------------------------------------------


def test_a_restarted_trigger_keeps_the_original_deadline(deploy: Deploy) -> None:
    # The TaskManager's pod runs but never turns Ready, so it never registers with the
    # JobManager (the simulated runtime's Flink REST stand-in): the wait never ends.
    deploy(_spec("restart"), _taskmanager_never_ready)
    first = _trigger("restart", seconds=8)

    async def until_restart() -> None:
        waiting = asyncio.ensure_future(first.run().__anext__())
        await asyncio.sleep(3)
        assert not waiting.done()  # still waiting: nothing decided yet
        waiting.cancel()  # the triggerer stops (restart, or another triggerer takes over)
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(until_restart())
    classpath, kwargs = first.serialize()
    second = import_string(classpath)(**json.loads(json.dumps(kwargs)))
    assert second.deadline == first.deadline  # absolute: the restart does not move it
    outcome, context = _next_event(second)
    assert outcome.timed_out, outcome
    assert outcome.verdict.lifecycle.value == "progressing", outcome
    assert context == {"name": "restart", "try": 1}
    # The restarted trigger ended at the first one's deadline: it waited what was left of
    # the 8 s (about 5: 3 had passed before the restart), short of 8 s of its own.
    assert outcome.waited_seconds is not None and outcome.waited_seconds < 7


def _taskmanager_never_ready(manifest: dict[str, Any]) -> None:
    if manifest["kind"] == "Deployment" and manifest["metadata"]["name"].endswith("-taskmanager"):
        template = manifest["spec"]["template"]["metadata"]
        template.setdefault("annotations", {})[FAULT] = "NeverReady"


def _never_progressing(manifest: dict[str, Any]) -> None:
    if manifest["kind"] == "Deployment":
        manifest["spec"]["progressDeadlineSeconds"] = 2


FAILURES = [
    ("pull", {"image": "registry.example.com/does-not-exist:1.0"}, None, {}),
    ("crash", {"annotations": {FAULT: "CrashLoopBackOff"}}, None, {}),
    (
        "unsched",
        {"taskmanager": {"memory": "1024m", "cpu": 8, "slots": 2, "replicas": 1}},
        None,
        {"unschedulable_grace_seconds": 1},
    ),
    ("deadline", {"annotations": {FAULT: "NeverReady"}}, _never_progressing, {}),
]
REASONS = {
    "pull": ("ErrImagePull", "ImagePullBackOff"),
    "crash": ("CrashLoopBackOff",),
    "unsched": ("Unschedulable",),
    "deadline": ("ProgressDeadlineExceeded",),
}


@pytest.mark.parametrize(
    ("case", "overrides", "edit", "wait"), FAILURES, ids=[f[0] for f in FAILURES]
)
def test_a_failing_cluster_ends_the_trigger_within_seconds_with_its_cause(
    deploy: Deploy,
    case: str,
    overrides: dict[str, Any],
    edit: Callable[[dict[str, Any]], None] | None,
    wait: dict[str, Any],
) -> None:
    name = f"trig-{case}"
    deploy(_spec(name, **overrides), edit)
    outcome, context = _next_event(_trigger(name, seconds=60, **wait))
    verdict = outcome.verdict
    # Ended on the cause, before its deadline.
    assert verdict.lifecycle.value == "failed" and not outcome.timed_out, outcome
    assert verdict.reason.value in REASONS[case], outcome
    assert context == {"name": name, "try": 1}
    if case == "crash":
        tails = verdict.details["log_tails"]
        assert tails and all("sandbox fault CrashLoopBackOff" in text for text in tails.values())
    if case == "unsched":
        assert "Insufficient cpu" in verdict.message, verdict.message
    # The event is plain JSON, as the triggerer stores it.
    assert Outcome.from_event(json.loads(json.dumps(outcome.to_event()))) == outcome


def _cluster_objects(hook: FlinkKubernetesHook, name: str) -> int:
    snapshot = hook.observe(name, "default", log_lines=0)
    return len(snapshot.deployments) + len(snapshot.pods)


@pytest.mark.parametrize("delete_on_kill", [True, False])
def test_on_kill_deletes_the_cluster_only_when_told(deploy: Deploy, delete_on_kill: bool) -> None:
    name = f"kill-{str(delete_on_kill).lower()}"
    deploy(_spec(name))
    hook = FlinkKubernetesHook()
    assert _cluster_objects(hook, name) > 0
    trigger = _trigger(name, seconds=60)
    trigger.delete_on_kill = delete_on_kill
    asyncio.run(trigger.on_kill())
    deadline = time.monotonic() + 20
    while delete_on_kill and _cluster_objects(hook, name) and time.monotonic() < deadline:
        time.sleep(0.2)
    if delete_on_kill:
        assert _cluster_objects(hook, name) == 0
    else:
        time.sleep(1)
        assert len(hook.observe(name, "default", log_lines=0).deployments) == 2


def test_the_triggerer_calls_on_kill_from_airflow_3_3_and_never_before() -> None:
    """docs/airflow.md: a deferred deploy deletes its cluster from the trigger's ``on_kill``
    on Airflow 3.3+; older triggerers have no such hook, so there it never runs."""
    from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_3_PLUS
    from airflow.triggers.base import BaseTrigger

    assert hasattr(BaseTrigger, "on_kill") == AIRFLOW_V_3_3_PLUS
    if AIRFLOW_V_3_3_PLUS:
        assert FlinkClusterTrigger.on_kill is not BaseTrigger.on_kill  # ours overrides it


@pytest.mark.parametrize("owner", ["me", "someone-else"])
def test_on_kill_deletes_only_what_the_record_says_its_task_instance_created(
    deploy: Deploy, owner: str
) -> None:
    """docs/airflow.md: the trigger's ``on_kill`` deletes only the objects whose record
    names its task instance, as they are when it deletes them."""
    from airflow_provider_flink_k8s.observation.ownership import OWNER_ANNOTATION

    name = f"kill-owner-{owner}"

    def stamp(manifest: dict[str, Any]) -> None:
        manifest["metadata"].setdefault("annotations", {})[OWNER_ANNOTATION] = owner

    deploy(_spec(name), stamp)
    hook = FlinkKubernetesHook()
    trigger = _trigger(name, seconds=60)
    trigger.delete_on_kill, trigger.owner = True, "me"
    asyncio.run(trigger.on_kill())
    if owner == "me":
        from polling import wait_until

        wait_until(lambda: _cluster_objects(hook, name) == 0, 30, "the cluster to be gone")
    else:
        time.sleep(1)
        assert len(hook.observe(name, "default", log_lines=0).deployments) == 2


# -- economy: one client, Events about unready pods only, logs only for a failure ----------


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many ``kubernetes_asyncio`` clients the cncf.kubernetes async hook made (each
    reads the kubeconfig): a counter around its ``get_conn``, which it still calls."""
    from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook

    made: list[int] = []
    real = AsyncKubernetesHook.get_conn

    @contextlib.asynccontextmanager
    async def counting(self: Any) -> Any:
        made.append(1)
        async with real(self) as api:
            yield api

    monkeypatch.setattr(AsyncKubernetesHook, "get_conn", counting)
    return made


def test_a_trigger_uses_one_client_and_reads_no_log_when_the_cluster_gets_ready(
    deploy: Deploy, simulated_sandbox: SandboxServer, clients: list[int]
) -> None:
    logs = simulated_sandbox.faults.delay(0, path="/log$")
    events = simulated_sandbox.faults.delay(0, path="/events$")
    pods = simulated_sandbox.faults.delay(0, method="GET", path="/namespaces/default/pods$")
    try:
        deploy(_spec("frugal"))
        outcome, _ = _next_event(_trigger("frugal", seconds=60))
    finally:
        simulated_sandbox.faults.clear()
    assert outcome.verdict.lifecycle.value == "ready", outcome
    assert pods.matched >= 3  # several snapshots (and the watch's list)...
    # ...through one client for the Kubernetes calls, and one the REST hook made once to
    # read the service proxy's credentials.
    assert len(clients) == 2
    assert logs.matched == 0
    # Events only while a pod was not Ready (one request per such pod and snapshot).
    assert events.matched <= 2 * 20


def test_a_failed_wait_reads_the_failing_containers_logs_once(
    deploy: Deploy, simulated_sandbox: SandboxServer
) -> None:
    logs = simulated_sandbox.faults.delay(0, path="/log$")
    try:
        deploy(_spec("crash-once", annotations={FAULT: "CrashLoopBackOff"}))
        outcome, _ = _next_event(_trigger("crash-once", seconds=60))
    finally:
        simulated_sandbox.faults.clear()
    assert outcome.verdict.reason.value == "CrashLoopBackOff", outcome
    assert outcome.verdict.details["log_tails"]
    assert 1 <= logs.matched <= 2  # at most one container per role, once


def test_a_savepoint_wait_asks_flink_about_the_savepoint_and_reads_no_kubernetes_object(
    deploy: Deploy, simulated_sandbox: SandboxServer, tmp_path: Path
) -> None:
    deploy(_spec("sp-only", savepoint_dir=(tmp_path / "sp").as_uri()))
    ready, _ = _next_event(_trigger("sp-only", seconds=60))
    assert ready.verdict.lifecycle.value == "ready", ready
    service = FlinkRestService.for_cluster("sp-only", "default", route="service_proxy")
    with FlinkRestHook(service=service) as rest:
        job_id = rest.run_jar(rest.upload_jar(orders_jar(tmp_path)))
        waits = {"name": "sp-only", "job_id": job_id}
        running, _ = _next_event(_trigger_for(WaitFor(kind="tasks_running", **waits)))
        assert running.verdict.lifecycle.value == "ready", running
        trigger_id = rest.trigger_savepoint(job_id)
    kube = simulated_sandbox.faults.delay(0, path=r"/(pods|deployments|events|flinkdeployments)$")
    try:
        wait = WaitFor(kind="savepoint", trigger_id=trigger_id, **waits)
        outcome, _ = _next_event(_trigger_for(wait))
    finally:
        simulated_sandbox.faults.clear()
    assert outcome.verdict.lifecycle.value == "ready", outcome
    assert outcome.verdict.details["location"].startswith("file:")
    assert kube.matched == 0  # no watch, no list: only Flink's answer decides


def _trigger_for(wait: WaitFor) -> FlinkClusterTrigger:
    return FlinkClusterTrigger(
        wait=wait.to_dict(), deadline=time.time() + 60, poll_interval=0.2, context={}
    )
