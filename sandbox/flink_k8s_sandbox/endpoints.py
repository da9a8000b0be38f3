"""The endpoints controller: a Service's Endpoints follow the pods its selector picks.

For every Service with a ``selector`` (and not ExternalName) the controller keeps an
``Endpoints`` object of the same name: pods with an IP that are not terminating and
not finished are listed, under ``addresses`` when their ``Ready`` condition is True
(or the Service sets ``publishNotReadyAddresses``), else under ``notReadyAddresses``.
Each service port maps to the pod's port: ``targetPort`` as a number, or as the name of
a container port (a pod without that named port is left out of that port). Addresses
with the same port set share one subset, as ``RepackSubsets`` does. Services without a
selector keep whatever Endpoints clients write; deleting a Service deletes its Endpoints.

:func:`endpoint_subsets` is the pure part. EndpointSlices are not served.
"""

from __future__ import annotations

import logging
from typing import Any

from flink_k8s_sandbox.deletion import DeleteOptions, delete_object
from flink_k8s_sandbox.errors import ApiError
from flink_k8s_sandbox.resources import ResourceRegistry, ResourceType, TypeKey
from flink_k8s_sandbox.storage import Storage, WriteOptions
from flink_k8s_sandbox.store import StoreEvent

__all__ = ["EndpointsController", "endpoint_subsets", "pod_ready", "resolve_target_port"]

Obj = dict[str, Any]
_LOG = logging.getLogger(__name__)
_SERVICES: TypeKey = ("", "services")
_PODS: TypeKey = ("", "pods")
_ENDPOINTS: TypeKey = ("", "endpoints")
_OPTS = WriteOptions(field_manager="endpoint-controller")
_HEADLESS_LABEL = "service.kubernetes.io/headless"


def pod_ready(pod: Obj) -> bool:
    """Whether the pod's ``Ready`` condition is True."""
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def resolve_target_port(pod: Obj, service_port: Obj) -> int | None:
    """The pod port a service port reaches (``FindPort``); ``None`` if the pod lacks it."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol", "TCP")
    for container in pod.get("spec", {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                return int(port["containerPort"])
    return None


def _selected(service: Obj, pod: Obj) -> bool:
    selector = service.get("spec", {}).get("selector") or {}
    labels = pod.get("metadata", {}).get("labels") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _address(pod: Obj) -> Obj:
    metadata = pod["metadata"]
    address: Obj = {"ip": pod["status"]["podIP"]}
    node = pod.get("spec", {}).get("nodeName")
    if node:
        address["nodeName"] = node
    address["targetRef"] = {
        "kind": "Pod",
        "namespace": metadata.get("namespace", ""),
        "name": metadata["name"],
        "uid": metadata.get("uid", ""),
    }
    return address


def _endpoint_port(service_port: Obj, number: int) -> Obj:
    port: Obj = {}
    if service_port.get("name"):
        port["name"] = service_port["name"]
    port["port"] = number
    port["protocol"] = service_port.get("protocol", "TCP")
    if service_port.get("appProtocol"):
        port["appProtocol"] = service_port["appProtocol"]
    return port


def _listed(pod: Obj) -> bool:
    status = pod.get("status", {})
    return (
        bool(status.get("podIP"))
        and not pod["metadata"].get("deletionTimestamp")
        and status.get("phase") not in ("Succeeded", "Failed")
    )


def _pod_ports(service: Obj, pod: Obj) -> tuple[tuple[Any, ...], ...] | None:
    spec = service.get("spec", {})
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    if not ports:
        return () if spec.get("clusterIP") == "None" else None
    found = []
    for service_port in ports:
        number = resolve_target_port(pod, service_port)
        if number is not None:
            found.append(tuple(sorted(_endpoint_port(service_port, number).items())))
    return tuple(found) or None


def endpoint_subsets(service: Obj, pods: list[Obj]) -> list[Obj]:
    """The ``subsets`` of a Service's Endpoints for the given pods (pure)."""
    publish_all = bool(service.get("spec", {}).get("publishNotReadyAddresses"))
    groups: dict[tuple[Any, ...], dict[str, list[Obj]]] = {}
    for pod in pods:
        if not _selected(service, pod) or not _listed(pod):
            continue
        ports = _pod_ports(service, pod)
        if ports is None:
            continue
        bucket = "addresses" if publish_all or pod_ready(pod) else "notReadyAddresses"
        groups.setdefault(ports, {}).setdefault(bucket, []).append(_address(pod))
    subsets = []
    for ports, buckets in sorted(groups.items(), key=lambda item: repr(item[0])):
        subset: Obj = {}
        for bucket in ("addresses", "notReadyAddresses"):
            if buckets.get(bucket):
                subset[bucket] = sorted(buckets[bucket], key=lambda a: a["ip"])
        if ports:
            subset["ports"] = [dict(port) for port in ports]
        subsets.append(subset)
    return subsets


class EndpointsController:
    """Keeps the Endpoints of selector Services in step with their pods."""

    def __init__(self, storage: Storage, registry: ResourceRegistry) -> None:
        self.storage = storage
        self.registry = registry

    def handle(self, event: StoreEvent) -> None:
        namespace = event.obj["metadata"].get("namespace", "")
        if event.key == _SERVICES:
            name = event.obj["metadata"]["name"]
            if event.type == "DELETED":
                self._delete(namespace, name)
            else:
                self._sync(namespace, name)
        elif event.key == _PODS:
            for service in self.storage.store.objects(_SERVICES, namespace):
                if _selected(service, event.obj) or (
                    event.old is not None and _selected(service, event.old)
                ):
                    self._sync(namespace, service["metadata"]["name"])
        elif event.key == _ENDPOINTS and event.type != "ADDED":
            self._sync(namespace, event.obj["metadata"]["name"])

    def _types(self) -> tuple[ResourceType, ResourceType]:
        endpoints = self.registry.get("", "v1", "endpoints")
        pods = self.registry.get("", "v1", "pods")
        assert endpoints is not None and pods is not None
        return endpoints, pods

    def _sync(self, namespace: str, name: str) -> None:
        service = self.storage.store.get(_SERVICES, namespace, name)
        spec = (service or {}).get("spec", {})
        if service is None or not spec.get("selector") or spec.get("type") == "ExternalName":
            return
        if service["metadata"].get("deletionTimestamp"):
            return
        endpoints_type, _ = self._types()
        desired = self._desired(service)
        current = self.storage.store.get(_ENDPOINTS, namespace, name)
        if current is not None and _same(current, desired):
            return
        try:
            if current is None:
                self.storage.create(endpoints_type, namespace, desired, _OPTS)
            else:
                self.storage.modify(
                    endpoints_type, namespace, name, lambda obj: _merged(obj, desired), _OPTS
                )
        except ApiError as error:
            _LOG.debug("could not write endpoints %s/%s: %s", namespace, name, error)

    def _desired(self, service: Obj) -> Obj:
        metadata = service["metadata"]
        pods = self.storage.store.objects(_PODS, metadata.get("namespace", ""))
        labels = dict(metadata.get("labels") or {})
        if service.get("spec", {}).get("clusterIP") == "None":
            labels[_HEADLESS_LABEL] = ""
        desired: Obj = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": metadata["name"], "namespace": metadata.get("namespace", "")},
        }
        if labels:
            desired["metadata"]["labels"] = labels
        subsets = endpoint_subsets(service, pods)
        if subsets:
            desired["subsets"] = subsets
        return desired

    def _delete(self, namespace: str, name: str) -> None:
        if self.storage.store.get(_ENDPOINTS, namespace, name) is None:
            return
        endpoints_type, _ = self._types()
        try:
            delete_object(self.storage, endpoints_type, namespace, name, DeleteOptions())
        except ApiError as error:
            _LOG.debug("could not delete endpoints %s/%s: %s", namespace, name, error)


def _same(current: Obj, desired: Obj) -> bool:
    labels = current["metadata"].get("labels") or {}
    return current.get("subsets") == desired.get("subsets") and labels == (
        desired["metadata"].get("labels") or {}
    )


def _merged(current: Obj | None, desired: Obj) -> Obj:
    assert current is not None
    current["metadata"]["labels"] = desired["metadata"].get("labels") or {}
    if not current["metadata"]["labels"]:
        current["metadata"].pop("labels")
    current.pop("subsets", None)
    if desired.get("subsets"):
        current["subsets"] = desired["subsets"]
    return current
