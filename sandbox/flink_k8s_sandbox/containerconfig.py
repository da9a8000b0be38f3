"""What a container is started with, resolved from its pod and the objects it refers to.

:func:`container_spec` resolves ``envFrom`` and ``env`` (``value`` with ``$(VAR)``
expansion, ``configMapKeyRef``, ``secretKeyRef``, ``fieldRef``, ``resourceFieldRef``) and
the files of ConfigMap/Secret/projected volume mounts into a
:class:`~.runtime.base.ContainerSpec`; a missing non-optional ConfigMap, Secret or key
raises :class:`ContainerConfigError` with the kubelet's message (``configmap "cfg" not
found``, ``couldn't find key k in ConfigMap ns/cfg``), the ``CreateContainerConfigError``
case. :func:`mount_errors` is the earlier volume check: a pod whose ConfigMap or Secret
volume cannot be set up stays ``ContainerCreating`` with ``FailedMount`` events.
Objects are read through a ``lookup(plural, namespace, name)`` function.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from flink_k8s_sandbox.quantity import QuantityError, parse_quantity
from flink_k8s_sandbox.runtime.base import ContainerSpec, PortSpec

__all__ = ["ContainerConfigError", "Lookup", "container_spec", "expand", "mount_errors"]

Obj = dict[str, Any]
Lookup = Callable[[str, str, str], Obj | None]
_KINDS = {"configmaps": ("configmap", "ConfigMap"), "secrets": ("secret", "Secret")}
_VARIABLE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_FIELD_ITEM = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


class ContainerConfigError(Exception):
    """Raised when a container's configuration cannot be resolved; the message is the
    kubelet's (``CreateContainerConfigError``)."""


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion: defined variables are replaced, ``$$`` is ``$``,
    anything else stays as written."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return _VARIABLE.sub(replace, text)


def _decode(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        return value.encode()


def _data(obj: Obj, plural: str) -> dict[str, bytes]:
    """An object's keys as bytes (a ConfigMap's data and binaryData, a Secret's data)."""
    if plural == "configmaps":
        data = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
        data.update({k: _decode(v) for k, v in (obj.get("binaryData") or {}).items()})
        return data
    data = {k: _decode(v) for k, v in (obj.get("data") or {}).items()}
    data.update({k: str(v).encode() for k, v in (obj.get("stringData") or {}).items()})
    return data


def _source(volume: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The ConfigMap/Secret sources of a volume as ``(plural, source)``."""
    if "configMap" in volume:
        return [("configmaps", volume["configMap"])]
    if "secret" in volume:
        secret = dict(volume["secret"])
        return [("secrets", {**secret, "name": secret.get("secretName", "")})]
    found = []
    for source in (volume.get("projected") or {}).get("sources") or []:
        if "configMap" in source:
            found.append(("configmaps", source["configMap"]))
        elif "secret" in source:
            found.append(("secrets", source["secret"]))
    return found


def _volume_files(
    volume: Mapping[str, Any], namespace: str, lookup: Lookup
) -> tuple[dict[str, bytes] | None, str]:
    """The files a volume holds by relative path (``None``: not a config volume), and
    the mount error when it cannot be set up."""
    sources = _source(volume)
    if not sources:
        return None, ""
    files: dict[str, bytes] = {}
    for plural, source in sources:
        singular, _ = _KINDS[plural]
        obj = lookup(plural, namespace, str(source.get("name", "")))
        optional = bool(source.get("optional"))
        if obj is None:
            if optional:
                continue
            return files, f'{singular} "{source.get("name", "")}" not found'
        data = _data(obj, plural)
        items = source.get("items")
        if not items:
            files.update(data)
            continue
        for item in items:
            key = item.get("key", "")
            if key not in data:
                if optional:
                    continue
                kind = "config" if plural == "configmaps" else "secret"
                return files, f"{singular} references non-existent {kind} key: {key}"
            files[item.get("path") or key] = data[key]
    return files, ""


def mount_errors(pod: Mapping[str, Any], lookup: Lookup) -> list[tuple[str, str]]:
    """``(volume, message)`` for each volume that cannot be set up (``FailedMount``)."""
    namespace = pod["metadata"].get("namespace", "")
    errors = []
    for volume in pod.get("spec", {}).get("volumes") or []:
        _, error = _volume_files(volume, namespace, lookup)
        if error:
            message = f'MountVolume.SetUp failed for volume "{volume.get("name")}" : {error}'
            errors.append((str(volume.get("name")), message))
    return errors


def _mounted_files(
    pod: Mapping[str, Any], container: Mapping[str, Any], lookup: Lookup
) -> dict[str, bytes]:
    namespace = pod["metadata"].get("namespace", "")
    volumes = {v.get("name"): v for v in pod.get("spec", {}).get("volumes") or []}
    files: dict[str, bytes] = {}
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount.get("name"))
        data, _ = _volume_files(volume, namespace, lookup) if volume else (None, "")
        if data is None:
            continue
        path = str(mount.get("mountPath", "")).rstrip("/")
        sub_path = mount.get("subPath")
        if sub_path:
            if sub_path in data:
                files[path] = data[sub_path]
            continue
        for key, content in data.items():
            files[f"{path}/{key}"] = content
    return files


def _key_ref(ref: Mapping[str, Any], plural: str, namespace: str, lookup: Lookup) -> str | None:
    singular, kind = _KINDS[plural]
    name = str(ref.get("name", ""))
    obj = lookup(plural, namespace, name)
    optional = bool(ref.get("optional"))
    if obj is None:
        if optional:
            return None
        raise ContainerConfigError(f'{singular} "{name}" not found')
    data = _data(obj, plural)
    key = str(ref.get("key", ""))
    if key not in data:
        if optional:
            return None
        raise ContainerConfigError(f"couldn't find key {key} in {kind} {namespace}/{name}")
    return data[key].decode("utf-8", "replace")


def _field_ref(pod: Mapping[str, Any], path: str) -> str:
    metadata, spec, status = pod["metadata"], pod.get("spec", {}), pod.get("status", {})
    item = _FIELD_ITEM.match(path)
    if item:
        return str((metadata.get(item.group(1)) or {}).get(item.group(2), ""))
    values = {
        "metadata.name": metadata.get("name"),
        "metadata.namespace": metadata.get("namespace"),
        "metadata.uid": metadata.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.hostIP": status.get("hostIP"),
        "status.podIP": status.get("podIP"),
        "status.hostIPs": ",".join(i.get("ip", "") for i in status.get("hostIPs") or []),
        "status.podIPs": ",".join(i.get("ip", "") for i in status.get("podIPs") or []),
    }
    return str(values.get(path) or "")


def _resource_ref(
    ref: Mapping[str, Any], pod: Mapping[str, Any], container: Mapping[str, Any], node: Obj
) -> str:
    name = ref.get("containerName")
    target = next(
        (c for c in pod.get("spec", {}).get("containers") or [] if c.get("name") == name),
        container,
    )
    section, _, resource = str(ref.get("resource", "")).partition(".")
    value = ((target.get("resources") or {}).get(section) or {}).get(resource)
    if value is None and section == "limits":
        value = node.get(resource)
    try:
        amount = parse_quantity(value or 0) / parse_quantity(ref.get("divisor") or 1)
    except (QuantityError, ArithmeticError):
        return "0"
    return str(math.ceil(amount))


def _environment(
    pod: Mapping[str, Any], container: Mapping[str, Any], lookup: Lookup, node: Obj
) -> dict[str, str]:
    namespace = pod["metadata"].get("namespace", "")
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        plural, ref = (
            ("configmaps", source["configMapRef"])
            if "configMapRef" in source
            else ("secrets", source.get("secretRef") or {})
        )
        obj = lookup(plural, namespace, str(ref.get("name", "")))
        if obj is None:
            if ref.get("optional"):
                continue
            raise ContainerConfigError(f'{_KINDS[plural][0]} "{ref.get("name", "")}" not found')
        for key, value in _data(obj, plural).items():
            env[source.get("prefix", "") + key] = value.decode("utf-8", "replace")
    for var in container.get("env") or []:
        name, value_from = str(var.get("name")), var.get("valueFrom")
        if not value_from:
            env[name] = expand(str(var.get("value", "")), env)
            continue
        if "configMapKeyRef" in value_from or "secretKeyRef" in value_from:
            plural = "configmaps" if "configMapKeyRef" in value_from else "secrets"
            ref = value_from.get("configMapKeyRef") or value_from.get("secretKeyRef") or {}
            resolved = _key_ref(ref, plural, namespace, lookup)
            if resolved is not None:
                env[name] = resolved
        elif "fieldRef" in value_from:
            env[name] = _field_ref(pod, str(value_from["fieldRef"].get("fieldPath", "")))
        elif "resourceFieldRef" in value_from:
            env[name] = _resource_ref(value_from["resourceFieldRef"], pod, container, node)
    return env


def container_spec(
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    lookup: Lookup,
    *,
    init: bool = False,
    restart_count: int = 0,
    node_allocatable: Obj | None = None,
) -> ContainerSpec:
    """The :class:`ContainerSpec` of one container of a (bound, IP-assigned) pod.

    :raises ContainerConfigError: for a missing ConfigMap, Secret or key it needs.
    """
    env = _environment(pod, container, lookup, node_allocatable or {})
    ports = tuple(
        PortSpec(int(p["containerPort"]), str(p.get("name", "")), str(p.get("protocol", "TCP")))
        for p in container.get("ports") or []
        if isinstance(p, dict) and "containerPort" in p
    )
    metadata = pod["metadata"]
    return ContainerSpec(
        namespace=metadata.get("namespace", ""),
        pod_name=metadata["name"],
        pod_uid=metadata.get("uid", ""),
        name=str(container.get("name")),
        image=str(container.get("image", "")),
        command=tuple(expand(str(c), env) for c in container.get("command") or []),
        args=tuple(expand(str(a), env) for a in container.get("args") or []),
        env=env,
        ports=ports,
        files=_mounted_files(pod, container, lookup),
        working_dir=str(container.get("workingDir", "")),
        pod_ip=str(pod.get("status", {}).get("podIP", "")),
        restart_count=restart_count,
        init=init,
        pod=pod,
    )
