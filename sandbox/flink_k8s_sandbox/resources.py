"""The resource types the sandbox serves: built-ins plus those CRDs add at runtime.

A :class:`ResourceType` is one group/version/plural with everything discovery and the
request pipeline need (kind, scope, verbs, short names, subresources, whether
``metadata.generation`` is kept, what DELETE answers). Objects are stored per
:attr:`ResourceType.storage_key` -- ``(group, plural)`` -- so the served versions of
one CRD share their objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ALL_VERBS",
    "BUILTIN_TYPES",
    "ResourceRegistry",
    "ResourceType",
    "ScalePaths",
    "Subresource",
    "TypeKey",
]

TypeKey = tuple[str, str]
"""``(group, plural)``: where a type's objects are stored."""

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_STATUS_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class Subresource:
    """One ``<plural>/<name>`` discovery entry; ``group``/``version`` only when they differ."""

    name: str
    kind: str
    verbs: tuple[str, ...] = _STATUS_VERBS
    group: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class ScalePaths:
    """Where a scale subresource reads and writes (CRD ``subresources.scale``)."""

    spec_replicas: str = ".spec.replicas"
    status_replicas: str = ".status.replicas"
    label_selector: str | None = None


@dataclass(frozen=True)
class ResourceType:
    """One served group/version/resource."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = ALL_VERBS
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    generation: bool = False
    return_deleted: bool = False
    scale: ScalePaths | None = None
    custom: bool = False
    schema: Mapping[str, Any] | None = field(default=None, compare=False, hash=False, repr=False)
    validator: Any = field(default=None, compare=False, hash=False, repr=False)
    """For custom resources: the compiled schema of this version (see :mod:`.validation`)."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def storage_key(self) -> TypeKey:
        return (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    def subresource(self, name: str) -> Subresource | None:
        return next((sub for sub in self.subresources if sub.name == name), None)

    @property
    def has_status(self) -> bool:
        return self.subresource("status") is not None


def _status(kind: str) -> Subresource:
    return Subresource("status", kind)


_SCALE = Subresource("scale", "Scale", group="autoscaling", version="v1")
_PROXY_VERBS = ("create", "delete", "get", "patch", "update")


def _core(plural: str, kind: str, namespaced: bool = True, **extra: Any) -> ResourceType:
    return ResourceType("", "v1", plural, kind.lower(), kind, namespaced, **extra)


BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _core("configmaps", "ConfigMap", short_names=("cm",)),
    _core("endpoints", "Endpoints", short_names=("ep",)),
    _core("events", "Event", short_names=("ev",)),
    _core(
        "namespaces",
        "Namespace",
        False,
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        short_names=("ns",),
        subresources=(
            Subresource("finalize", "Namespace", ("update",)),
            _status("Namespace"),
        ),
        return_deleted=True,
    ),
    _core("nodes", "Node", False, short_names=("no",), subresources=(_status("Node"),)),
    _core(
        "pods",
        "Pod",
        short_names=("po",),
        categories=("all",),
        subresources=(
            Subresource("log", "Pod", ("get",)),
            Subresource("proxy", "PodProxyOptions", _PROXY_VERBS),
            _status("Pod"),
        ),
        generation=True,
        return_deleted=True,
    ),
    _core(
        "resourcequotas",
        "ResourceQuota",
        short_names=("quota",),
        subresources=(_status("ResourceQuota"),),
    ),
    _core("secrets", "Secret"),
    _core(
        "serviceaccounts",
        "ServiceAccount",
        short_names=("sa",),
        subresources=(
            Subresource(
                "token", "TokenRequest", ("create",), group="authentication.k8s.io", version="v1"
            ),
        ),
        return_deleted=True,
    ),
    _core(
        "services",
        "Service",
        short_names=("svc",),
        categories=("all",),
        subresources=(
            Subresource("proxy", "ServiceProxyOptions", _PROXY_VERBS),
            _status("Service"),
        ),
        return_deleted=True,
    ),
    ResourceType(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        True,
        short_names=("deploy",),
        categories=("all",),
        subresources=(_SCALE, _status("Deployment")),
        generation=True,
        scale=ScalePaths(label_selector=".spec.selector"),
    ),
    ResourceType(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        True,
        short_names=("rs",),
        categories=("all",),
        subresources=(_SCALE, _status("ReplicaSet")),
        generation=True,
        scale=ScalePaths(label_selector=".spec.selector"),
    ),
    *(
        ResourceType("rbac.authorization.k8s.io", "v1", plural, kind.lower(), kind, namespaced)
        for plural, kind, namespaced in (
            ("clusterrolebindings", "ClusterRoleBinding", False),
            ("clusterroles", "ClusterRole", False),
            ("rolebindings", "RoleBinding", True),
            ("roles", "Role", True),
        )
    ),
    *(
        ResourceType(group, "v1", plural, plural[:-1], kind, False, verbs=("create",))
        for group, plural, kind in (
            ("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview"),
            ("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
            ("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview"),
        )
    ),
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "customresourcedefinition",
        "CustomResourceDefinition",
        False,
        short_names=("crd", "crds"),
        categories=("api-extensions",),
        subresources=(_status("CustomResourceDefinition"),),
        generation=True,
    ),
)


class ResourceRegistry:
    """The served types, looked up by URL (group, version, plural) or by apiVersion + kind."""

    def __init__(self, types: Iterable[ResourceType] = BUILTIN_TYPES) -> None:
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        for resource_type in types:
            self.add(resource_type)

    def add(self, resource_type: ResourceType) -> None:
        key = (resource_type.group, resource_type.version, resource_type.plural)
        self._types[key] = resource_type

    def remove(self, storage_key: TypeKey) -> None:
        """Stop serving every version stored under ``(group, plural)``."""
        for key in [k for k, t in self._types.items() if t.storage_key == storage_key]:
            del self._types[key]

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._types.get((group, version, plural))

    def for_kind(self, api_version: str, kind: str) -> ResourceType | None:
        return next(
            (t for t in self._types.values() if t.api_version == api_version and t.kind == kind),
            None,
        )

    def versions_of(self, storage_key: TypeKey) -> list[ResourceType]:
        return [t for t in self._types.values() if t.storage_key == storage_key]

    def all(self) -> list[ResourceType]:
        return list(self._types.values())

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return sorted(
            (t for t in self._types.values() if t.group == group and t.version == version),
            key=lambda t: t.plural,
        )

    def groups(self) -> dict[str, list[str]]:
        """Every served group (``""`` is core) with its versions, preferred first."""
        result: dict[str, list[str]] = {}
        for resource_type in self._types.values():
            versions = result.setdefault(resource_type.group, [])
            if resource_type.version not in versions:
                versions.append(resource_type.version)
        return result
