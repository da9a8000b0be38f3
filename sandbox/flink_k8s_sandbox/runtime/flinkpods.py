"""What the ``local`` runtime reads of a Flink container: image, configuration, addresses.

Pure functions over a :class:`~.base.ContainerSpec` and a :class:`~.base.ClusterView`:

- :func:`is_flink_image`: whether an image runs Flink (``flink:*``, ``*/flink:*`` or a
  pattern of the runtime's ``flink_images`` setting);
- :func:`read_pod_configuration`: the ConfigMap-mounted ``/opt/flink/conf/config.yaml``
  (or a legacy ``flink-conf.yaml``) as Flink's key -> value map, the other files of
  ``conf/``, and every file mounted elsewhere; then the official image's entrypoint
  variables: ``JOB_MANAGER_RPC_ADDRESS`` and ``TASK_MANAGER_NUMBER_OF_TASK_SLOTS`` fill
  ``jobmanager.rpc.address`` and ``taskmanager.numberOfTaskSlots`` when the file does not
  set them (``FLINK_PROPERTIES`` is applied by :func:`..flink.plan_launch`);
- :func:`resolve_address`: ``host:port`` as a pod would reach it -- a Service name (``x``,
  ``x.ns``, ``x.ns.svc[.cluster.local]``) through its Endpoints' addresses (ready first), or a
  pod IP -- to the 127.0.0.1 address really serving it, as kube-proxy and the cluster DNS
  would route a connection.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flink_k8s_sandbox.flink import IMAGE_FLINK_HOME, parse_config_yaml
from flink_k8s_sandbox.runtime.base import ClusterView, image_reference

__all__ = [
    "CONF_DIR",
    "FLINK_IMAGES",
    "PodConfiguration",
    "is_flink_image",
    "read_pod_configuration",
    "resolve_address",
    "service_name",
]

FLINK_IMAGES: tuple[str, ...] = ("flink", "flink:*", "flink@*", "*/flink", "*/flink:*", "*/flink@*")
"""Image patterns (``fnmatch``) that run Flink, matched against the image as written and
as containerd names it (``docker.io/library/flink:2.3``)."""

CONF_DIR = f"{IMAGE_FLINK_HOME}/conf"
_CONFIG_FILES = ("config.yaml", "flink-conf.yaml")
_ENTRYPOINT_VARIABLES = {
    "JOB_MANAGER_RPC_ADDRESS": "jobmanager.rpc.address",
    "TASK_MANAGER_NUMBER_OF_TASK_SLOTS": "taskmanager.numberOfTaskSlots",
}
_CLUSTER_DOMAIN = ".svc.cluster.local"


def is_flink_image(image: str, patterns: Iterable[str] = FLINK_IMAGES) -> bool:
    """Whether ``image`` matches one of ``patterns`` (as written or fully qualified)."""
    names = (image, image_reference(image))
    return any(fnmatch.fnmatchcase(name, pattern) for name in names for pattern in patterns)


@dataclass(frozen=True)
class PodConfiguration:
    """A Flink container's configuration as its mounts give it.

    :param configuration: ``config.yaml`` as a flat key -> value map.
    :param conf_files: the other files of ``/opt/flink/conf`` by name (log4j...).
    :param other_files: container path -> content of files mounted outside ``conf/``.
    """

    configuration: dict[str, str]
    conf_files: dict[str, str] = field(default_factory=dict)
    other_files: dict[str, bytes] = field(default_factory=dict)


def _text(content: bytes | str) -> str:
    return content.decode("utf-8") if isinstance(content, bytes) else content


def read_pod_configuration(
    files: Mapping[str, bytes | str], env: Mapping[str, str]
) -> PodConfiguration:
    """Split a container's mounted files and read its Flink configuration.

    :raises ValueError: when ``config.yaml`` is not a YAML mapping.
    """
    conf: dict[str, str] = {}
    other: dict[str, bytes] = {}
    for path, content in files.items():
        directory, _, name = path.rpartition("/")
        if directory == CONF_DIR:
            conf[name] = _text(content)
        else:
            other[path] = content.encode() if isinstance(content, str) else content
    config_name = next((name for name in _CONFIG_FILES if name in conf), None)
    configuration = parse_config_yaml(conf.pop(config_name)) if config_name else {}
    for variable, key in _ENTRYPOINT_VARIABLES.items():
        if env.get(variable) and key not in configuration:
            configuration[key] = env[variable]
    return PodConfiguration(configuration, conf, other)


def service_name(host: str, namespace: str) -> tuple[str, str] | None:
    """``(namespace, service)`` a DNS name stands for in ``namespace``; ``None`` for an
    IP literal, ``localhost`` or a name outside the cluster domain."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    name = host.rstrip(".").lower()
    if name == "localhost":
        return None
    name = name.removesuffix(_CLUSTER_DOMAIN).removesuffix(".svc")
    parts = name.split(".")
    if len(parts) == 1:
        return namespace, parts[0]
    if len(parts) == 2:
        return parts[1], parts[0]
    return None


def _service_port_name(service: Mapping[str, Any], port: int) -> str | None:
    for declared in service.get("spec", {}).get("ports") or []:
        if declared.get("port") == port:
            return str(declared.get("name", ""))
    return None


def resolve_address(
    cluster: ClusterView, namespace: str, host: str, port: int
) -> tuple[str, int] | None:
    """The ``(host, port)`` on this machine that ``host:port`` reaches from a pod.

    :param namespace: the pod's namespace (for short Service names).
    :return: ``None`` while nothing serves it (no Service, no endpoint, or the
        endpoint's process has not exposed the port yet).
    """
    target = service_name(host, namespace)
    if target is None:
        if host in ("localhost", "127.0.0.1"):
            return host, port
        return cluster.resolve(host, port)
    service_namespace, name = target
    service = cluster.lookup("services", service_namespace, name)
    if service is None:
        return None
    port_name = _service_port_name(service, port)
    if port_name is None:
        return None
    endpoints = cluster.lookup("endpoints", service_namespace, name) or {}
    for subset in endpoints.get("subsets") or []:
        for endpoint_port in subset.get("ports") or []:
            if endpoint_port.get("name", "") != port_name:
                continue
            # Ready endpoints first; then pods that are not Ready yet. A real pod reaches
            # the Service's clusterIP at once and Flink retries until the JobManager is
            # routed to; here the process needs the address before it starts, so waiting
            # for readiness would serialise every TaskManager's JVM start behind it.
            candidates = [
                *(subset.get("addresses") or []),
                *(subset.get("notReadyAddresses") or []),
            ]
            for address in candidates:
                found = cluster.resolve(str(address.get("ip", "")), int(endpoint_port["port"]))
                if found is not None:
                    return found
    return None
