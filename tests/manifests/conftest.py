"""Shared specs and schema validators for the manifest tests.

The operator's CRDs are the copies the sandbox ships as package data (source and licence
in their NOTICE); the Kubernetes schemas come from ``kubernetes_validate``.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from airflow_provider_flink_k8s.spec import FlinkCluster
from flink_k8s_sandbox.flinkoperator.crds import operator_crd_path

FLINK_DEPLOYMENT_CRD = operator_crd_path("flinkdeployments")
FLINK_SESSION_JOB_CRD = operator_crd_path("flinksessionjobs")

KUBERNETES_VERSIONS = ("1.30", "1.37")
"""Oldest and newest Kubernetes versions the manifests must validate against."""

JOB = {
    "jar_uri": "local:///opt/flink/usrlib/job.jar",
    "entry_class": "com.example.Job",
    "args": ["--input", "s3://bucket/in"],
    "parallelism": 4,
}
HA = {"enabled": True, "storage_dir": "s3://bucket/ha"}

# A sidecar, volumes, tolerations, scheduling and an override of the Flink container.
POD_TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"team": "data"}, "annotations": {"prometheus.io/scrape": "true"}},
    "spec": {
        "nodeSelector": {"pool": "flink"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "flink"}],
        "volumes": [{"name": "scratch", "emptyDir": {}}],
        "containers": [
            {
                "name": "flink-main-container",
                "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
            }
        ],
    },
}
TASKMANAGER_POD_TEMPLATE: dict[str, Any] = {
    "spec": {
        "containers": [
            {"name": "log-shipper", "image": "fluent/fluent-bit:3.0", "args": ["-c", "/f.conf"]}
        ]
    }
}
JOBMANAGER_POD_TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"role": "coordinator"}},
    "spec": {"priorityClassName": "high"},
}


def cluster_spec(
    *,
    mode: str = "session",
    ha: bool = False,
    rest: str = "ClusterIP",
    extras: bool = False,
    target: str = "standalone",
) -> dict[str, Any]:
    """A valid spec dict for one point of the test matrix."""
    spec: dict[str, Any] = {"name": "orders", "namespace": "streaming", "target": target}
    spec["taskmanager"] = {"slots": 2}
    if mode == "application":
        spec["job"] = copy.deepcopy(JOB)
    if ha:
        spec["high_availability"] = dict(HA)
        spec["jobmanager"] = {"replicas": 2}
    spec["rest_service"] = {"type": rest}
    if rest != "ClusterIP":
        spec["rest_service"]["node_port"] = 30081
        spec["rest_service"]["annotations"] = {"service.beta.kubernetes.io/internal": "true"}
    if extras:
        spec["labels"] = {"team": "data", "cost-center": "42"}
        spec["annotations"] = {"owner": "data-eng@example.com"}
        spec["env"] = [
            {"name": "AWS_REGION", "value": "eu-west-1"},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        ]
        spec["pod_template"] = copy.deepcopy(POD_TEMPLATE)
        spec["taskmanager"]["pod_template"] = copy.deepcopy(TASKMANAGER_POD_TEMPLATE)
        spec.setdefault("jobmanager", {})["pod_template"] = copy.deepcopy(JOBMANAGER_POD_TEMPLATE)
        spec["log_configuration"] = {"logback-console.xml": "<configuration/>"}
    return spec


def _matrix() -> Iterator[Any]:
    for mode, ha, rest, extras in itertools.product(
        ("session", "application"),
        (False, True),
        ("ClusterIP", "NodePort", "LoadBalancer"),
        (False, True),
    ):
        name = f"{mode}-{'ha' if ha else 'noha'}-{rest}-{'extras' if extras else 'plain'}"
        yield pytest.param({"mode": mode, "ha": ha, "rest": rest, "extras": extras}, id=name)


MATRIX = list(_matrix())


@pytest.fixture
def make_cluster() -> Callable[..., FlinkCluster]:
    """Build a validated cluster from :func:`cluster_spec` options plus field overrides."""

    def build(overrides: dict[str, Any] | None = None, **options: Any) -> FlinkCluster:
        spec = cluster_spec(**options)
        spec.update(overrides or {})
        return FlinkCluster.model_validate(spec)

    return build


# --- the FlinkDeployment CRD as a strict JSON schema -------------------------------------


def _strict_crd_schema(node: Any) -> Any:
    """Turn a CRD's structural OpenAPI schema into an equivalent, strict JSON schema.

    * ``x-kubernetes-int-or-string`` -> ``anyOf`` integer/string (when not given already);
    * ``nullable: true`` -> the type also admits ``null``;
    * objects with ``properties`` refuse unknown fields, unless they carry
      ``x-kubernetes-preserve-unknown-fields`` -- the API server would silently prune
      them, so here they are errors;
    * ``format`` is dropped (it is advisory in structural schemas).
    """
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("format", "nullable") or key.startswith("x-kubernetes-"):
            continue
        if key == "properties":
            out[key] = {name: _strict_crd_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _strict_crd_schema(value)
        elif key in ("anyOf", "allOf", "oneOf"):
            out[key] = [_strict_crd_schema(sub) for sub in value]
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in out:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def _crd_schema(path: Path, kind: str) -> dict[str, Any]:
    """The strict JSON schema of one of the operator's custom resources."""
    crd = yaml.safe_load(path.read_text(encoding="utf-8"))
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta1"]
    schema: dict[str, Any] = _strict_crd_schema(version["schema"]["openAPIV3Schema"])
    # The API server checks these itself; the CRD schema leaves them out.
    schema["properties"]["apiVersion"] = {"const": "flink.apache.org/v1beta1"}
    schema["properties"]["kind"] = {"const": kind}
    schema["properties"]["metadata"] = {
        "type": "object",
        "required": ["name", "namespace"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z]([-a-z0-9]*[a-z0-9])?$"},
            "namespace": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    return schema


def _validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    validator_class = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft7Validator
    )
    validator_class.check_schema(schema)
    return validator_class(schema)


@pytest.fixture(scope="session")
def flink_deployment_validator() -> jsonschema.protocols.Validator:
    """A strict validator of FlinkDeployment objects built from the reference CRD."""
    return _validator(_crd_schema(FLINK_DEPLOYMENT_CRD, "FlinkDeployment"))


@pytest.fixture(scope="session")
def flink_session_job_validator() -> jsonschema.protocols.Validator:
    """A strict validator of FlinkSessionJob objects built from the reference CRD."""
    return _validator(_crd_schema(FLINK_SESSION_JOB_CRD, "FlinkSessionJob"))
