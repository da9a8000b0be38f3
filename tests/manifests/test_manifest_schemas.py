"""Every rendered object validates against the real schemas, strictly.

Standalone objects against Kubernetes' OpenAPI schemas (``kubernetes_validate``, strict:
unknown fields are errors) for the oldest and newest supported Kubernetes; FlinkDeployments
against the operator's CRD, converted to a strict JSON schema; the pod templates inside a
FlinkDeployment against Kubernetes' own PodTemplateSpec as well.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import kubernetes_validate
import pytest
from conftest import KUBERNETES_VERSIONS, MATRIX

from airflow_provider_flink_k8s.manifests import (
    MAIN_CONTAINER,
    merge_pod_templates,
    render_manifests,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import jsonschema

    from airflow_provider_flink_k8s.spec import FlinkCluster


def _errors(validator: jsonschema.protocols.Validator, obj: dict[str, Any]) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(obj)
    ]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("options", MATRIX)
def test_standalone_objects_validate_against_kubernetes(
    make_cluster: Callable[..., FlinkCluster], options: dict[str, Any], version: str
) -> None:
    objects = render_manifests(make_cluster(**options))
    assert objects
    for obj in objects:
        try:
            validated = kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {path}: {error.message}")
        assert validated == version


@pytest.mark.parametrize("options", MATRIX)
def test_flink_deployment_validates_against_the_crd(
    make_cluster: Callable[..., FlinkCluster],
    flink_deployment_validator: jsonschema.protocols.Validator,
    options: dict[str, Any],
) -> None:
    (deployment,) = render_manifests(make_cluster(target="operator", **options))
    assert _errors(flink_deployment_validator, deployment) == []
    # The CRD takes any flinkConfiguration; the operator reads it as string -> string.
    assert all(isinstance(v, str) for v in deployment["spec"]["flinkConfiguration"].values())


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("options", MATRIX)
def test_flink_deployment_pod_templates_are_kubernetes_pod_templates(
    make_cluster: Callable[..., FlinkCluster], options: dict[str, Any], version: str
) -> None:
    (deployment,) = render_manifests(make_cluster(target="operator", **options))
    spec = deployment["spec"]
    shared = spec["podTemplate"]
    # A role's template may be partial: the operator merges it over the shared one first.
    templates = [shared] + [
        merge_pod_templates(shared, spec[role].get("podTemplate"))
        for role in ("jobManager", "taskManager")
    ]
    for template in templates:
        template.setdefault("spec", {}).setdefault("containers", [{"name": MAIN_CONTAINER}])
        wrapped = {
            "apiVersion": "v1",
            "kind": "PodTemplate",
            "metadata": {"name": "check"},
            "template": template,
        }
        kubernetes_validate.validate(wrapped, version, strict=True)


def test_the_strict_crd_schema_refuses_what_the_api_server_would_prune(
    make_cluster: Callable[..., FlinkCluster],
    flink_deployment_validator: jsonschema.protocols.Validator,
) -> None:
    (deployment,) = render_manifests(make_cluster(target="operator", mode="application"))
    typo = copy.deepcopy(deployment)
    typo["spec"]["jobManager"]["resource"]["memroy"] = "1g"
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["taskManager"]["replicas"] = "2"
    bad_enum = copy.deepcopy(deployment)
    bad_enum["spec"]["flinkVersion"] = "2.3"
    for broken in (typo, wrong_type, bad_enum):
        assert _errors(flink_deployment_validator, broken)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_strict_kubernetes_validation_refuses_unknown_fields(
    make_cluster: Callable[..., FlinkCluster], version: str
) -> None:
    deployment = render_manifests(make_cluster())[-1]
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["memory"] = "1g"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)
