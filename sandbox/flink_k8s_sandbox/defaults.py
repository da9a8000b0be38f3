"""Defaulting and create-time status rules of the built-in kinds (pure, in place).

Only the defaults clients commonly read back are filled: pod and pod-template specs,
Deployment/ReplicaSet rollout settings, Service ports, Secret type, Namespace
finalizers and phase. ``prepare_for_create`` additionally resets what a create may not
set (Deployment status, a CR's status when it has a status subresource).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flink_k8s_sandbox.resources import ResourceType

__all__ = ["apply_defaults", "prepare_for_create"]

Obj = dict[str, Any]


def _container(container: Obj) -> None:
    image = str(container.get("image", ""))
    tag = image.rsplit("/", 1)[-1]
    latest = "@" not in tag and (":" not in tag or tag.endswith(":latest"))
    container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def _pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                _container(container)


def _template(workload: Obj) -> None:
    template = workload.get("spec", {}).get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        _pod_spec(template["spec"])


def _deployment(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template(obj)


def _replica_set(obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("replicas", 1)
    _template(obj)


def _pod(obj: Obj) -> None:
    _pod_spec(obj.setdefault("spec", {}))


def _service(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if "port" in port:
                port.setdefault("targetPort", port["port"])


def _secret(obj: Obj) -> None:
    obj.setdefault("type", "Opaque")


def _namespace(obj: Obj) -> None:
    name = obj.get("metadata", {}).get("name", "")
    obj.setdefault("metadata", {}).setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


_DEFAULTERS: dict[tuple[str, str], Callable[[Obj], None]] = {
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): _replica_set,
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "Secret"): _secret,
    ("", "Namespace"): _namespace,
}


def apply_defaults(resource_type: ResourceType, obj: Obj) -> None:
    """Fill the defaults of a built-in kind into ``obj`` (custom resources: none)."""
    defaulter = _DEFAULTERS.get((resource_type.group, resource_type.kind))
    if defaulter is not None and not resource_type.custom:
        defaulter(obj)


def _guaranteed(resources: Obj) -> bool:
    limits = resources.get("limits") or {}
    requests = resources.get("requests") or {}
    return all(k in limits and requests.get(k, limits[k]) == limits[k] for k in ("cpu", "memory"))


def _qos_class(spec: Obj) -> str:
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    return "Guaranteed" if all(_guaranteed(r) for r in resources) else "Burstable"


def prepare_for_create(resource_type: ResourceType, obj: Obj) -> None:
    """Reset what a create cannot set, as the type's create strategy does."""
    if resource_type.custom:
        if resource_type.has_status:
            obj.pop("status", None)
        return
    kind = resource_type.kind
    if kind == "Deployment":
        obj["status"] = {}
    elif kind == "ReplicaSet":
        obj["status"] = {"replicas": 0}
    elif kind == "Pod":
        obj["status"] = {"phase": "Pending", "qosClass": _qos_class(obj.get("spec", {}))}
    elif kind == "Service":
        obj["status"] = {"loadBalancer": {}}
    elif kind == "CustomResourceDefinition":
        versions = obj.get("spec", {}).get("versions") or []
        stored = [v.get("name") for v in versions if isinstance(v, dict) and v.get("storage")]
        obj["status"] = {
            "acceptedNames": {"kind": "", "plural": ""},
            "storedVersions": stored,
        }
