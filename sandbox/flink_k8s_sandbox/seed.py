"""What a fresh sandbox holds: the system namespaces and its nodes.

Objects are created through :class:`~.storage.Storage` like any others, so they have
uids, resourceVersions and managed fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flink_k8s_sandbox.discovery import KUBERNETES_VERSION
from flink_k8s_sandbox.resources import ResourceRegistry
from flink_k8s_sandbox.storage import Storage, WriteOptions

__all__ = ["SYSTEM_NAMESPACES", "NodeShape", "node_object", "node_status", "seed"]

Obj = dict[str, Any]
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
_OPTS = WriteOptions(field_manager="kube-apiserver")
_PRESSURES = (
    ("MemoryPressure", "SufficientMemory", "sufficient memory available"),
    ("DiskPressure", "NoDiskPressure", "no disk pressure"),
    ("PIDPressure", "SufficientPID", "sufficient PID available"),
)


@dataclass(frozen=True)
class NodeShape:
    """How many nodes, and what each offers (Kubernetes quantities)."""

    count: int = 3
    cpu: str = "4"
    memory: str = "16Gi"
    pods: str = "110"


def node_object(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": "sandbox",
            },
        },
        "spec": {},
    }


def node_status(name: str, shape: NodeShape, now: str) -> Obj:
    """A Ready node's status offering ``shape``'s capacity."""
    capacity = {"cpu": shape.cpu, "memory": shape.memory, "pods": shape.pods}
    major, minor, patch = KUBERNETES_VERSION
    return {
        "capacity": capacity,
        "allocatable": dict(capacity),
        "conditions": [
            *(
                {
                    "type": kind,
                    "status": "False",
                    "reason": f"KubeletHas{reason}",
                    "message": f"kubelet has {message}",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
                for kind, reason, message in _PRESSURES
            ),
            {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            },
        ],
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "nodeInfo": {
            "machineID": name,
            "systemUUID": name,
            "bootID": name,
            "kernelVersion": "sandbox",
            "osImage": "flink-k8s-sandbox",
            "containerRuntimeVersion": "sandbox://simulated",
            "kubeletVersion": f"v{major}.{minor}.{patch}",
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
    }


def seed(storage: Storage, registry: ResourceRegistry, nodes: NodeShape, now: str) -> None:
    """Create the system namespaces and ``nodes.count`` Ready nodes."""
    namespaces = registry.get("", "v1", "namespaces")
    node_type = registry.get("", "v1", "nodes")
    assert namespaces is not None and node_type is not None
    for name in SYSTEM_NAMESPACES:
        storage.create(namespaces, "", {"metadata": {"name": name}}, _OPTS)
    for index in range(1, nodes.count + 1):
        name = f"sandbox-node-{index}"
        storage.create(node_type, "", node_object(name), _OPTS)
        status = {**node_object(name), "status": node_status(name, nodes, now)}
        storage.replace(node_type, "", name, status, _OPTS, subresource="status")
