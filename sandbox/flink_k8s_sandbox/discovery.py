"""Legacy (non-aggregated) discovery documents, built from the served types (pure).

Answered as plain ``application/json`` whatever the ``Accept`` header asks: client-go
then falls back from aggregated discovery to one request per group-version, and the
Python ``DynamicClient`` reads the same shapes. Subresources are separate entries
(``deployments/scale`` carries ``group: autoscaling, version: v1, kind: Scale``, which
kubectl's scale client needs), each with a ``kind`` (the Python client requires one).
"""

from __future__ import annotations

import base64
import hashlib
import platform
from typing import Any

from flink_k8s_sandbox.resources import ResourceRegistry, ResourceType

__all__ = [
    "KUBERNETES_VERSION",
    "api_group",
    "api_group_list",
    "api_resource_list",
    "api_versions",
    "version_info",
]

KUBERNETES_VERSION = (1, 37, 0)
"""The Kubernetes release the sandbox answers as (its schemas are that release's)."""

Obj = dict[str, Any]


def version_info() -> Obj:
    """``GET /version``."""
    major, minor, patch = KUBERNETES_VERSION
    machine = platform.machine().lower().replace("x86_64", "amd64").replace("aarch64", "arm64")
    return {
        "major": str(major),
        "minor": str(minor),
        "emulationMajor": str(major),
        "emulationMinor": str(minor),
        "gitVersion": f"v{major}.{minor}.{patch}",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": f"{platform.system().lower()}/{machine}",
    }


def api_versions(server_address: str) -> Obj:
    """``GET /api``."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(name: str, versions: list[str]) -> Obj:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": dict(entries[0])}


def api_group_list(registry: ResourceRegistry) -> Obj:
    """``GET /apis``: every non-core group, preferred version first."""
    groups = registry.groups()
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(name, versions) for name, versions in groups.items() if name],
    }


def api_group(registry: ResourceRegistry, name: str) -> Obj | None:
    """``GET /apis/<group>`` (``None`` when the group is not served)."""
    versions = registry.groups().get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _entry(rt: ResourceType) -> Obj:
    entry: Obj = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    digest = hashlib.sha256(f"{rt.group}/{rt.version}/{rt.kind}".encode()).digest()
    entry["storageVersionHash"] = base64.b64encode(digest[:8]).decode()
    return entry


def _sub_entries(rt: ResourceType) -> list[Obj]:
    entries = []
    for sub in rt.subresources:
        entry: Obj = {
            "name": f"{rt.plural}/{sub.name}",
            "singularName": "",
            "namespaced": rt.namespaced,
        }
        if sub.group is not None:
            entry["group"] = sub.group
        if sub.version is not None:
            entry["version"] = sub.version
        entry["kind"] = sub.kind
        entry["verbs"] = list(sub.verbs)
        entries.append(entry)
    return entries


def api_resource_list(registry: ResourceRegistry, group: str, version: str) -> Obj | None:
    """``GET /api/v1`` or ``/apis/<group>/<version>`` (``None`` when not served)."""
    types = registry.in_group_version(group, version)
    if not types:
        return None
    resources: list[Obj] = []
    for rt in types:
        resources.append(_entry(rt))
        resources.extend(_sub_entries(rt))
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }
