"""Per-pod faults by annotation, by rule and by image name, as clients see them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client, watch
from workload_support import FAST, condition, eventually, fast_sandbox, pod

from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.clock import go_duration

Kubectl = Callable[..., Any]
FAULT = "sandbox.flink-k8s.io/fault"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    yield from fast_sandbox()


def _state(core: client.CoreV1Api, namespace: str, name: str, index: int = 0) -> Any:
    statuses = core.read_namespaced_pod(name, namespace).status.container_statuses or []
    return statuses[index] if len(statuses) > index else None


def _events(core: client.CoreV1Api, namespace: str, name: str) -> list[tuple[str, str, str]]:
    selector = f"involvedObject.name={name},source=kubelet"
    items = core.list_namespaced_event(namespace, field_selector=selector).items
    return [(e.type, e.reason, e.message) for e in items]


def _waiting_reasons(
    core: client.CoreV1Api, namespace: str, name: str, wanted: set[str]
) -> dict[str, str]:
    """Watch the pod until its container has waited for each reason; reason -> message."""
    seen: dict[str, str] = {}
    stream = watch.Watch()
    for event in stream.stream(
        core.list_namespaced_pod,
        namespace,
        field_selector=f"metadata.name={name}",
        timeout_seconds=10,
    ):
        for status in event["object"].status.container_statuses or []:
            if status.state.waiting is not None:
                seen.setdefault(status.state.waiting.reason, status.state.waiting.message)
        if wanted <= set(seen):
            stream.stop()
    return seen


def test_an_image_that_does_not_exist(
    core: client.CoreV1Api, namespace: str, kubectl: Kubectl
) -> None:
    image = "registry.example.com/team/does-not-exist:1.0"
    core.create_namespaced_pod(namespace, pod("pull", image=image))
    seen = _waiting_reasons(core, namespace, "pull", {"ErrImagePull", "ImagePullBackOff"})
    failure = (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
        f'failed to resolve reference "{image}": {image}: not found'
    )
    assert seen["ErrImagePull"] == failure
    assert seen["ImagePullBackOff"] == f'Back-off pulling image "{image}"'
    assert core.read_namespaced_pod("pull", namespace).status.phase == "Pending"
    events = eventually(
        lambda: len(_events(core, namespace, "pull")) >= 5 and _events(core, namespace, "pull")
    )
    assert events[:5] == [
        ("Normal", "Pulling", f'Pulling image "{image}"'),
        ("Warning", "Failed", f'Failed to pull image "{image}": {failure}'),
        ("Warning", "Failed", "Error: ErrImagePull"),
        ("Normal", "BackOff", f'Back-off pulling image "{image}"'),
        ("Warning", "Failed", "Error: ImagePullBackOff"),
    ]
    result = kubectl("logs", "pull", "-n", namespace, check=False)
    assert "is waiting to start: " in result.stderr
    assert result.stderr.strip().startswith(
        'Error from server (BadRequest): container "app" in pod "pull"'
    )


def test_crash_loop_back_off(core: client.CoreV1Api, namespace: str, kubectl: Kubectl) -> None:
    created = core.create_namespaced_pod(
        namespace, pod("crash", annotations={FAULT: "CrashLoopBackOff"})
    )

    def backing_off(restarts: int) -> Any:
        state = _state(core, namespace, "crash")
        waiting = state.state.waiting if state else None
        ok = waiting and waiting.reason == "CrashLoopBackOff" and state.restart_count == restarts
        return state if ok else None

    first = eventually(lambda: backing_off(1), what="first back-off")
    second = eventually(lambda: backing_off(2), what="second back-off")
    label = f"crash_{namespace}({created.metadata.uid})"
    for state, restarts in ((first, 1), (second, 2)):
        delay = go_duration(FAST.backoff_base * 2 ** (restarts - 1))
        assert state.state.waiting.message == (
            f"back-off {delay} restarting failed container=app pod={label}"
        )
    assert second.state.waiting.message.startswith("back-off 800ms ")
    last = second.last_state.terminated
    assert (last.exit_code, last.reason, second.ready, second.started) == (1, "Error", False, False)
    found = core.read_namespaced_pod("crash", namespace)
    assert found.status.phase == "Running"
    ready = condition(found.status, "Ready")
    assert (ready.status, ready.message) == ("False", "containers with unready status: [app]")
    eventually(lambda: _state(core, namespace, "crash").restart_count >= 3, what="third restart")
    expected = [
        "sandbox: simulated container app started (image busybox:1.36)",
        "sandbox fault CrashLoopBackOff: exiting with code 1",
    ]
    assert kubectl("logs", "crash", "-n", namespace, "--previous").stdout.splitlines() == expected
    backoff = [e for e in _events(core, namespace, "crash") if e[1] == "BackOff"]
    assert backoff[0] == (
        "Warning",
        "BackOff",
        f"Back-off restarting failed container app in pod {label}",
    )
    selector = "involvedObject.name=crash,reason=Started"
    (started,) = core.list_namespaced_event(namespace, field_selector=selector).items
    assert started.count >= 3


def test_create_container_config_error(core: client.CoreV1Api, namespace: str) -> None:
    env = [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}}]
    core.create_namespaced_pod(namespace, pod("config", container={"env": env}))

    def waiting_with(message: str) -> bool:
        state = _state(core, namespace, "config")
        waiting = state.state.waiting if state else None
        return bool(
            waiting and (waiting.reason, waiting.message) == ("CreateContainerConfigError", message)
        )

    eventually(lambda: waiting_with('configmap "settings" not found'))
    assert core.read_namespaced_pod("config", namespace).status.phase == "Pending"
    assert ("Warning", "Failed", 'Error: configmap "settings" not found') in _events(
        core, namespace, "config"
    )
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "settings"}, "data": {}})
    eventually(lambda: waiting_with(f"couldn't find key mode in ConfigMap {namespace}/settings"))
    core.patch_namespaced_config_map("settings", namespace, {"data": {"mode": "batch"}})
    eventually(lambda: _state(core, namespace, "config").state.running is not None, what="started")


def test_never_ready_by_rule(
    sandbox: SandboxServer, core: client.CoreV1Api, namespace: str
) -> None:
    rule = sandbox.pod_faults.add("NeverReady", namespace=namespace, selector="app=gate")
    try:
        probe = {"readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 2}}
        core.create_namespaced_pod(namespace, pod("gate", container=probe))
        core.create_namespaced_pod(namespace, pod("open", container=probe))

        def unhealthy() -> list[tuple[str, str, str]]:
            return [e for e in _events(core, namespace, "gate") if e[1] == "Unhealthy"]

        events = eventually(unhealthy, what="Unhealthy event")
        assert events[0] == (
            "Warning",
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
        )
        eventually(
            lambda: _state(core, namespace, "open") and _state(core, namespace, "open").ready
        )
        gate = core.read_namespaced_pod("gate", namespace)
        assert gate.status.phase == "Running"
        assert gate.status.container_statuses[0].ready is False
        assert condition(gate.status, "ContainersReady").status == "False"
    finally:
        sandbox.pod_faults.remove(rule.id)


def test_killed_containers_restart(core: client.CoreV1Api, namespace: str) -> None:
    annotations = {FAULT: "OOMKilled", "sandbox.flink-k8s.io/kill-after-seconds": "0.2"}
    core.create_namespaced_pod(namespace, pod("oom", annotations=annotations))
    state = eventually(lambda: (s := _state(core, namespace, "oom")) and s.restart_count >= 2 and s)
    last = state.last_state.terminated
    assert (last.exit_code, last.reason) == (137, "OOMKilled")
    assert last.started_at is not None and last.finished_at is not None


def test_a_fault_can_hit_one_container(core: client.CoreV1Api, namespace: str) -> None:
    annotations = {FAULT: "CrashLoopBackOff", "sandbox.flink-k8s.io/fault-containers": "sidecar"}
    body = pod("pair", annotations=annotations)
    body["spec"]["containers"].append({"name": "sidecar", "image": "busybox:1.36"})
    core.create_namespaced_pod(namespace, body)
    eventually(lambda: (s := _state(core, namespace, "pair", 1)) and s.restart_count >= 2)
    app, sidecar = core.read_namespaced_pod("pair", namespace).status.container_statuses
    assert (app.name, app.ready, app.restart_count) == ("app", True, 0)
    assert sidecar.name == "sidecar"


def test_rules_from_keyword_arguments(
    sandbox: SandboxServer, core: client.CoreV1Api, namespace: str
) -> None:
    rule = sandbox.pod_faults.inject(
        fault="CreateContainerConfigError", namespace=namespace, name="cfg-*"
    )
    try:
        assert rule["fault"] == "CreateContainerConfigError" and rule["name"] == "cfg-*"
        core.create_namespaced_pod(namespace, pod("cfg-1"))

        def waiting() -> Any:
            state = _state(core, namespace, "cfg-1")
            return state.state.waiting if state and state.state.waiting else None

        found = eventually(
            lambda: (w := waiting()) and w.reason == "CreateContainerConfigError" and w
        )
        assert found.message == 'configmap "sandbox-fault" not found'
    finally:
        sandbox.pod_faults.remove(rule["id"])
