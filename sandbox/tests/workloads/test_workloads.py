"""Deployments -> ReplicaSets -> Pods, driven by real clients and kubectl.

Rollouts are observed the way clients observe them: ``kubectl rollout status``,
``kubectl wait``, watches; statuses and conditions are compared field for field with
what kube-controller-manager writes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from kubernetes import client, watch
from workload_support import condition, deployment, eventually, fast_sandbox

from flink_k8s_sandbox import SandboxServer

Kubectl = Callable[..., Any]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    yield from fast_sandbox()


def _pods(core: client.CoreV1Api, namespace: str, app: str) -> list[Any]:
    return list(core.list_namespaced_pod(namespace, label_selector=f"app={app}").items)


def _ready(pod: Any) -> bool:
    ready = condition(pod.status, "Ready")
    return ready is not None and ready.status == "True"


def test_rollout_status_and_exact_status(
    apps: client.AppsV1Api, core: client.CoreV1Api, namespace: str, kubectl: Kubectl
) -> None:
    manifest = yaml.safe_dump(deployment("web", 3))
    kubectl("apply", "-n", namespace, "-f", "-", stdin=manifest)
    done = kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=20s")
    assert done.stdout.strip().endswith('deployment "web" successfully rolled out')
    kubectl("wait", "--for=condition=Available", "deployment/web", "-n", namespace, "--timeout=10s")

    found = apps.read_namespaced_deployment("web", namespace)
    (rs,) = apps.list_namespaced_replica_set(namespace).items
    pod_hash = rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.name == f"web-{pod_hash}"
    assert rs.metadata.owner_references[0].uid == found.metadata.uid
    assert rs.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    assert found.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    status = found.status
    counts = (status.observed_generation, status.replicas, status.updated_replicas)
    assert counts == (1, 3, 3)
    assert (status.ready_replicas, status.available_replicas, status.unavailable_replicas) == (
        3,
        3,
        None,
    )
    shown = [(c.type, c.status, c.reason, c.message) for c in status.conditions]
    assert shown == [
        ("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
        (
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{rs.metadata.name}" has successfully progressed.',
        ),
    ]
    rs_status = rs.status
    assert (rs_status.replicas, rs_status.fully_labeled_replicas, rs_status.ready_replicas) == (
        3,
        3,
        3,
    )
    assert (rs_status.available_replicas, rs_status.observed_generation) == (3, 1)
    pods = _pods(core, namespace, "web")
    assert len(pods) == 3 and all(p.metadata.name.startswith(f"{rs.metadata.name}-") for p in pods)
    assert {p.metadata.labels["pod-template-hash"] for p in pods} == {pod_hash}
    assert len({p.spec.node_name for p in pods}) == 3  # spread over the three nodes


def test_scale_up_and_down(
    apps: client.AppsV1Api, core: client.CoreV1Api, namespace: str, kubectl: Kubectl
) -> None:
    apps.create_namespaced_deployment(namespace, deployment("api", 2))
    kubectl("rollout", "status", "deployment/api", "-n", namespace, "--timeout=20s")
    kubectl("scale", "deployment/api", "--replicas=5", "-n", namespace)
    kubectl("rollout", "status", "deployment/api", "-n", namespace, "--timeout=20s")
    assert sum(_ready(p) for p in _pods(core, namespace, "api")) == 5
    kubectl("scale", "deployment/api", "--replicas=1", "-n", namespace)
    eventually(lambda: len(_pods(core, namespace, "api")) == 1, what="scaled down to one pod")
    found = apps.read_namespaced_deployment("api", namespace)
    assert (found.status.replicas, found.status.available_replicas) == (1, 1)
    selector = "involvedObject.kind=Deployment,involvedObject.name=api,reason=ScalingReplicaSet"
    messages = [
        e.message for e in core.list_namespaced_event(namespace, field_selector=selector).items
    ]
    rs_name = apps.list_namespaced_replica_set(namespace).items[0].metadata.name
    assert messages == [
        f"Scaled up replica set {rs_name} from 0 to 2",
        f"Scaled up replica set {rs_name} from 2 to 5",
        f"Scaled down replica set {rs_name} from 5 to 1",
    ]


class PodWatch:
    """Records every pod event of a selector from now on, in a thread, until stopped."""

    def __init__(self, core: client.CoreV1Api, namespace: str, selector: str) -> None:
        start = core.list_namespaced_pod(namespace, label_selector=selector)
        self.seen: list[tuple[str, Any]] = [("ADDED", item) for item in start.items]
        self.initial = len(self.seen)
        self._args = (core, namespace, selector)
        self._version = str(start.metadata.resource_version)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        core, namespace, selector = self._args
        while not self._stop.is_set():
            for event in watch.Watch().stream(
                core.list_namespaced_pod,
                namespace,
                label_selector=selector,
                resource_version=self._version,
                timeout_seconds=1,
            ):
                self.seen.append((event["type"], event["object"]))
                self._version = event["object"].metadata.resource_version

    def stop(self) -> list[tuple[str, Any]]:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.seen


def test_rolling_update_respects_max_surge_and_max_unavailable(
    apps: client.AppsV1Api, core: client.CoreV1Api, namespace: str, kubectl: Kubectl
) -> None:
    rolling = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}
    probe = {"readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 2}}
    body = deployment("roll", 4, container=probe, strategy=rolling)
    apps.create_namespaced_deployment(namespace, body)
    kubectl("rollout", "status", "deployment/roll", "-n", namespace, "--timeout=20s")
    pods = PodWatch(core, namespace, "app=roll")
    kubectl("set", "image", "deployment/roll", "app=nginx:1.27", "-n", namespace)
    kubectl("rollout", "status", "deployment/roll", "-n", namespace, "--timeout=30s")
    eventually(lambda: len(_pods(core, namespace, "roll")) == 4, what="old pods gone")
    seen = pods.stop()

    live: dict[str, Any] = {}
    most, fewest_available = 0, 4
    for index, (kind, obj) in enumerate(seen):
        if kind == "DELETED":
            live.pop(obj.metadata.name, None)
        else:
            live[obj.metadata.name] = obj
        if index + 1 < pods.initial:
            continue  # the state before the update is still being read
        running = [p for p in live.values() if p.metadata.deletion_timestamp is None]
        most = max(most, len(running))
        fewest_available = min(fewest_available, sum(_ready(p) for p in running))
    assert most == 5  # replicas + maxSurge, reached but never exceeded
    assert fewest_available == 3  # replicas - maxUnavailable, never fewer
    images = {p.spec.containers[0].image for p in _pods(core, namespace, "roll")}
    assert images == {"nginx:1.27"}
    replica_sets = apps.list_namespaced_replica_set(namespace).items
    revisions = sorted(
        (rs.metadata.annotations["deployment.kubernetes.io/revision"], rs.spec.replicas)
        for rs in replica_sets
    )
    assert revisions == [("1", 0), ("2", 4)]


def test_progress_deadline_exceeded(
    apps: client.AppsV1Api, namespace: str, kubectl: Kubectl
) -> None:
    never = {"sandbox.flink-k8s.io/fault": "NeverReady"}
    body = deployment("stuck", 1, annotations=never, progressDeadlineSeconds=1)
    apps.create_namespaced_deployment(namespace, body)

    def timed_out() -> Any:
        status = apps.read_namespaced_deployment("stuck", namespace).status
        progressing = condition(status, "Progressing")
        return progressing if progressing and progressing.status == "False" else None

    progressing = eventually(timed_out, timeout=8, what="ProgressDeadlineExceeded")
    rs = apps.list_namespaced_replica_set(namespace).items[0]
    assert (progressing.reason, progressing.message) == (
        "ProgressDeadlineExceeded",
        f'ReplicaSet "{rs.metadata.name}" has timed out progressing.',
    )
    available = condition(apps.read_namespaced_deployment("stuck", namespace).status, "Available")
    assert (available.status, available.reason) == ("False", "MinimumReplicasUnavailable")
    result = kubectl("rollout", "status", "deployment/stuck", "-n", namespace, check=False)
    assert result.returncode == 1
    assert 'deployment "stuck" exceeded its progress deadline' in result.stderr


@pytest.mark.parametrize("cascade", ["background", "foreground"])
def test_deleting_a_deployment_removes_its_replica_sets_and_pods(
    apps: client.AppsV1Api,
    core: client.CoreV1Api,
    namespace: str,
    kubectl: Kubectl,
    cascade: str,
) -> None:
    apps.create_namespaced_deployment(namespace, deployment("gone", 2))
    kubectl("rollout", "status", "deployment/gone", "-n", namespace, "--timeout=20s")
    kubectl("delete", "deployment/gone", "-n", namespace, f"--cascade={cascade}", "--timeout=20s")
    eventually(
        lambda: (
            not apps.list_namespaced_replica_set(namespace).items
            and not core.list_namespaced_pod(namespace).items
        ),
        what="replica sets and pods removed",
    )


def test_recreate_stops_old_pods_before_new_ones(
    apps: client.AppsV1Api, core: client.CoreV1Api, namespace: str, kubectl: Kubectl
) -> None:
    body = deployment("once", 2, strategy={"type": "Recreate"})
    apps.create_namespaced_deployment(namespace, body)
    kubectl("rollout", "status", "deployment/once", "-n", namespace, "--timeout=20s")
    pods = PodWatch(core, namespace, "app=once")
    kubectl("set", "image", "deployment/once", "app=nginx:1.27", "-n", namespace)
    kubectl("rollout", "status", "deployment/once", "-n", namespace, "--timeout=20s")
    seen = pods.stop()
    old = {obj.metadata.name for _, obj in seen[:2]}
    first_new = next(i for i, (_, obj) in enumerate(seen) if obj.metadata.name not in old)
    last_old_gone = max(i for i, (kind, obj) in enumerate(seen) if kind == "DELETED")
    assert last_old_gone < first_new


def test_controller_events_by_field_selector(
    apps: client.AppsV1Api, core: client.CoreV1Api, namespace: str, kubectl: Kubectl
) -> None:
    apps.create_namespaced_deployment(namespace, deployment("ev", 1))
    kubectl("rollout", "status", "deployment/ev", "-n", namespace, "--timeout=20s")
    rs = apps.list_namespaced_replica_set(namespace).items[0]
    selector = f"involvedObject.kind=ReplicaSet,involvedObject.name={rs.metadata.name}"
    (created,) = core.list_namespaced_event(namespace, field_selector=selector).items
    pod_name = _pods(core, namespace, "ev")[0].metadata.name
    assert (created.reason, created.type, created.message) == (
        "SuccessfulCreate",
        "Normal",
        f"Created pod: {pod_name}",
    )
    assert (created.source.component, created.count) == ("replicaset-controller", 1)
    assert created.involved_object.uid == rs.metadata.uid
    assert created.first_timestamp is not None and created.last_timestamp is not None
    result = kubectl(
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        f"involvedObject.name={pod_name},reason=Scheduled",
        "-o",
        "jsonpath={.items[*].message}",
    )
    assert result.stdout.startswith(
        f"Successfully assigned {namespace}/{pod_name} to sandbox-node-"
    )
