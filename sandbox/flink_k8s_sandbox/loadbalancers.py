"""A stand-in cloud controller: LoadBalancer Services get an ingress address.

Shortly after a Service becomes ``type: LoadBalancer`` (``delay`` seconds, like a cloud
provisioning one) its ``status.loadBalancer.ingress`` is set to
``[{"ip": "127.0.0.1", "ipMode": "VIP"}]`` through the ``status`` subresource; until
then it is empty (pending), as on a real cluster. A Service that stops being a
LoadBalancer has its ingress cleared.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flink_k8s_sandbox.errors import ApiError
from flink_k8s_sandbox.resources import ResourceRegistry, TypeKey
from flink_k8s_sandbox.storage import Storage, WriteOptions
from flink_k8s_sandbox.store import StoreEvent

__all__ = ["LoadBalancerController"]

Obj = dict[str, Any]
_LOG = logging.getLogger(__name__)
_SERVICES: TypeKey = ("", "services")
_OPTS = WriteOptions(field_manager="service-controller")

CallLater = Callable[[float, Callable[[], None]], Any]


class LoadBalancerController:
    """Fills (and clears) ``status.loadBalancer.ingress`` of Services.

    :param call_later: ``loop.call_later``-like scheduler.
    :param delay: seconds before an ingress appears.
    :param address: the ingress IP.
    """

    def __init__(
        self,
        storage: Storage,
        registry: ResourceRegistry,
        call_later: CallLater,
        delay: float = 0.2,
        address: str = "127.0.0.1",
    ) -> None:
        self.storage = storage
        self.registry = registry
        self.call_later = call_later
        self.delay = delay
        self.address = address
        self._pending: set[tuple[str, str]] = set()

    def handle(self, event: StoreEvent) -> None:
        if event.key != _SERVICES or event.type == "DELETED":
            return
        service = event.obj
        ingress = service.get("status", {}).get("loadBalancer", {}).get("ingress")
        wants = service.get("spec", {}).get("type") == "LoadBalancer"
        key = (service["metadata"].get("namespace", ""), service["metadata"]["name"])
        if wants and not ingress and key not in self._pending:
            self._pending.add(key)
            self.call_later(self.delay, lambda: self._provision(*key))
        elif not wants and ingress:
            self._write(*key, {})

    def _provision(self, namespace: str, name: str) -> None:
        self._pending.discard((namespace, name))
        service = self.storage.store.get(_SERVICES, namespace, name)
        if service is None or service.get("spec", {}).get("type") != "LoadBalancer":
            return
        self._write(namespace, name, {"ingress": [{"ip": self.address, "ipMode": "VIP"}]})

    def _write(self, namespace: str, name: str, balancer: Obj) -> None:
        rt = self.registry.get("", "v1", "services")
        assert rt is not None

        def mutate(current: Obj | None) -> Obj:
            assert current is not None
            current.setdefault("status", {})["loadBalancer"] = balancer
            return current

        try:
            self.storage.modify(rt, namespace, name, mutate, _OPTS, subresource="status")
        except ApiError as error:
            _LOG.debug("could not update load balancer of %s/%s: %s", namespace, name, error)
