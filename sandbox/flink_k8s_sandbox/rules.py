"""Rules of built-in kinds that no OpenAPI schema states (pure).

The Deployment/ReplicaSet replica and selector rules and the CRD naming rules that
clients actually trip over; each returns every violation it finds.
"""

from __future__ import annotations

import json
from typing import Any

from flink_k8s_sandbox.errors import ErrorType, FieldError, GoLiteral
from flink_k8s_sandbox.resources import ResourceType
from flink_k8s_sandbox.selectors import SelectorError, label_selector_from_dict

__all__ = ["semantic_errors"]

Obj = dict[str, Any]


def _go_string_map(labels: Any) -> str:
    if not isinstance(labels, dict):
        return "map[string]string(nil)"
    items = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(labels.items()))
    return f"map[string]string{{{items}}}"


def _workload_errors(obj: Obj) -> list[FieldError]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    problems: list[FieldError] = []
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        problems.append(
            FieldError(
                ErrorType.INVALID,
                "spec.replicas",
                replicas,
                "must be greater than or equal to 0",
            )
        )
    selector = spec.get("selector")
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if isinstance(selector, dict) and isinstance(labels, dict):
        try:
            matches = label_selector_from_dict(selector).matches(labels)
        except SelectorError as error:
            problems.append(FieldError(ErrorType.INVALID, "spec.selector", selector, str(error)))
        else:
            if not matches:
                problems.append(
                    FieldError(
                        ErrorType.INVALID,
                        "spec.template.metadata.labels",
                        GoLiteral(_go_string_map(labels)),
                        "`selector` does not match template `labels`",
                    )
                )
    return problems


def _crd_errors(obj: Obj) -> list[FieldError]:
    spec = obj.get("spec") or {}
    problems: list[FieldError] = []
    plural = (spec.get("names") or {}).get("plural", "")
    name = obj.get("metadata", {}).get("name", "")
    if name != f"{plural}.{spec.get('group', '')}":
        detail = 'must be spec.names.plural+"."+spec.group'
        problems.append(FieldError(ErrorType.INVALID, "metadata.name", name, detail))
    versions = [v for v in spec.get("versions") or [] if isinstance(v, dict)]
    if sum(1 for v in versions if v.get("storage")) != 1:
        detail = "must have exactly one version marked as storage version"
        value = GoLiteral("[]apiextensions.CustomResourceDefinitionVersion{...}")
        problems.append(FieldError(ErrorType.INVALID, "spec.versions", value, detail))
    return problems


def semantic_errors(resource_type: ResourceType, obj: Obj) -> list[FieldError]:
    """Every violation of the kind's own rules (none for custom resources)."""
    if resource_type.custom:
        return []
    if resource_type.kind in ("Deployment", "ReplicaSet"):
        return _workload_errors(obj)
    if resource_type.kind == "CustomResourceDefinition":
        return _crd_errors(obj)
    return []
