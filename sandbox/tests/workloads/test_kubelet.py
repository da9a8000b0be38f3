"""The kubelet with the simulated runtime: statuses, probes, logs, graceful deletion."""

from __future__ import annotations

import ipaddress
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client
from workload_support import FAST, condition, eventually, fast_sandbox, pod

from flink_k8s_sandbox import SandboxServer

Kubectl = Callable[..., Any]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    yield from fast_sandbox()


def _running(core: client.CoreV1Api, namespace: str, name: str, ready: bool = True) -> Any:
    def check() -> Any:
        found = core.read_namespaced_pod(name, namespace)
        statuses = found.status.container_statuses or []
        ok = found.status.phase == "Running" and all(s.ready == ready for s in statuses)
        return found if ok and statuses else None

    return eventually(check, what=f"pod {name} running")


def _gone(core: client.CoreV1Api, namespace: str, name: str) -> bool:
    try:
        core.read_namespaced_pod(name, namespace)
    except client.ApiException as error:
        return error.status == 404
    return False


def test_a_pod_runs_with_the_kubelets_status(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, pod("web", image="nginx:1.25"))
    found = _running(core, namespace, "web")
    status = found.status
    assert [(c.type, c.status) for c in status.conditions] == [
        ("PodReadyToStartContainers", "True"),
        ("Initialized", "True"),
        ("Ready", "True"),
        ("ContainersReady", "True"),
        ("PodScheduled", "True"),
    ]
    assert ipaddress.ip_address(status.pod_ip) in ipaddress.ip_network("10.244.0.0/16")
    assert [ip.ip for ip in status.pod_ips] == [status.pod_ip]
    assert (status.host_ip, status.qos_class, status.start_time is not None) == (
        "127.0.0.1",
        "BestEffort",
        True,
    )
    (container,) = status.container_statuses
    assert (container.name, container.image, container.ready, container.started) == (
        "app",
        "docker.io/library/nginx:1.25",
        True,
        True,
    )
    assert container.image_id.startswith("docker.io/library/nginx@sha256:")
    assert container.container_id.startswith("simulated://")
    assert (container.restart_count, container.state.running is not None) == (0, True)
    selector = "involvedObject.name=web,source=kubelet"
    events = core.list_namespaced_event(namespace, field_selector=selector).items
    assert [(e.reason, e.involved_object.field_path) for e in events] == [
        ("Pulling", "spec.containers{app}"),
        ("Pulled", "spec.containers{app}"),
        ("Created", "spec.containers{app}"),
        ("Started", "spec.containers{app}"),
    ]
    assert events[0].message == 'Pulling image "nginx:1.25"'
    assert events[2].message == "Created container: app"
    assert events[3].message == "Started container app"
    assert events[0].source.host == found.spec.node_name


def test_readiness_waits_for_the_probe(core: client.CoreV1Api, namespace: str) -> None:
    probe = {"httpGet": {"path": "/ready", "port": 80}, "initialDelaySeconds": 20}
    core.create_namespaced_pod(namespace, pod("slow", container={"readinessProbe": probe}))
    started = _running(core, namespace, "slow", ready=False)
    ready = condition(started.status, "Ready")
    assert (ready.status, ready.reason, ready.message) == (
        "False",
        "ContainersNotReady",
        "containers with unready status: [app]",
    )
    _running(core, namespace, "slow", ready=True)  # after 20 s x probe scale 0.05


def test_container_ports_are_served_on_loopback(
    sandbox: SandboxServer, core: client.CoreV1Api, namespace: str
) -> None:
    ports = {"ports": [{"name": "rest", "containerPort": 8081}]}
    core.create_namespaced_pod(namespace, pod("rest", container=ports))
    pod_ip = _running(core, namespace, "rest").status.pod_ip
    address = sandbox.call(lambda _: sandbox.network.resolve(pod_ip, 8081))
    assert address is not None and address[0] == "127.0.0.1"
    with urllib.request.urlopen(f"http://{address[0]}:{address[1]}/v1/overview") as answer:
        body = json.loads(answer.read())
    assert body == {
        "pod": "rest",
        "namespace": namespace,
        "container": "app",
        "port": 8081,
        "request": "GET /v1/overview HTTP/1.1",
    }


def test_logs_with_options(core: client.CoreV1Api, namespace: str, kubectl: Kubectl) -> None:
    ports = {"ports": [{"containerPort": 9000}]}
    core.create_namespaced_pod(namespace, pod("talk", container=ports))
    _running(core, namespace, "talk")
    lines = kubectl("logs", "talk", "-n", namespace).stdout.splitlines()
    assert lines[0] == "sandbox: simulated container app started (image busybox:1.36)"
    assert lines[1].startswith("sandbox: serving container port 9000 at 127.0.0.1:")
    tail = kubectl("logs", "talk", "-n", namespace, "--tail=1", "-c", "app").stdout
    assert tail == lines[1] + "\n"
    stamped = kubectl("logs", "talk", "-n", namespace, "--timestamps").stdout.splitlines()
    assert stamped[0].endswith("Z " + lines[0]) and stamped[0][:4].isdigit()
    previous = kubectl("logs", "talk", "-n", namespace, "--previous", check=False)
    assert previous.stderr.strip() == (
        'Error from server (BadRequest): previous terminated container "app" in pod "talk" '
        "not found"
    )


def test_following_logs_ends_when_the_container_exits(
    core: client.CoreV1Api, namespace: str, kubectl: Kubectl
) -> None:
    annotations = {
        "sandbox.flink-k8s.io/fault": "KillAfter",
        "sandbox.flink-k8s.io/kill-after-seconds": "1",
        "sandbox.flink-k8s.io/exit-code": "0",
    }
    body = pod("job", annotations=annotations, restartPolicy="Never")
    core.create_namespaced_pod(namespace, body)
    _running(core, namespace, "job")
    began = time.monotonic()
    followed = kubectl("logs", "-f", "job", "-n", namespace).stdout.splitlines()
    assert time.monotonic() - began < 5
    assert followed == [
        "sandbox: simulated container app started (image busybox:1.36)",
        "sandbox fault KillAfter: killed after 1s",
    ]
    done = eventually(
        lambda: core.read_namespaced_pod("job", namespace).status.phase == "Succeeded"
    )
    assert done
    terminated = core.read_namespaced_pod("job", namespace).status.container_statuses[0]
    assert (terminated.state.terminated.exit_code, terminated.state.terminated.reason) == (
        0,
        "Completed",
    )
    ready = condition(core.read_namespaced_pod("job", namespace).status, "Ready")
    assert (ready.status, ready.reason) == ("False", "PodCompleted")


def test_a_failing_container_fails_a_never_restarting_pod(
    core: client.CoreV1Api, namespace: str
) -> None:
    annotations = {"sandbox.flink-k8s.io/fault": "CrashLoopBackOff"}
    core.create_namespaced_pod(
        namespace, pod("once", annotations=annotations, restartPolicy="Never")
    )
    eventually(lambda: core.read_namespaced_pod("once", namespace).status.phase == "Failed")
    state = core.read_namespaced_pod("once", namespace).status.container_statuses[0]
    assert (state.restart_count, state.state.terminated.exit_code) == (0, 1)


def test_graceful_deletion_waits_for_the_kubelet(core: client.CoreV1Api, namespace: str) -> None:
    stubborn = {"sandbox.flink-k8s.io/ignore-sigterm": "true"}
    body = pod("stubborn", annotations=stubborn, terminationGracePeriodSeconds=1)
    core.create_namespaced_pod(namespace, body)
    _running(core, namespace, "stubborn")
    began = time.monotonic()
    answer = core.delete_namespaced_pod("stubborn", namespace)
    assert answer.metadata.deletion_grace_period_seconds == 1
    assert answer.metadata.deletion_timestamp is not None
    assert answer.status.phase == "Running"
    time.sleep(0.5)
    assert not _gone(core, namespace, "stubborn")  # SIGTERM ignored: waits out the grace
    eventually(lambda: _gone(core, namespace, "stubborn"), what="pod removed")
    assert 0.9 < time.monotonic() - began < 5
    selector = "involvedObject.name=stubborn,reason=Killing"
    (killing,) = core.list_namespaced_event(namespace, field_selector=selector).items
    assert killing.message == "Stopping container app"


def test_force_deletion_removes_at_once(
    core: client.CoreV1Api, namespace: str, kubectl: Kubectl
) -> None:
    core.create_namespaced_pod(namespace, pod("quick", terminationGracePeriodSeconds=600))
    _running(core, namespace, "quick")
    kubectl("delete", "pod", "quick", "-n", namespace, "--grace-period=0", "--force")
    assert _gone(core, namespace, "quick")


def test_init_containers_complete_first(core: client.CoreV1Api, namespace: str) -> None:
    body = pod("init", initContainers=[{"name": "setup", "image": "busybox:1.36"}])
    core.create_namespaced_pod(namespace, body)
    first = core.read_namespaced_pod("init", namespace)
    assert first.status.phase == "Pending"
    found = _running(core, namespace, "init")
    (setup,) = found.status.init_container_statuses
    assert (setup.ready, setup.state.terminated.reason, setup.state.terminated.exit_code) == (
        True,
        "Completed",
        0,
    )
    assert condition(found.status, "Initialized").status == "True"


def test_a_missing_config_volume_holds_the_pod(core: client.CoreV1Api, namespace: str) -> None:
    volume = {"name": "conf", "configMap": {"name": "flink-config"}}
    mount = {"volumeMounts": [{"name": "conf", "mountPath": "/opt/flink/conf"}]}
    core.create_namespaced_pod(namespace, pod("mounts", container=mount, volumes=[volume]))
    selector = "involvedObject.name=mounts,reason=FailedMount"
    (failed,) = eventually(
        lambda: core.list_namespaced_event(namespace, field_selector=selector).items
    )
    assert (failed.type, failed.message) == (
        "Warning",
        'MountVolume.SetUp failed for volume "conf" : configmap "flink-config" not found',
    )
    waiting = core.read_namespaced_pod("mounts", namespace).status.container_statuses[0]
    assert waiting.state.waiting.reason == "ContainerCreating"
    config = {"metadata": {"name": "flink-config"}, "data": {"config.yaml": "a: b"}}
    core.create_namespaced_config_map(namespace, config)
    _running(core, namespace, "mounts")


def test_status_written_by_others_is_kept(core: client.CoreV1Api, namespace: str) -> None:
    body = pod("gated", readinessGates=[{"conditionType": "example.com/gate"}])
    core.create_namespaced_pod(namespace, body)
    _running(core, namespace, "gated")
    gate = {"type": "example.com/gate", "status": "True"}
    core.patch_namespaced_pod_status("gated", namespace, {"status": {"conditions": [gate]}})
    read = core.read_namespaced_pod_status("gated", namespace)
    assert condition(read.status, "example.com/gate").status == "True"
    core.delete_namespaced_pod("gated", namespace)  # the kubelet writes the final status
    eventually(lambda: _gone(core, namespace, "gated"))


def test_the_log_stream_closes_with_the_server() -> None:
    """A follower ends cleanly when its sandbox stops (no hanging reader)."""
    with SandboxServer(timing=FAST) as server:
        api = client.ApiClient(client.Configuration(host=server.url))
        core = client.CoreV1Api(api)
        core.create_namespaced_pod("default", pod("p"))
        _running(core, "default", "p")
        result: list[bytes] = []
        response = core.read_namespaced_pod_log("p", "default", follow=True, _preload_content=False)
        reader = threading.Thread(target=lambda: result.append(response.read()), daemon=True)
        reader.start()
        time.sleep(0.2)
    reader.join(timeout=5)
    assert not reader.is_alive()
    assert result and result[0].startswith(b"sandbox: simulated container app started")
