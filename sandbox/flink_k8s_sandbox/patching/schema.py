"""The merge keys of the built-in kinds: how each list merges under a patch or an apply.

Strategic merge patch (:mod:`.strategic`) reads :attr:`ListStrategy.merge_key`,
server-side apply (:mod:`.fieldmanager`) :attr:`ListStrategy.keys`. Paths start at
the object root; ``<pod>`` is ``spec`` (Pod), ``template.spec`` (PodTemplate),
``spec.template.spec`` (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
ReplicationController) or ``spec.jobTemplate.spec.template.spec`` (CronJob); ``<c>`` is
``<pod>.containers``, ``<pod>.initContainers`` or ``<pod>.ephemeralContainers``.

=====================================================  ===============  ========================
list                                                   SMP merge key    SSA list-map keys
=====================================================  ===============  ========================
``metadata.finalizers`` (every kind, also templates)   set              set
``metadata.ownerReferences``                           ``uid``          ``uid``
``<c>``, ``<pod>.imagePullSecrets``                    ``name``         ``name``
``<pod>.volumes``, ``<pod>.schedulingGates``           ``name``         ``name``
``<pod>.resourceClaims``                               ``name``         ``name``
``<pod>.hostAliases``                                  ``ip``           ``ip``
``<pod>.topologySpreadConstraints``                    ``topologyKey``  topologyKey, whenUnsat.
``<c>[].env``                                          ``name``         ``name``
``<c>[].ports``                                        containerPort    containerPort, protocol
``<c>[].volumeMounts``                                 ``mountPath``    ``mountPath``
``<c>[].volumeDevices``                                ``devicePath``   ``devicePath``
``spec.ports`` (Service)                               ``port``         port, protocol
``status.conditions`` (Pod, workloads, Job, Service,   ``type``         ``type``
Node, Namespace, PersistentVolumeClaim)
``status.podIPs``, ``status.hostIPs`` (Pod)            ``ip``           ``ip``
``status.addresses`` (Node)                            ``type``         ``type``
``spec.podCIDRs`` (Node)                               set              set
=====================================================  ===============  ========================

Every other list is atomic (replaced whole): ``args``, ``command``, ``envFrom``,
``tolerations``, ``containerStatuses``, ``readinessGates``... A missing ``protocol`` key
reads as ``TCP``. For server-side apply ``spec.selector`` of the workloads and Service
is atomic too. Unknown kinds (custom resources) only get ``metadata``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["FieldSchema", "ListStrategy", "list_strategy", "merge_key_table", "root_schema"]


@dataclass(frozen=True)
class ListStrategy:
    """How a list merges: ``merge_key`` for SMP (``None``: a set of primitives) and
    ``keys`` for server-side apply (empty: a set); ``defaults`` fill missing key fields."""

    merge_key: str | None = None
    keys: tuple[str, ...] = ()
    defaults: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class FieldSchema:
    """What Kubernetes knows of one field: its struct type, list strategy, atomicity."""

    type_name: str = ""
    list: ListStrategy | None = None
    atomic: bool = False

    def child(self, name: str) -> FieldSchema:
        """The schema of field ``name`` (an empty schema when unknown)."""
        return _TYPES.get(self.type_name, {}).get(name, _UNKNOWN)

    @property
    def item(self) -> FieldSchema:
        """The schema of this list's items."""
        return FieldSchema(self.type_name)


_UNKNOWN = FieldSchema()
_SET = ListStrategy()
_TCP = (("protocol", "TCP"),)


def _by(key: str, *more: str, **kwargs: Any) -> FieldSchema:
    defaults = _TCP if "protocol" in more else ()
    return FieldSchema(kwargs.get("of", ""), ListStrategy(key, (key, *more), defaults))


_META = FieldSchema("ObjectMeta")
_CONDITIONS = FieldSchema("Conditions")
_ATOMIC = FieldSchema(atomic=True)
_TYPES: dict[str, dict[str, FieldSchema]] = {
    "Object": {"metadata": _META},
    "ObjectMeta": {"finalizers": FieldSchema(list=_SET), "ownerReferences": _by("uid")},
    "Conditions": {"conditions": _by("type")},
    "PodTemplateSpec": {"metadata": _META, "spec": FieldSchema("PodSpec")},
    "PodSpec": {
        "containers": _by("name", of="Container"),
        "initContainers": _by("name", of="Container"),
        "ephemeralContainers": _by("name", of="Container"),
        "volumes": _by("name"),
        "imagePullSecrets": _by("name"),
        "hostAliases": _by("ip"),
        "schedulingGates": _by("name"),
        "resourceClaims": _by("name"),
        "topologySpreadConstraints": _by("topologyKey", "whenUnsatisfiable"),
    },
    "Container": {
        "ports": _by("containerPort", "protocol"),
        "env": _by("name"),
        "volumeMounts": _by("mountPath"),
        "volumeDevices": _by("devicePath"),
    },
    "PodStatus": {"conditions": _by("type"), "podIPs": _by("ip"), "hostIPs": _by("ip")},
    "WorkloadSpec": {"selector": _ATOMIC, "template": FieldSchema("PodTemplateSpec")},
    "JobTemplateSpec": {"metadata": _META, "spec": FieldSchema("WorkloadSpec")},
    "ServiceSpec": {"ports": _by("port", "protocol"), "selector": _ATOMIC},
    "NodeSpec": {"podCIDRs": FieldSchema(list=_SET)},
    "NodeStatus": {"conditions": _by("type"), "addresses": _by("type")},
}
_WORKLOAD = {"metadata": _META, "spec": FieldSchema("WorkloadSpec"), "status": _CONDITIONS}
_KINDS: dict[str, dict[str, FieldSchema]] = {
    "Pod": {"metadata": _META, "spec": FieldSchema("PodSpec"), "status": FieldSchema("PodStatus")},
    "PodTemplate": {"metadata": _META, "template": FieldSchema("PodTemplateSpec")},
    **{kind: _WORKLOAD for kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job")},
    "ReplicationController": {
        "metadata": _META,
        "spec": FieldSchema("RCSpec"),
        "status": _CONDITIONS,
    },
    "CronJob": {"metadata": _META, "spec": FieldSchema("CronJobSpec")},
    "Service": {"metadata": _META, "spec": FieldSchema("ServiceSpec"), "status": _CONDITIONS},
    "Node": {
        "metadata": _META,
        "spec": FieldSchema("NodeSpec"),
        "status": FieldSchema("NodeStatus"),
    },
    "Namespace": {"metadata": _META, "status": _CONDITIONS},
    "PersistentVolumeClaim": {"metadata": _META, "status": _CONDITIONS},
}
_TYPES["RCSpec"] = {"template": FieldSchema("PodTemplateSpec")}
_TYPES["CronJobSpec"] = {"jobTemplate": FieldSchema("JobTemplateSpec")}
_TYPES.update(_KINDS)


def root_schema(kind: str) -> FieldSchema:
    """The schema of a whole object of ``kind`` (only ``metadata`` for unknown kinds)."""
    return FieldSchema(kind if kind in _KINDS else "Object")


def list_strategy(kind: str, path: Sequence[str]) -> ListStrategy | None:
    """The strategy of the list at ``path`` (field names from the root, items skipped)."""
    node = root_schema(kind)
    for name in path:
        node = node.child(name)
    return node.list


def merge_key_table(kind: str) -> dict[str, ListStrategy]:
    """Every merging list of ``kind``, by dotted path (the table above, flattened)."""
    table: dict[str, ListStrategy] = {}

    def walk(node: FieldSchema, prefix: str, depth: int) -> None:
        for name, child in _TYPES.get(node.type_name, {}).items():
            if child.list is not None:
                table[prefix + name] = child.list
            if child.type_name and depth < 8:
                walk(child, f"{prefix}{name}.", depth + 1)

    walk(root_schema(kind), "", 0)
    return table
