"""Where a kind lives in the API: group, version, plural and scope, and the paths built from them.

The kinds this provider renders, reads or deletes are known up front (:data:`KNOWN_RESOURCES`);
any other kind is looked up once through discovery (``GET /apis/<group>/<version>``) and
remembered by the :class:`ResourceTable` a hook keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

__all__ = [
    "CONFIG_MAP",
    "CUSTOM_RESOURCE_DEFINITION",
    "DEPLOYMENT",
    "EVENT",
    "FLINK_DEPLOYMENT",
    "FLINK_SESSION_JOB",
    "KNOWN_RESOURCES",
    "POD",
    "REPLICA_SET",
    "ROLE",
    "ROLE_BINDING",
    "ResourceRef",
    "ResourceTable",
    "SERVICE",
    "SERVICE_ACCOUNT",
    "discovery_path",
    "refs_from_resource_list",
    "split_api_version",
]


def split_api_version(api_version: str) -> tuple[str, str]:
    """``"apps/v1"`` -> ``("apps", "v1")``; the core group is ``""``: ``"v1"`` -> ``("", "v1")``."""
    group, _, version = api_version.rpartition("/")
    return group, version


def _segment(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class ResourceRef:
    """One kind's place in the API: ``deployments`` in ``apps/v1``, namespaced."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        """``apps/v1``, or ``v1`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def collection_path(self, namespace: str | None = None) -> str:
        """The collection's path; all namespaces when ``namespace`` is ``None``.

        :raises ValueError: for a namespace of a cluster-scoped kind.
        """
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace is None:
            return f"{root}/{self.plural}"
        if not self.namespaced:
            raise ValueError(f"{self.kind} is cluster-scoped: it has no namespace")
        return f"{root}/namespaces/{_segment(namespace)}/{self.plural}"

    def object_path(self, namespace: str | None, name: str, subresource: str | None = None) -> str:
        """One object's path (``.../deployments/x``), or its subresource's (``.../x/scale``)."""
        path = f"{self.collection_path(namespace if self.namespaced else None)}/{_segment(name)}"
        return f"{path}/{subresource}" if subresource else path


def _ref(api_version: str, plural: str, kind: str, namespaced: bool = True) -> ResourceRef:
    group, version = split_api_version(api_version)
    return ResourceRef(group, version, plural, kind, namespaced)


CONFIG_MAP = _ref("v1", "configmaps", "ConfigMap")
EVENT = _ref("v1", "events", "Event")
POD = _ref("v1", "pods", "Pod")
SERVICE = _ref("v1", "services", "Service")
SERVICE_ACCOUNT = _ref("v1", "serviceaccounts", "ServiceAccount")
DEPLOYMENT = _ref("apps/v1", "deployments", "Deployment")
REPLICA_SET = _ref("apps/v1", "replicasets", "ReplicaSet")
ROLE = _ref("rbac.authorization.k8s.io/v1", "roles", "Role")
ROLE_BINDING = _ref("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding")
FLINK_DEPLOYMENT = _ref("flink.apache.org/v1beta1", "flinkdeployments", "FlinkDeployment")
FLINK_SESSION_JOB = _ref("flink.apache.org/v1beta1", "flinksessionjobs", "FlinkSessionJob")
CUSTOM_RESOURCE_DEFINITION = _ref(
    "apiextensions.k8s.io/v1", "customresourcedefinitions", "CustomResourceDefinition", False
)

KNOWN_RESOURCES: tuple[ResourceRef, ...] = (
    CONFIG_MAP,
    EVENT,
    POD,
    SERVICE,
    SERVICE_ACCOUNT,
    _ref("v1", "secrets", "Secret"),
    _ref("v1", "persistentvolumeclaims", "PersistentVolumeClaim"),
    _ref("v1", "namespaces", "Namespace", namespaced=False),
    DEPLOYMENT,
    REPLICA_SET,
    ROLE,
    ROLE_BINDING,
    FLINK_DEPLOYMENT,
    FLINK_SESSION_JOB,
    CUSTOM_RESOURCE_DEFINITION,
)
"""The kinds this provider renders, reads or deletes: no discovery needed for them."""


def discovery_path(api_version: str) -> str:
    """The ``APIResourceList`` of a group-version: ``/api/v1`` or ``/apis/<group>/<version>``."""
    group, version = split_api_version(api_version)
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def refs_from_resource_list(api_version: str, body: Mapping[str, Any]) -> list[ResourceRef]:
    """The kinds an ``APIResourceList`` serves (subresources such as ``deployments/scale``
    left out)."""
    group, version = split_api_version(api_version)
    refs = []
    for entry in body.get("resources") or ():
        name, kind = entry.get("name"), entry.get("kind")
        if not isinstance(name, str) or not isinstance(kind, str) or "/" in name:
            continue
        refs.append(ResourceRef(group, version, name, kind, bool(entry.get("namespaced", True))))
    return refs


class ResourceTable:
    """Kinds by ``(apiVersion, kind)``: the known ones, plus those discovery taught it.

    :param known: the kinds to start with.
    """

    def __init__(self, known: Iterable[ResourceRef] = KNOWN_RESOURCES) -> None:
        self._refs: dict[tuple[str, str], ResourceRef] = {}
        self.add(known)

    def add(self, refs: Iterable[ResourceRef]) -> None:
        """Remember ``refs`` (a later entry for the same kind wins)."""
        for ref in refs:
            self._refs[(ref.api_version, ref.kind)] = ref

    def lookup(self, api_version: str, kind: str) -> ResourceRef | None:
        """The kind's place, or ``None`` until discovery has been asked."""
        return self._refs.get((api_version, kind))
