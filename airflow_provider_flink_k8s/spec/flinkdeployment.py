"""Reading a Flink Kubernetes Operator ``FlinkDeployment`` into a :class:`FlinkCluster`.

Where each FlinkDeployment field goes:

==========================================  =================================================
FlinkDeployment                             spec
==========================================  =================================================
``metadata.name/namespace/labels/...``      ``name``, ``namespace``, ``labels``,
                                            ``annotations`` (the provider's own labels are
                                            dropped when they hold what it sets anyway)
``spec.image/imagePullPolicy``              ``image``, ``image_pull_policy``
``spec.serviceAccount``                     ``service_account``
``spec.flinkVersion``                       ``flink_version`` (``v1_20`` -> ``1.20``)
``spec.flinkConfiguration``                 ``flink_configuration``, except the keys a
                                            field owns: slots, savepoint and checkpoint
                                            directories, Kubernetes HA, max parallelism,
                                            ``parallelism.default``, process sizes
``spec.logConfiguration``                   ``log_configuration``
``spec.podTemplate``                        ``pod_template``
``spec.jobManager/taskManager``             ``jobmanager``/``taskmanager``: ``replicas``,
                                            ``pod_template``, ``cpu``/``memory`` from
                                            ``resource`` or ``resources`` (requests; limits
                                            become ``kubernetes.*.limit-factor`` keys)
``spec.job``                                ``job`` (application mode; none: session)
``spec.mode``                               ``operator.deployment_mode``
``spec.ingress``, ``spec.restartNonce``,    ``operator.overrides`` (verbatim)
``spec.job.*Nonce``, ephemeral storage,
extra resources
how the source wrote them                   ``operator.spelling``
==========================================  =================================================

Every problem names the FlinkDeployment field (``spec.jobManager.resource.memory``),
including those the spec's own validation finds afterwards.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

from airflow_provider_flink_k8s.exceptions import SpecError
from airflow_provider_flink_k8s.spec.cluster import MEMORY_WARNINGS_GIVEN, FlinkCluster
from airflow_provider_flink_k8s.spec.deploymentconfiguration import read_flink_configuration
from airflow_provider_flink_k8s.spec.deploymentroles import read_role
from airflow_provider_flink_k8s.spec.manifestreading import ManifestReader, item_path
from airflow_provider_flink_k8s.spec.ownedkeys import MAX_PARALLELISM_KEY, SLOTS_KEY

__all__ = [
    "FLINK_DEPLOYMENT_KIND",
    "ROLES",
    "is_operator_manifest",
    "read_flink_deployment",
]

FLINK_DEPLOYMENT_KIND = "FlinkDeployment"

ROLES: dict[str, Literal["jobmanager", "taskmanager"]] = {
    "jobManager": "jobmanager",
    "taskManager": "taskmanager",
}
"""FlinkDeployment role field -> spec role field."""

_SPEC_FIELDS = frozenset(
    {
        "image",
        "imagePullPolicy",
        "serviceAccount",
        "flinkVersion",
        "flinkConfiguration",
        "logConfiguration",
        "podTemplate",
        "ingress",
        "jobManager",
        "taskManager",
        "job",
        "restartNonce",
        "mode",
    }
)
_SCALARS = {
    "image": "image",
    "imagePullPolicy": "image_pull_policy",
    "serviceAccount": "service_account",
    "flinkVersion": "flink_version",
}

# The labels the provider puts on the FlinkDeployment (manifests.labels.managed_labels);
# a source holding the same values reads back as if it had none.
_MANAGED_LABELS = {
    "app": "{name}",
    "app.kubernetes.io/instance": "{name}",
    "app.kubernetes.io/name": "flink",
    "app.kubernetes.io/managed-by": "airflow-provider-flink-k8s",
}
# The labels the provider puts on the pods of the operator target (its pod template).
_POD_IDENTITY_LABELS = ("app.kubernetes.io/instance", "app.kubernetes.io/name")

_STATIC_ORIGINS = {
    "name": "metadata.name",
    "namespace": "metadata.namespace",
    "labels": "metadata.labels",
    "annotations": "metadata.annotations",
    "image": "spec.image",
    "image_pull_policy": "spec.imagePullPolicy",
    "service_account": "spec.serviceAccount",
    "flink_version": "spec.flinkVersion",
    "flink_configuration": "spec.flinkConfiguration",
    "log_configuration": "spec.logConfiguration",
    "pod_template": "spec.podTemplate",
    "job": "spec.job",
    "mode": "spec.job",
    "operator.overrides": "spec",
    "operator.deployment_mode": "spec.mode",
    "taskmanager.slots": item_path("spec.flinkConfiguration", SLOTS_KEY),
    "job.max_parallelism": item_path("spec.flinkConfiguration", MAX_PARALLELISM_KEY),
    **{
        f"{role}.{field}": f"spec.{crd}.{crd_field}"
        for crd, role in ROLES.items()
        for field, crd_field in (
            ("replicas", "replicas"),
            ("pod_template", "podTemplate"),
            ("cpu", "resource.cpu"),
            ("memory", "resource.memory"),
        )
    },
}


def is_operator_manifest(data: Mapping[str, Any]) -> bool:
    """Whether a parsed document is a Kubernetes manifest rather than a spec.

    A spec has neither ``apiVersion`` nor ``kind``; anything that has one is read as a
    FlinkDeployment, which refuses other kinds by name.
    """
    return "apiVersion" in data or "kind" in data


def read_flink_deployment(
    manifest: Mapping[str, Any], *, target: Literal["standalone", "operator"] = "operator"
) -> FlinkCluster:
    """Read a FlinkDeployment into a validated :class:`FlinkCluster` for ``target``.

    :raises SpecError: listing every problem, each naming the FlinkDeployment field.
    """
    reader = _DeploymentReader()
    # The spec keeps parts of the manifest (pod templates, the spelling): its own copies.
    data = reader.read(copy.deepcopy(manifest))
    if reader.problems:
        raise SpecError(reader.problems, subject=FLINK_DEPLOYMENT_KIND)
    try:
        # The reader has warned about its memory values, naming the manifest's fields.
        return FlinkCluster.model_validate(
            {**data, "target": target}, context={MEMORY_WARNINGS_GIVEN: True}
        )
    except SpecError as exc:
        problems = reader.translate(exc.problems)
        raise SpecError(problems, subject=FLINK_DEPLOYMENT_KIND) from None


class _DeploymentReader(ManifestReader):
    """One FlinkDeployment -> the keyword arguments of a :class:`FlinkCluster`."""

    def __init__(self) -> None:
        super().__init__(FLINK_DEPLOYMENT_KIND, _STATIC_ORIGINS)
        self.overrides: dict[str, Any] = {}
        self.spelling: dict[str, Any] = {}

    def read(self, manifest: Any) -> dict[str, Any]:
        document = self.check_type(manifest, FLINK_DEPLOYMENT_KIND)
        if document is None:
            return {}
        if "status" in document:
            self.problem(
                "status",
                "is written by the operator; read the manifest as applied, without status",
            )
            document.pop("status")
        document = self.mapping(document, "", frozenset({"apiVersion", "kind", "metadata", "spec"}))
        cluster = self.metadata(document.get("metadata"))
        self._managed_labels(cluster)
        if document.get("spec") is None:
            self.problem("spec", "required")
            return cluster
        spec = self.mapping(document.get("spec"), "spec", _SPEC_FIELDS)
        cluster.update(self._scalars(spec))
        limit_factors = self._roles(spec, cluster)
        job = None
        if spec.get("job") is not None:
            job, nonces = self.job(spec["job"], "spec.job")
            if nonces:
                self.overrides["job"] = nonces
        configuration = self.mapping(spec.get("flinkConfiguration"), "spec.flinkConfiguration")
        self.spelling["flink_configuration"] = configuration
        cluster.update(read_flink_configuration(self, configuration, cluster, job, limit_factors))
        if job is not None:
            cluster["job"] = job
        self._pod_template(spec.get("podTemplate"), cluster)
        if spec.get("logConfiguration") is not None:
            cluster["log_configuration"] = self.string_map(
                spec["logConfiguration"], "spec.logConfiguration"
            )
        cluster["operator"] = self._operator(spec)
        return cluster

    def _roles(self, spec: dict[str, Any], cluster: dict[str, Any]) -> dict[str, tuple[float, str]]:
        """``jobmanager``/``taskmanager`` into ``cluster``; returns the limit factors their
        ``resources`` imply."""
        limit_factors: dict[str, tuple[float, str]] = {}
        for crd, role in ROLES.items():
            reading = read_role(self, spec.get(crd), crd, role)
            cluster[role] = reading.fields
            if reading.overrides:
                self.overrides[crd] = reading.overrides
            if reading.written_resources is not None:
                self.spelling[f"{role}_resources"] = reading.written_resources
            limit_factors.update(reading.limit_factors)
        return limit_factors

    def _operator(self, spec: dict[str, Any]) -> dict[str, Any]:
        """``operator``: the deployment mode, the fields kept verbatim, the spelling."""
        if spec.get("ingress") is not None:
            self.overrides["ingress"] = self.mapping(spec["ingress"], "spec.ingress")
        nonce = self.typed(spec.get("restartNonce"), "spec.restartNonce", int)
        if nonce is not None:
            self.overrides["restartNonce"] = nonce
        operator: dict[str, Any] = {"overrides": self.overrides, "spelling": self.spelling}
        mode = self.typed(spec.get("mode"), "spec.mode", str)
        if mode is not None:
            operator["deployment_mode"] = mode
        return operator

    def _scalars(self, spec: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for crd, field in _SCALARS.items():
            value = self.typed(spec.get(crd), f"spec.{crd}", str)
            if value is not None:
                out[field] = value
        if spec.get("flinkVersion") is None:
            self.problem(
                "spec.flinkVersion", "required: the operator refuses a deployment without one"
            )
        return out

    def _managed_labels(self, cluster: dict[str, Any]) -> None:
        """Drop the provider's own labels when they hold what it sets anyway (a
        FlinkDeployment this provider rendered); the spec refuses other values."""
        labels = cluster.get("labels")
        if not labels or "name" not in cluster:
            return
        for key, template in _MANAGED_LABELS.items():
            if labels.get(key) == template.format(name=cluster["name"]):
                del labels[key]

    def _pod_template(self, value: Any, cluster: dict[str, Any]) -> None:
        if value is None:
            return
        template = self.mapping(value, "spec.podTemplate")
        labels = (template.get("metadata") or {}).get("labels") or {}
        expected = {
            "app.kubernetes.io/instance": cluster.get("name"),
            "app.kubernetes.io/name": "flink",
        }
        for key in _POD_IDENTITY_LABELS:
            if key in labels and labels[key] != expected[key]:
                self.problem(
                    item_path("spec.podTemplate.metadata.labels", key),
                    f"the provider sets it to {expected[key]!r} on the cluster's pods to "
                    "find them; remove it or use another key",
                )
        cluster["pod_template"] = template
