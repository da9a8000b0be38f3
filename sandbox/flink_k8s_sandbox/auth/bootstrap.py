"""The default ClusterRoles and ClusterRoleBindings of a fresh cluster (a subset).

Seeded at start whether or not access control is on, as a real cluster has them:
``cluster-admin`` (bound to ``system:masters``), ``system:discovery`` and
``system:basic-user`` (bound to ``system:authenticated``), ``system:public-info-viewer``
(bound to ``system:authenticated`` and ``system:unauthenticated``), and the user-facing
``admin``, ``edit`` and ``view`` with their rules written out for the sandbox's resource
types (on a real cluster they are aggregated from labelled ClusterRoles).
"""

from __future__ import annotations

from typing import Any

from flink_k8s_sandbox.auth.rbac import RBAC_GROUP
from flink_k8s_sandbox.resources import ResourceRegistry
from flink_k8s_sandbox.storage import Storage, WriteOptions

__all__ = ["default_cluster_roles", "seed_rbac"]

Obj = dict[str, Any]
_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]
_DISCOVERY_URLS = [
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/healthz",
    "/livez",
    "/openapi",
    "/openapi/*",
    "/readyz",
    "/version",
    "/version/",
]
_INFO_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"]
_CORE_READ = [
    "configmaps",
    "endpoints",
    "events",
    "persistentvolumeclaims",
    "pods",
    "pods/log",
    "pods/status",
    "replicationcontrollers",
    "resourcequotas",
    "serviceaccounts",
    "services",
    "services/status",
]
_CORE_WRITE = [
    "configmaps",
    "endpoints",
    "events",
    "persistentvolumeclaims",
    "pods",
    "pods/eviction",
    "pods/proxy",
    "secrets",
    "serviceaccounts",
    "serviceaccounts/token",
    "services",
    "services/proxy",
]
_APPS = [
    "deployments",
    "deployments/scale",
    "deployments/status",
    "replicasets",
    "replicasets/scale",
]


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> Obj:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


def _view_rules() -> list[Obj]:
    return [
        _rule([""], _CORE_READ, _READ),
        _rule([""], ["namespaces", "namespaces/status"], _READ),
        _rule(["apps"], _APPS, _READ),
        _rule(["flink.apache.org"], ["flinkdeployments", "flinksessionjobs"], _READ),
    ]


def _edit_rules() -> list[Obj]:
    return [
        *_view_rules(),
        _rule([""], ["secrets"], _READ),
        _rule([""], _CORE_WRITE, _WRITE),
        _rule(["apps"], _APPS, _WRITE),
        _rule(["flink.apache.org"], ["flinkdeployments", "flinksessionjobs"], _WRITE),
    ]


def _admin_rules() -> list[Obj]:
    return [
        *_edit_rules(),
        _rule([RBAC_GROUP], ["rolebindings", "roles"], [*_READ, *_WRITE]),
        _rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
    ]


def default_cluster_roles() -> dict[str, list[Obj]]:
    """Name -> rules of the seeded ClusterRoles."""
    review = ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]
    return {
        "cluster-admin": [
            _rule(["*"], ["*"], ["*"]),
            {"nonResourceURLs": ["*"], "verbs": ["*"]},
        ],
        "system:discovery": [{"nonResourceURLs": _DISCOVERY_URLS, "verbs": ["get"]}],
        "system:public-info-viewer": [{"nonResourceURLs": _INFO_URLS, "verbs": ["get"]}],
        "system:basic-user": [
            _rule(["authorization.k8s.io"], review, ["create"]),
            _rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"]),
        ],
        "admin": _admin_rules(),
        "edit": _edit_rules(),
        "view": _view_rules(),
    }


_BINDINGS = {
    "cluster-admin": ["system:masters"],
    "system:discovery": ["system:authenticated"],
    "system:public-info-viewer": ["system:authenticated", "system:unauthenticated"],
    "system:basic-user": ["system:authenticated"],
}
_DEFAULT_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
_AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}


def _metadata(name: str) -> Obj:
    return {"name": name, "labels": dict(_DEFAULT_LABELS), "annotations": dict(_AUTOUPDATE)}


def seed_rbac(storage: Storage, registry: ResourceRegistry) -> None:
    """Create the default ClusterRoles and their ClusterRoleBindings."""
    roles = registry.get(RBAC_GROUP, "v1", "clusterroles")
    bindings = registry.get(RBAC_GROUP, "v1", "clusterrolebindings")
    assert roles is not None and bindings is not None
    opts = WriteOptions(field_manager="kube-apiserver")
    for name, rules in default_cluster_roles().items():
        storage.create(roles, "", {"metadata": _metadata(name), "rules": rules}, opts)
    for name, groups in _BINDINGS.items():
        binding = {
            "metadata": _metadata(name),
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": name},
            "subjects": [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": g} for g in groups],
        }
        storage.create(bindings, "", binding, opts)
