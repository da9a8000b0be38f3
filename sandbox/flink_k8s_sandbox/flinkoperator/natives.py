"""The native Kubernetes objects Flink's native mode creates for a FlinkDeployment (pure).

As ``flink-kubernetes`` (``KubernetesJobManagerFactory``, ``KubernetesTaskManagerFactory``)
lays them out, reduced to what clients look at:

- ConfigMap ``flink-config-<name>`` (``config.yaml``, ``log4j-console.properties``);
- JobManager Deployment ``<name>`` (labels ``app``, ``component=jobmanager``,
  ``type=flink-native-kubernetes``; ``Recreate``), owned by the FlinkDeployment;
- Services ``<name>`` (headless, RPC and blob ports) and ``<name>-rest`` (``rest`` 8081);
- TaskManager pods ``<name>-taskmanager-<attempt>-<n>`` (``component=taskmanager``),
  owned by the JobManager Deployment, as the JobManager's resource manager makes them.

The containers are ``flink-main-container`` with native mode's arguments (``bash -c
kubernetes-jobmanager.sh ...``). The ``local`` runtime runs only the standalone image
arguments (``jobmanager``, ``taskmanager``, ``standalone-job``) as real Flink, so these
pods are simulated by both runtimes: the stand-in operator never starts a JVM.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from flink_k8s_sandbox.flinkoperator.status import (
    flink_configuration,
    slots_per_taskmanager,
)

__all__ = [
    "MAIN_CONTAINER",
    "NATIVE_TYPE",
    "config_map",
    "jobmanager_deployment",
    "jobmanager_labels",
    "pod_ready",
    "rest_service",
    "rpc_service",
    "taskmanager_index",
    "taskmanager_labels",
    "taskmanager_pod",
]

Obj = dict[str, Any]
MAIN_CONTAINER = "flink-main-container"
NATIVE_TYPE = "flink-native-kubernetes"
_CONF_DIR = "/opt/flink/conf"
_CONF_VOLUME = "flink-config-volume"
_LOG4J = (
    "rootLogger.level = INFO\n"
    "rootLogger.appenderRef.console.ref = ConsoleAppender\n"
    "appender.console.name = ConsoleAppender\n"
    "appender.console.type = CONSOLE\n"
    "appender.console.layout.type = PatternLayout\n"
    "appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n\n"
)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def jobmanager_labels(name: str) -> dict[str, str]:
    return {"app": name, "component": "jobmanager", "type": NATIVE_TYPE}


def taskmanager_labels(name: str) -> dict[str, str]:
    return {"app": name, "component": "taskmanager", "type": NATIVE_TYPE}


def _owner(owner: Mapping[str, Any]) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _resources(role: Mapping[str, Any]) -> Obj:
    """Container resources: ``resources`` as given, else ``resource`` as requests = limits
    (memory in Flink's syntax becomes mebibytes, as ``FlinkConfigBuilder`` sizes it)."""
    if _mapping(role.get("resources")):
        return copy.deepcopy(dict(_mapping(role.get("resources"))))
    resource = _mapping(role.get("resource"))
    amounts: Obj = {}
    if resource.get("cpu") is not None:
        amounts["cpu"] = str(resource["cpu"])
    memory = str(resource.get("memory") or "")
    if memory:
        amounts["memory"] = _quantity(memory)
    return {"requests": dict(amounts), "limits": dict(amounts)} if amounts else {}


def _quantity(memory: str) -> str:
    text = memory.strip()
    for suffix, unit in (("mb", "Mi"), ("m", "Mi"), ("gb", "Gi"), ("g", "Gi"), ("kb", "Ki")):
        if text.lower().endswith(suffix) and text[: -len(suffix)].replace(".", "").isdigit():
            return f"{text[: -len(suffix)]}{unit}"
    return text


def _pod_template(spec: Mapping[str, Any], role: str) -> Obj:
    """The common pod template with the role's laid over it (metadata merged, the role's
    spec fields winning), as the operator merges ``podTemplate`` blocks."""
    common = copy.deepcopy(dict(_mapping(spec.get("podTemplate"))))
    specific = _mapping(_mapping(spec.get(role)).get("podTemplate"))
    metadata = dict(_mapping(common.get("metadata")))
    for field in ("labels", "annotations"):
        merged = {
            **_mapping(metadata.get(field)),
            **_mapping(_mapping(specific.get("metadata")).get(field)),
        }
        if merged:
            metadata[field] = merged
    pod_spec = {
        **_mapping(common.get("spec")),
        **copy.deepcopy(dict(_mapping(specific.get("spec")))),
    }
    return {"metadata": metadata, "spec": pod_spec}


def _pod(
    spec: Mapping[str, Any],
    role: str,
    labels: Mapping[str, str],
    args: list[str],
    ports: list[Obj],
    config_map_name: str,
) -> Obj:
    template = _pod_template(spec, role)
    metadata = template["metadata"]
    metadata["labels"] = {**_mapping(metadata.get("labels")), **labels}
    pod_spec = template["spec"]
    containers = [dict(c) for c in pod_spec.get("containers") or [] if isinstance(c, Mapping)]
    main = next((c for c in containers if c.get("name") == MAIN_CONTAINER), None)
    if main is None:
        main = {"name": MAIN_CONTAINER}
        containers.insert(0, main)
    main.update(
        image=spec.get("image") or "flink",
        imagePullPolicy=spec.get("imagePullPolicy") or "IfNotPresent",
        command=["/docker-entrypoint.sh"],
        args=args,
        ports=ports,
        resources=_resources(_mapping(spec.get(role))),
    )
    mounts = [m for m in main.get("volumeMounts") or [] if m.get("name") != _CONF_VOLUME]
    main["volumeMounts"] = [*mounts, {"name": _CONF_VOLUME, "mountPath": _CONF_DIR}]
    pod_spec["containers"] = containers
    volumes = [v for v in pod_spec.get("volumes") or [] if v.get("name") != _CONF_VOLUME]
    pod_spec["volumes"] = [
        *volumes,
        {"name": _CONF_VOLUME, "configMap": {"name": config_map_name}},
    ]
    if spec.get("serviceAccount"):
        pod_spec["serviceAccountName"] = spec["serviceAccount"]
    return template


def config_map(flink_deployment: Mapping[str, Any], owner: Mapping[str, Any]) -> Obj:
    """``flink-config-<name>``: the configuration the JobManager and TaskManagers read.

    :param owner: the JobManager Deployment (the ConfigMap goes with it).
    """
    name = flink_deployment["metadata"]["name"]
    spec = _mapping(flink_deployment.get("spec"))
    conf = flink_configuration(spec)
    conf.setdefault("kubernetes.cluster-id", name)
    conf.setdefault("kubernetes.namespace", flink_deployment["metadata"].get("namespace", ""))
    conf.setdefault(
        "execution.target", "kubernetes-application" if spec.get("job") else "kubernetes-session"
    )
    conf.setdefault("taskmanager.numberOfTaskSlots", str(slots_per_taskmanager(spec)))
    text = "".join(f"{key}: {value}\n" for key, value in sorted(conf.items()))
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"flink-config-{name}",
            "labels": {"app": name, "type": NATIVE_TYPE},
            "ownerReferences": [_owner(owner)],
        },
        "data": {"config.yaml": text, "log4j-console.properties": _LOG4J},
    }


def jobmanager_deployment(flink_deployment: Mapping[str, Any]) -> Obj:
    """The JobManager Deployment ``<name>``, owned by the FlinkDeployment."""
    name = flink_deployment["metadata"]["name"]
    spec = _mapping(flink_deployment.get("spec"))
    entry = "kubernetes-application" if spec.get("job") else "kubernetes-session"
    ports = [
        {"name": "rest", "containerPort": 8081, "protocol": "TCP"},
        {"name": "jobmanager-rpc", "containerPort": 6123, "protocol": "TCP"},
        {"name": "blobserver", "containerPort": 6124, "protocol": "TCP"},
    ]
    args = ["bash", "-c", f"kubernetes-jobmanager.sh {entry}"]
    labels = jobmanager_labels(name)
    template = _pod(spec, "jobManager", labels, args, ports, f"flink-config-{name}")
    replicas = _mapping(spec.get("jobManager")).get("replicas", 1)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "labels": dict(labels),
            "ownerReferences": [_owner(flink_deployment)],
        },
        "spec": {
            "replicas": replicas if isinstance(replicas, int) else 1,
            "selector": {"matchLabels": dict(labels)},
            "strategy": {"type": "Recreate"},
            "template": template,
        },
    }


def rest_service(flink_deployment: Mapping[str, Any], owner: Mapping[str, Any]) -> Obj:
    """``<name>-rest``: the REST endpoint (``kubernetes.rest-service.exposed.type``)."""
    name = flink_deployment["metadata"]["name"]
    conf = flink_configuration(_mapping(flink_deployment.get("spec")))
    kind = conf.get("kubernetes.rest-service.exposed.type", "ClusterIP")
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": f"{name}-rest",
            "labels": {"app": name, "type": NATIVE_TYPE},
            "ownerReferences": [_owner(owner)],
        },
        "spec": {
            "type": kind if kind in ("ClusterIP", "NodePort", "LoadBalancer") else "ClusterIP",
            "selector": jobmanager_labels(name),
            "ports": [{"name": "rest", "port": 8081, "targetPort": 8081, "protocol": "TCP"}],
        },
    }


def rpc_service(flink_deployment: Mapping[str, Any], owner: Mapping[str, Any]) -> Obj:
    """``<name>``: the headless Service TaskManagers reach the JobManager's RPC through."""
    name = flink_deployment["metadata"]["name"]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "labels": {"app": name, "type": NATIVE_TYPE},
            "ownerReferences": [_owner(owner)],
        },
        "spec": {
            "clusterIP": "None",
            "selector": jobmanager_labels(name),
            "ports": [
                {"name": "jobmanager-rpc", "port": 6123, "targetPort": 6123, "protocol": "TCP"},
                {"name": "blobserver", "port": 6124, "targetPort": 6124, "protocol": "TCP"},
            ],
        },
    }


def taskmanager_pod(
    flink_deployment: Mapping[str, Any], owner: Mapping[str, Any], attempt: int, index: int
) -> Obj:
    """TaskManager pod ``<name>-taskmanager-<attempt>-<index>``, owned by the JobManager
    Deployment (so deleting it takes the TaskManagers along)."""
    name = flink_deployment["metadata"]["name"]
    spec = _mapping(flink_deployment.get("spec"))
    pod_name = f"{name}-taskmanager-{attempt}-{index}"
    ports = [{"name": "taskmanager-rpc", "containerPort": 6122, "protocol": "TCP"}]
    args = [
        "bash",
        "-c",
        f"kubernetes-taskmanager.sh -Dtaskmanager.resource-id={pod_name}",
    ]
    template = _pod(
        spec, "taskManager", taskmanager_labels(name), args, ports, f"flink-config-{name}"
    )
    template["metadata"]["name"] = pod_name
    template["metadata"]["ownerReferences"] = [_owner(owner)]
    template["spec"].setdefault("restartPolicy", "Never")
    return {"apiVersion": "v1", "kind": "Pod", **template}


def pod_ready(pod: Mapping[str, Any]) -> bool:
    """Whether a pod's ``Ready`` condition is True."""
    conditions = _mapping(pod.get("status")).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def taskmanager_index(pod: Mapping[str, Any]) -> int:
    """``n`` of a TaskManager pod ``<name>-taskmanager-<attempt>-<n>``."""
    tail = str(pod["metadata"]["name"]).rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0
