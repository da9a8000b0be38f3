"""A job for a session cluster, read from a Flink Kubernetes Operator ``FlinkSessionJob``.

``spec.deploymentName`` names the session FlinkDeployment (a :class:`FlinkCluster` in
session mode), ``spec.job`` becomes a :class:`JobSpec`, ``spec.flinkConfiguration`` the
job's own configuration, and the operator-only fields (``restartNonce``, the job's
nonces) are kept verbatim in ``overrides``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationError, field_validator

from airflow_provider_flink_k8s.exceptions import SpecError
from airflow_provider_flink_k8s.spec.cluster import JobSpec, _SpecModel
from airflow_provider_flink_k8s.spec.fields import (
    CLUSTER_NAME_MAX_LENGTH,
    Dns1123Label,
    Dns1123Subdomain,
    LabelMap,
    check_dns1035_label,
    flatten_configuration,
)
from airflow_provider_flink_k8s.spec.manifestreading import ManifestReader
from airflow_provider_flink_k8s.spec.problems import problems_from_validation_error

__all__ = ["FLINK_SESSION_JOB_KIND", "SessionJobSpec", "read_flink_session_job"]

FLINK_SESSION_JOB_KIND = "FlinkSessionJob"

_SPEC_FIELDS = frozenset({"deploymentName", "job", "flinkConfiguration", "restartNonce"})
_ORIGINS = {
    "name": "metadata.name",
    "namespace": "metadata.namespace",
    "labels": "metadata.labels",
    "annotations": "metadata.annotations",
    "deployment_name": "spec.deploymentName",
    "job": "spec.job",
    "flink_configuration": "spec.flinkConfiguration",
    "overrides": "spec",
}


class SessionJobSpec(_SpecModel):
    """A job submitted to a session cluster, as a FlinkSessionJob describes it."""

    name: Dns1123Subdomain
    """Name of the session job (the FlinkSessionJob's ``metadata.name``)."""

    namespace: Dns1123Label = "default"
    """Namespace of the session job and of its session cluster."""

    deployment_name: str
    """Name of the session cluster the job runs on (its FlinkDeployment, or the
    ``name`` of a session-mode :class:`FlinkCluster`)."""

    job: JobSpec
    """The job: jar, entry class, arguments, parallelism, upgrade mode, savepoint."""

    flink_configuration: dict[str, str] = Field(default_factory=dict)
    """The job's own Flink configuration (flattened), over the session cluster's."""

    labels: LabelMap = Field(default_factory=dict)
    """Labels of the FlinkSessionJob."""

    annotations: dict[str, str] = Field(default_factory=dict)
    """Annotations of the FlinkSessionJob."""

    overrides: dict[str, Any] = Field(default_factory=dict)
    """FlinkSessionJob ``spec`` fields with no field here, verbatim: ``restartNonce`` and
    ``job.*Nonce``."""

    @field_validator("deployment_name")
    @classmethod
    def _check_deployment_name(cls, value: str) -> str:
        return check_dns1035_label(value, CLUSTER_NAME_MAX_LENGTH)

    @field_validator("flink_configuration", mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> dict[str, str]:
        return flatten_configuration(value or {})

    @classmethod
    def from_flink_session_job(cls, manifest: Mapping[str, Any]) -> SessionJobSpec:
        """Read a ``flink.apache.org/v1beta1`` FlinkSessionJob.

        :raises SpecError: listing every problem, each naming the FlinkSessionJob field.
        """
        return read_flink_session_job(manifest)


def read_flink_session_job(manifest: Mapping[str, Any]) -> SessionJobSpec:
    """Read a FlinkSessionJob into a validated :class:`SessionJobSpec`.

    :raises SpecError: listing every problem, each naming the FlinkSessionJob field.
    """
    reader = ManifestReader(FLINK_SESSION_JOB_KIND, _ORIGINS)
    data: dict[str, Any] = {}
    document = reader.check_type(copy.deepcopy(manifest), FLINK_SESSION_JOB_KIND)
    if document is not None:
        document = reader.mapping(
            document, "", frozenset({"apiVersion", "kind", "metadata", "spec"})
        )
        data = reader.metadata(document.get("metadata"))
        spec = reader.mapping(document.get("spec"), "spec", _SPEC_FIELDS)
        name = reader.typed(spec.get("deploymentName"), "spec.deploymentName", str)
        if name is not None:
            data["deployment_name"] = name
        overrides: dict[str, Any] = {}
        if spec.get("job") is not None:
            data["job"], nonces = reader.job(spec["job"], "spec.job")
            if nonces:
                overrides["job"] = nonces
        if spec.get("flinkConfiguration") is not None:
            data["flink_configuration"] = reader.mapping(
                spec["flinkConfiguration"], "spec.flinkConfiguration"
            )
        nonce = reader.typed(spec.get("restartNonce"), "spec.restartNonce", int)
        if nonce is not None:
            overrides["restartNonce"] = nonce
        data["overrides"] = overrides
    if reader.problems:
        raise SpecError(reader.problems, subject=FLINK_SESSION_JOB_KIND)
    try:
        return SessionJobSpec.model_validate(data)
    except ValidationError as exc:
        problems = reader.translate(problems_from_validation_error(exc, SessionJobSpec))
        raise SpecError(problems, subject=FLINK_SESSION_JOB_KIND) from None
