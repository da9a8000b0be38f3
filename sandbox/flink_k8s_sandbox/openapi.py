"""A minimal ``/openapi/v3``: just what kubectl's default flags need (pure).

kubectl's ``--validate=strict`` (the default) asks whether the server validates fields
itself: it looks, in the group-version's OpenAPI v3 document, for a PATCH operation
tagged with the kind's ``x-kubernetes-group-version-kind`` that takes a
``fieldValidation`` query parameter. Finding one, it sends ``fieldValidation=Strict``
and leaves validation to the server. The request bodies list no
``strategic-merge-patch+json``, so client-side ``kubectl apply`` computes its patches
from compiled-in types (built-ins) or as merge patches (custom resources) and needs no
schemas. ``/openapi/v2`` is not served (404), as the notes recommend.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flink_k8s_sandbox.discovery import KUBERNETES_VERSION
from flink_k8s_sandbox.resources import ResourceRegistry, ResourceType

__all__ = ["group_version_document", "group_version_path", "openapi_root"]

Obj = dict[str, Any]
_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
)


def group_version_path(group: str, version: str) -> str:
    """``api/v1`` or ``apis/<group>/<version>``: the key in the root document."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _item_path(rt: ResourceType) -> str:
    prefix = "/" + group_version_path(rt.group, rt.version)
    scope = "/namespaces/{namespace}" if rt.namespaced else ""
    return f"{prefix}{scope}/{rt.plural}/{{name}}"


def _parameter(name: str, where: str) -> Obj:
    return {"name": name, "in": where, "required": where == "path", "schema": {"type": "string"}}


def _patch_operation(rt: ResourceType) -> Obj:
    params = [_parameter("name", "path")]
    if rt.namespaced:
        params.append(_parameter("namespace", "path"))
    params += [
        _parameter(name, "query") for name in ("dryRun", "fieldManager", "fieldValidation", "force")
    ]
    return {
        "operationId": f"patch{rt.kind}",
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": {
            "group": rt.group,
            "version": rt.version,
            "kind": rt.kind,
        },
        "parameters": params,
        "requestBody": {
            "content": {media: {"schema": {"type": "object"}} for media in _PATCH_TYPES},
            "required": True,
        },
        "responses": {"200": {"description": "OK"}, "201": {"description": "Created"}},
    }


def group_version_document(registry: ResourceRegistry, group: str, version: str) -> Obj | None:
    """The OpenAPI v3 document of one served group-version (``None`` when not served)."""
    types = registry.in_group_version(group, version)
    if not types:
        return None
    major, minor, patch = KUBERNETES_VERSION
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": f"v{major}.{minor}.{patch}"},
        "paths": {_item_path(rt): {"patch": _patch_operation(rt)} for rt in types},
        "components": {"schemas": {}},
    }


def _hash(document: Obj) -> str:
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha512(encoded).hexdigest()[:64].upper()


def openapi_root(registry: ResourceRegistry) -> Obj:
    """``GET /openapi/v3``: each served group-version and where its document is."""
    paths: Obj = {}
    for group, versions in registry.groups().items():
        for version in versions:
            document = group_version_document(registry, group, version)
            if document is None:
                continue
            key = group_version_path(group, version)
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={_hash(document)}"}
    return {"paths": paths}
