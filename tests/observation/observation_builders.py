"""Realistic raw API objects for the observation tests, and a healthy cluster to mutate.

Objects are shaped as the API server returns them as JSON: camelCase keys, zero counts
and empty lists left out, RFC 3339 timestamps, names as a Deployment/ReplicaSet/pod chain
(``<deployment>-<pod-template-hash>-<5 chars>``). Times are relative to :data:`NOW`.

The module has a unique name (not ``builders``) because test directories are not
packages here: the first ``builders`` imported would shadow any other.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_flink_k8s.observation import ClusterSnapshot

NOW = datetime(2025, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
NAME = "clickstream"
NAMESPACE = "analytics"
IMAGE = "flink:2.0.0-scala_2.12-java17"
MAIN = "flink-main-container"

JM = f"{NAME}-jobmanager"
TM = f"{NAME}-taskmanager"
JM_HASH = "7d9f8c6b5"
TM_HASH = "5c6d7e8f9"
JM_POD = f"{JM}-{JM_HASH}-abcde"
TM_PODS = (f"{TM}-{TM_HASH}-fghij", f"{TM}-{TM_HASH}-klmno")
TASKMANAGERS = 2
SLOTS = 4
"""The healthy cluster's plan: 2 TaskManagers with 2 slots each."""

Json = dict[str, Any]

SCHEDULER_MESSAGE = (
    "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: "
    "3 No preemption victims found for incoming pod."
)
"""What the scheduler writes on a pod no node has room for (Kubernetes 1.30)."""


def ts(ago: float = 0.0) -> str:
    """RFC 3339 time ``ago`` seconds before :data:`NOW`, as the API writes it."""
    return (NOW - timedelta(seconds=ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def labels(component: str) -> dict[str, str]:
    """The labels the provider puts on a role's objects and pods."""
    return {
        "app": NAME,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/instance": NAME,
        "app.kubernetes.io/managed-by": "airflow-provider-flink-k8s",
        "app.kubernetes.io/name": "flink",
        "component": component,
    }


def _drop_zeros(status: Json) -> Json:
    return {key: value for key, value in status.items() if value not in (0, None, [])}


def progressing_condition(reason: str, replica_set: str, *, ago: float = 60.0) -> Json:
    """A Deployment's ``Progressing`` condition with the controller's wording."""
    status, message = {
        "NewReplicaSetCreated": ("True", f'Created new replica set "{replica_set}"'),
        "FoundNewReplicaSet": ("True", f'Found new replica set "{replica_set}"'),
        "ReplicaSetUpdated": ("True", f'ReplicaSet "{replica_set}" is progressing.'),
        "NewReplicaSetAvailable": (
            "True",
            f'ReplicaSet "{replica_set}" has successfully progressed.',
        ),
        "ProgressDeadlineExceeded": (
            "False",
            f'ReplicaSet "{replica_set}" has timed out progressing.',
        ),
    }[reason]
    return {
        "type": "Progressing",
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": ts(ago),
        "lastTransitionTime": ts(ago + 30),
    }


def deployment(
    component: str,
    *,
    replicas: int = 1,
    updated: int | None = None,
    ready: int | None = None,
    available: int | None = None,
    status_replicas: int | None = None,
    generation: int = 1,
    observed: int = 1,
    progressing: str | None = "NewReplicaSetAvailable",
    progress_ago: float = 60.0,
    replica_failure: str | None = None,
    deleting: bool = False,
    template_hash: str | None = None,
) -> Json:
    """A Deployment of one role; counts default to a completed rollout of ``replicas``."""
    name = JM if component == "jobmanager" else TM
    template_hash = template_hash or (JM_HASH if component == "jobmanager" else TM_HASH)
    updated = replicas if updated is None else updated
    ready = updated if ready is None else ready
    available = ready if available is None else available
    conditions: list[Json] = [
        {
            "type": "Available",
            "status": "True" if available >= replicas else "False",
            "reason": "MinimumReplicasAvailable"
            if available >= replicas
            else "MinimumReplicasUnavailable",
            "message": "Deployment has minimum availability."
            if available >= replicas
            else "Deployment does not have minimum availability.",
            "lastUpdateTime": ts(progress_ago),
            "lastTransitionTime": ts(progress_ago),
        }
    ]
    if progressing is not None:
        conditions.append(
            progressing_condition(progressing, f"{name}-{template_hash}", ago=progress_ago)
        )
    if replica_failure is not None:
        conditions.append(
            {
                "type": "ReplicaFailure",
                "status": "True",
                "reason": "FailedCreate",
                "message": replica_failure,
                "lastUpdateTime": ts(progress_ago),
                "lastTransitionTime": ts(progress_ago),
            }
        )
    metadata: Json = {
        "name": name,
        "namespace": NAMESPACE,
        "uid": f"0b7c1d2e-{component[:4]}-4f5a-9b8c-{generation:012d}",
        "resourceVersion": "48213",
        "generation": generation,
        "creationTimestamp": ts(3600),
        "labels": labels(component),
        "annotations": {"deployment.kubernetes.io/revision": str(generation)},
    }
    if deleting:
        metadata["deletionTimestamp"] = ts(5)
        metadata["finalizers"] = ["foregroundDeletion"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": replicas,
            "progressDeadlineSeconds": 600,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app.kubernetes.io/component": component}},
            "strategy": {"type": "Recreate"}
            if component == "jobmanager"
            else {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": labels(component)},
                "spec": {"containers": [{"name": MAIN, "image": IMAGE, "args": [component]}]},
            },
        },
        "status": _drop_zeros(
            {
                "observedGeneration": observed,
                "replicas": replicas if status_replicas is None else status_replicas,
                "updatedReplicas": updated,
                "readyReplicas": ready,
                "availableReplicas": available,
                "unavailableReplicas": max(0, replicas - available),
                "conditions": conditions,
            }
        ),
    }


def terminated(reason: str = "Error", exit_code: int = 1, message: str | None = None) -> Json:
    """A ``terminated`` container state (for ``lastState``)."""
    state: Json = {
        "exitCode": exit_code,
        "reason": reason,
        "startedAt": ts(90),
        "finishedAt": ts(80),
        "containerID": "containerd://4f1e2d3c",
    }
    if message is not None:
        state["message"] = message
    return state


def running(name: str = MAIN, *, ready: bool = True, restarts: int = 0, ago: float = 120) -> Json:
    """A running container's status."""
    status: Json = {
        "name": name,
        "image": IMAGE,
        "imageID": f"docker.io/library/{IMAGE}@sha256:9f8e7d",
        "containerID": "containerd://8a7b6c5d",
        "ready": ready,
        "started": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ts(ago)}},
    }
    if restarts:
        status["lastState"] = {"terminated": terminated()}
    return status


def waiting(
    reason: str,
    message: str | None = None,
    *,
    name: str = MAIN,
    restarts: int = 0,
    last: Json | None = None,
    image: str = IMAGE,
) -> Json:
    """A waiting container's status (``lastState.terminated`` = ``last``)."""
    state: Json = {"reason": reason}
    if message is not None:
        state["message"] = message
    status: Json = {
        "name": name,
        "image": image,
        "imageID": "",
        "ready": False,
        "started": False,
        "restartCount": restarts,
        "state": {"waiting": state},
        "lastState": {"terminated": last} if last is not None else {},
    }
    return status


def pod_condition(kind: str, status: str = "True", *, ago: float = 100, **extra: str) -> Json:
    """A pod condition."""
    return {
        "type": kind,
        "status": status,
        "lastProbeTime": None,
        "lastTransitionTime": ts(ago),
        **extra,
    }


def pod(
    component: str,
    name: str | None = None,
    *,
    phase: str = "Running",
    containers: list[Json] | None = None,
    init_containers: list[Json] | None = None,
    ready: bool | None = None,
    unschedulable: str | None = None,
    unschedulable_ago: float = 30,
    created_ago: float = 150,
    deleting: bool = False,
    nominated_node: str | None = None,
    template_hash: str | None = None,
) -> Json:
    """A pod of one role; a running, ready Flink container by default."""
    template_hash = template_hash or (JM_HASH if component == "jobmanager" else TM_HASH)
    name = name or (JM_POD if component == "jobmanager" else TM_PODS[0])
    owner = f"{JM if component == 'jobmanager' else TM}-{template_hash}"
    metadata: Json = {
        "name": name,
        "generateName": f"{owner}-",
        "namespace": NAMESPACE,
        "uid": f"5e6f7a8b-{name[-5:]}",
        "creationTimestamp": ts(created_ago),
        "labels": {**labels(component), "pod-template-hash": template_hash},
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": owner,
                "uid": f"3c4d5e6f-{template_hash}",
                "controller": True,
            }
        ],
    }
    if deleting:
        metadata["deletionTimestamp"] = ts(1)
    status: Json = {"phase": phase, "qosClass": "Guaranteed"}
    if unschedulable is not None:
        status["phase"] = "Pending"
        status["conditions"] = [
            pod_condition(
                "PodScheduled",
                "False",
                ago=unschedulable_ago,
                reason="Unschedulable",
                message=unschedulable,
            )
        ]
        if nominated_node:
            status["nominatedNodeName"] = nominated_node
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": metadata,
            "spec": {},
            "status": status,
        }
    containers = [running()] if containers is None else containers
    is_ready = all(c.get("ready") for c in containers) if ready is None else ready
    readiness = "True" if is_ready else "False"
    not_ready = (
        {}
        if is_ready
        else {
            "reason": "ContainersNotReady",
            "message": f"containers with unready status: [{MAIN}]",
        }
    )
    status["conditions"] = [
        pod_condition("PodReadyToStartContainers", ago=140),
        pod_condition("Initialized", ago=140),
        pod_condition("Ready", readiness, ago=100, **not_ready),
        pod_condition("ContainersReady", readiness, ago=100, **not_ready),
        pod_condition("PodScheduled", ago=145),
    ]
    status["hostIP"] = "10.0.3.17"
    status["podIP"] = "10.244.1.23"
    status["startTime"] = ts(145)
    status["containerStatuses"] = containers
    if init_containers:
        status["initContainerStatuses"] = init_containers
    spec = {"nodeName": "worker-2", "containers": [{"name": MAIN, "image": IMAGE}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def event(
    object_name: str,
    reason: str,
    message: str,
    *,
    type: str = "Warning",
    kind: str = "Pod",
    ago: float = 10,
    source: str = "kubelet",
    count: int = 1,
) -> Json:
    """A ``v1`` Event about one object."""
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{object_name}.17f3a2b1c0d9e8f7", "namespace": NAMESPACE},
        "involvedObject": {"kind": kind, "name": object_name, "namespace": NAMESPACE},
        "reason": reason,
        "message": message,
        "type": type,
        "source": {"component": source},
        "count": count,
        "firstTimestamp": ts(ago + 60),
        "lastTimestamp": ts(ago),
        "eventTime": None,
    }


def overview(
    taskmanagers: int = TASKMANAGERS, slots_total: int = SLOTS, slots_available: int = SLOTS
) -> Json:
    """The body of ``GET /overview``."""
    return {
        "taskmanagers": taskmanagers,
        "taskmanagers-blocked": 0,
        "slots-total": slots_total,
        "slots-available": slots_available,
        "slots-free-and-blocked": 0,
        "jobs-running": 0,
        "jobs-finished": 0,
        "jobs-cancelled": 0,
        "jobs-failed": 0,
        "flink-version": "2.0.0",
        "flink-commit": "2ac4b9b",
    }


JOB_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"

ROOT_EXCEPTION = "\n".join(
    [
        "org.apache.flink.runtime.JobException: Recovery is suppressed by "
        "NoRestartBackoffTimeStrategy",
        "\tat org.apache.flink.runtime.executiongraph.failover.ExecutionFailureHandler"
        ".handleFailure(ExecutionFailureHandler.java:219)",
        "\tat org.apache.flink.runtime.scheduler.DefaultScheduler.recordTaskFailure"
        "(DefaultScheduler.java:286)",
        "\t... 42 more",
        "Caused by: java.lang.ArithmeticException: / by zero",
        "\tat com.example.clickstream.Sessionize.map(Sessionize.java:31)",
        "\t... 12 more",
        "",
    ]
)


def job(
    state: str, jid: str = JOB_ID, *, start: int = 1746100000000, name: str = "clickstream"
) -> Json:
    """One entry of ``GET /jobs/overview``."""
    ended = state in ("FAILED", "CANCELED", "FINISHED")
    return {
        "jid": jid,
        "name": name,
        "state": state,
        "start-time": start,
        "end-time": start + 60000 if ended else -1,
        "duration": 60000,
        "last-modification": start + 60000,
        "tasks": {"running": 0 if ended else 4, "failed": 1 if state == "FAILED" else 0},
    }


def job_exceptions(root: str = ROOT_EXCEPTION, *, legacy: bool = False) -> Json:
    """The body of ``GET /jobs/:jobid/exceptions``: Flink 2's history, or 1.x's root field."""
    history = {
        "entries": [
            {
                "exceptionName": "org.apache.flink.runtime.JobException",
                "stacktrace": root,
                "timestamp": 1746100060000,
                "taskName": "Sessionize (1/4)",
                "failureLabels": {},
                "concurrentExceptions": [],
            }
        ],
        "truncated": False,
    }
    if legacy:
        return {
            "root-exception": root,
            "timestamp": 1746100060000,
            "all-exceptions": [],
            "truncated": False,
            "exceptionHistory": history,
        }
    return {"exceptionHistory": history}


def operator_error_json(
    message: str, *, reason: str | None = None, exception: str | None = None
) -> str:
    """A FlinkDeployment ``status.error`` as the operator serializes it."""
    error: Json = {
        "type": exception
        or "org.apache.flink.kubernetes.operator.exception.DeploymentFailedException",
        "message": message,
        "throwableList": [],
    }
    if reason is not None:
        error["additionalMetadata"] = {"reason": reason}
    return json.dumps(error)


def flink_deployment(
    status: Json | None = None, *, generation: int = 1, deleting: bool = False
) -> Json:
    """A FlinkDeployment with ``status`` (the operator's camelCase status)."""
    metadata: Json = {
        "name": NAME,
        "namespace": NAMESPACE,
        "generation": generation,
        "uid": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "finalizers": ["flinkdeployments.flink.apache.org/finalizer"],
    }
    if deleting:
        metadata["deletionTimestamp"] = ts(3)
    full_status = {
        "reconciliationStatus": {
            "lastReconciledSpec": '{"spec":{"job":{"state":"running"}},"resource_metadata":{}}',
            "reconciliationTimestamp": 1746100000000,
            "state": "DEPLOYED",
        },
        "clusterInfo": {"flink-version": "2.0.0"},
        **(status or {}),
    }
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": metadata,
        "spec": {"flinkVersion": "v2_0", "image": IMAGE},
        "status": full_status,
    }


def healthy(**overrides: Any) -> Json:
    """``ClusterSnapshot.from_k8s`` kwargs of a healthy cluster (``overrides`` replace keys)."""
    kwargs: Json = {
        "name": NAME,
        "jobmanager_deployment": deployment("jobmanager"),
        "taskmanager_deployment": deployment("taskmanager", replicas=TASKMANAGERS),
        "pods": [
            pod("jobmanager"),
            pod("taskmanager", TM_PODS[0]),
            pod("taskmanager", TM_PODS[1]),
        ],
        "events": [],
        "overview": overview(),
    }
    kwargs.update(overrides)
    return copy.deepcopy(kwargs)


def snapshot(**overrides: Any) -> ClusterSnapshot:
    """The healthy cluster's snapshot with ``overrides``."""
    return ClusterSnapshot.from_k8s(**healthy(**overrides))


def with_taskmanager(tm_pod: Json, index: int = 0) -> list[Json]:
    """The healthy pods with TaskManager ``index`` replaced by ``tm_pod``."""
    pods: list[Json] = healthy()["pods"]
    pods[1 + index] = tm_pod
    return pods


def with_jobmanager(jm_pod: Json) -> list[Json]:
    """The healthy pods with the JobManager replaced by ``jm_pod``."""
    pods: list[Json] = healthy()["pods"]
    pods[0] = jm_pod
    return pods
