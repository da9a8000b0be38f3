"""CustomResourceDefinitions: what a CRD serves, and the conditions it reports.

:func:`resource_types_for` turns a CRD object into one :class:`ResourceType` per served
version (scope, names, categories, the status and scale subresources it declares, its
compiled openAPIV3Schema). :func:`established_status` is the status the API server's
CRD controllers write once the names are accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flink_k8s_sandbox.resources import (
    ALL_VERBS,
    ResourceType,
    ScalePaths,
    Subresource,
    TypeKey,
)
from flink_k8s_sandbox.validation import crd_validator

__all__ = [
    "CRD_KEY",
    "established_status",
    "is_established",
    "resource_types_for",
    "storage_key_of",
]

CRD_KEY: TypeKey = ("apiextensions.k8s.io", "customresourcedefinitions")


def storage_key_of(crd: Mapping[str, Any]) -> TypeKey:
    spec = crd.get("spec", {})
    return (spec.get("group", ""), spec.get("names", {}).get("plural", ""))


def _subresources(
    kind: str, declared: Mapping[str, Any]
) -> tuple[tuple[Subresource, ...], ScalePaths | None]:
    subresources: list[Subresource] = []
    scale: ScalePaths | None = None
    if "scale" in declared:
        paths = declared["scale"] or {}
        scale = ScalePaths(
            spec_replicas=paths.get("specReplicasPath", ".spec.replicas"),
            status_replicas=paths.get("statusReplicasPath", ".status.replicas"),
            label_selector=paths.get("labelSelectorPath"),
        )
        subresources.append(Subresource("scale", "Scale", group="autoscaling", version="v1"))
    if "status" in declared:
        subresources.append(Subresource("status", kind))
    return tuple(subresources), scale


def _version_type(spec: Mapping[str, Any], version: Mapping[str, Any]) -> ResourceType:
    names = spec.get("names", {})
    subresources, scale = _subresources(names.get("kind", ""), version.get("subresources") or {})
    schema = (version.get("schema") or {}).get("openAPIV3Schema") or {
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
    }
    return ResourceType(
        group=spec.get("group", ""),
        version=version["name"],
        plural=names.get("plural", ""),
        singular=names.get("singular") or names.get("kind", "").lower(),
        kind=names.get("kind", ""),
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        verbs=ALL_VERBS,
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        subresources=subresources,
        generation=True,
        scale=scale,
        custom=True,
        schema=schema,
        validator=crd_validator(schema),
    )


def resource_types_for(crd: Mapping[str, Any]) -> list[ResourceType]:
    """One type per served version, the storage version first (it is the preferred one)."""
    spec = crd.get("spec", {})
    versions = [v for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("served")]
    versions.sort(key=lambda v: not v.get("storage"))
    return [_version_type(spec, version) for version in versions]


def is_established(crd: Mapping[str, Any]) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def established_status(crd: Mapping[str, Any], now: str) -> dict[str, Any]:
    """The status once names are accepted and the CRD is served."""
    status = dict(crd.get("status") or {})
    names = dict(crd.get("spec", {}).get("names", {}))
    names.setdefault("singular", names.get("kind", "").lower())
    names.setdefault("listKind", f"{names.get('kind', '')}List")
    status["acceptedNames"] = names
    status["conditions"] = [
        {
            "type": "NamesAccepted",
            "status": "True",
            "lastTransitionTime": now,
            "reason": "NoConflicts",
            "message": "no conflicts found",
        },
        {
            "type": "Established",
            "status": "True",
            "lastTransitionTime": now,
            "reason": "InitialNamesAccepted",
            "message": "the initial names have been accepted",
        },
    ]
    return status
