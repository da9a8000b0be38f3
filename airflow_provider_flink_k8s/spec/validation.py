"""Rules between fields of a cluster spec, collected rather than raised one at a time.

Single-field rules live on the models (pydantic refuses them first); the rules here need
the whole spec. :func:`cluster_problems` returns every broken rule so the author fixes
them in one round, like the Flink Kubernetes Operator's validator but complete. Each rule
names the fields it reads, so with some fields broken (and left out) the others are still
checked. :func:`memory_warnings` says how memory a Kubernetes user may have meant in
decimal units is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from typing import TYPE_CHECKING

from airflow_provider_flink_k8s.exceptions import FlinkConfigurationError, SpecProblem
from airflow_provider_flink_k8s.resources.configuration import (
    CHECKPOINT_DIR_KEYS,
    SAVEPOINT_DIR_KEYS,
    flink_configuration,
    ha_enabled,
    owned_key_conflicts,
)
from airflow_provider_flink_k8s.resources.memory import jobmanager_memory, taskmanager_memory
from airflow_provider_flink_k8s.spec.overrides import override_problems
from airflow_provider_flink_k8s.spec.problems import fields_overlap
from airflow_provider_flink_k8s.targets import target_of
from airflow_provider_flink_k8s.units import decimal_memory_hint

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.spec.cluster import FlinkCluster

__all__ = ["MANAGED_LABELS", "cluster_problems", "memory_warnings"]

MANAGED_LABELS = frozenset(
    {
        "app",
        "component",
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/component",
        "app.kubernetes.io/managed-by",
    }
)
"""Labels the provider sets to find a cluster's objects; users may not override them."""

_LIMIT_FACTOR_KEYS = (
    "kubernetes.jobmanager.cpu.limit-factor",
    "kubernetes.jobmanager.memory.limit-factor",
    "kubernetes.taskmanager.cpu.limit-factor",
    "kubernetes.taskmanager.memory.limit-factor",
)

Check = Callable[["FlinkCluster"], Iterator[SpecProblem]]


def cluster_problems(
    cluster: FlinkCluster, broken: Collection[str] = ()
) -> tuple[SpecProblem, ...]:
    """Every cross-field rule the cluster breaks; empty when it is valid.

    :param broken: dotted paths of fields that were broken and left out (the cluster
        holds defaults there); the rules reading them are not checked.
    """
    return tuple(
        problem
        for check, reads in _CHECKS
        if not any(fields_overlap(field, gone) for field in reads for gone in broken)
        for problem in check(cluster)
    )


def memory_warnings(cluster: FlinkCluster) -> tuple[SpecProblem, ...]:
    """The memory fields written in units a Kubernetes user reads as decimal (``"2G"``),
    each with how Flink reads it; they are accepted, so these are warnings."""
    warnings = []
    for field, memory in (
        ("jobmanager.memory", cluster.jobmanager.memory),
        ("taskmanager.memory", cluster.taskmanager.memory),
    ):
        hint = decimal_memory_hint(memory)
        if hint is not None:
            warnings.append(SpecProblem(field, hint))
    return tuple(warnings)


def _mode_and_job(cluster: FlinkCluster) -> Iterator[SpecProblem]:
    if cluster.mode == "application" and cluster.job is None:
        yield SpecProblem(
            "job", "required in application mode (give job.jar_uri), or use mode 'session'"
        )
    if cluster.mode == "session" and cluster.job is not None:
        yield SpecProblem(
            "job",
            "only allowed in application mode; submit jobs to a session "
            "cluster with FlinkSubmitJobOperator, or use mode 'application'",
        )


def _high_availability(cluster: FlinkCluster) -> Iterator[SpecProblem]:
    if cluster.jobmanager.replicas > 1 and not ha_enabled(cluster):
        yield SpecProblem(
            "jobmanager.replicas",
            f"{cluster.jobmanager.replicas} JobManagers need high availability "
            "(set high_availability.enabled and high_availability.storage_dir), or use 1",
        )


def _upgrade_mode(cluster: FlinkCluster) -> Iterator[SpecProblem]:
    job = cluster.job
    if job is None:
        return
    conf = cluster.flink_configuration
    if job.upgrade_mode == "savepoint" and not (
        cluster.savepoint_dir or any(conf.get(key) for key in SAVEPOINT_DIR_KEYS)
    ):
        yield SpecProblem(
            "job.upgrade_mode", "'savepoint' needs a savepoint directory: set savepoint_dir"
        )
    if job.upgrade_mode == "last-state":
        if not ha_enabled(cluster):
            yield SpecProblem(
                "job.upgrade_mode",
                "'last-state' needs high availability "
                "(high_availability.enabled) to find the latest checkpoint",
            )
        if not (cluster.checkpoint_dir or any(conf.get(key) for key in CHECKPOINT_DIR_KEYS)):
            yield SpecProblem(
                "job.upgrade_mode", "'last-state' needs a checkpoint directory: set checkpoint_dir"
            )


def _parallelism_fits_slots(cluster: FlinkCluster) -> Iterator[SpecProblem]:
    job, tm = cluster.job, cluster.taskmanager
    if job is None or job.parallelism is None or tm.replicas is None:
        return
    slots = tm.replicas * tm.slots
    scheduler = cluster.flink_configuration.get("scheduler-mode", "").lower()
    if job.parallelism > slots and scheduler != "reactive":
        yield SpecProblem(
            "job.parallelism",
            f"{job.parallelism} exceeds the {slots} slots of {tm.replicas} TaskManager(s) x "
            f"{tm.slots} slot(s); raise taskmanager.replicas or slots, or leave "
            "taskmanager.replicas out to derive it",
        )


def _owned_keys(cluster: FlinkCluster) -> Iterator[SpecProblem]:
    for key, field in owned_key_conflicts(cluster).items():
        yield SpecProblem(
            f"flink_configuration[{key!r}]", f"is set by the field {field}; set it there only"
        )


def _limit_factors(cluster: FlinkCluster) -> Iterator[SpecProblem]:
    for key in _LIMIT_FACTOR_KEYS:
        text = cluster.flink_configuration.get(key)
        if text is None:
            continue
        try:
            factor = float(text)
        except ValueError:
            factor = float("nan")
        if not factor >= 1.0:
            yield SpecProblem(
                f"flink_configuration[{key!r}]",
                f"must be a number >= 1.0 (limit = request x factor); got {text!r}",
            )


def _labels(cluster: FlinkCluster) -> Iterator[SpecProblem]:
    for key in sorted(MANAGED_LABELS.intersection(cluster.labels)):
        yield SpecProblem(
            f"labels[{key!r}]",
            "is set by the provider to find the cluster's objects; use another key",
        )


def _memory_model(cluster: FlinkCluster) -> Iterator[SpecProblem]:
    conf = flink_configuration(cluster)
    for field, compute in (
        ("taskmanager.memory", taskmanager_memory),
        ("jobmanager.memory", jobmanager_memory),
    ):
        try:
            compute(conf)
        except FlinkConfigurationError as exc:
            yield SpecProblem(field, f"does not fit Flink's memory model: {exc}")


def _pod_templates(cluster: FlinkCluster) -> Iterator[SpecProblem]:
    templates = (
        ("pod_template", cluster.pod_template),
        ("jobmanager.pod_template", cluster.jobmanager.pod_template),
        ("taskmanager.pod_template", cluster.taskmanager.pod_template),
    )
    for field, template in templates:
        if template is None:
            continue
        unknown = sorted(set(template) - {"metadata", "spec", "apiVersion", "kind"})
        if unknown:
            yield SpecProblem(
                field,
                "must be a Kubernetes PodTemplateSpec (metadata, spec); "
                f"unknown keys: {', '.join(unknown)}",
            )
        spec = template.get("spec")
        if spec is not None and not isinstance(spec, dict):
            yield SpecProblem(f"{field}.spec", "must be a PodSpec mapping")


_CONFIG_MAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def _log_configuration(cluster: FlinkCluster) -> Iterator[SpecProblem]:
    for name in sorted(cluster.log_configuration or {}):
        field = f"log_configuration[{name!r}]"
        if len(name) > 253 or not _CONFIG_MAP_KEY.match(name):
            yield SpecProblem(field, "must be a file name of letters, digits, '-', '_' or '.'")
        elif name in ("config.yaml", "flink-conf.yaml"):
            yield SpecProblem(
                field,
                "the Flink configuration comes from the spec; set keys in "
                "flink_configuration instead",
            )


def _standalone_entry_class(cluster: FlinkCluster) -> Iterator[SpecProblem]:
    job = cluster.job
    if not target_of(cluster).renders_workloads or job is None or job.entry_class:
        return
    path = job.jar_uri.removeprefix("local://").removeprefix("file://")
    # Flink's standalone-job entry point reads the main class only from jars in usrlib.
    if not path.startswith("/opt/flink/usrlib/"):
        yield SpecProblem(
            "job.entry_class",
            "required for a jar outside /opt/flink/usrlib "
            "on the standalone target (Flink finds the main class only there)",
        )


def _operator_overrides(cluster: FlinkCluster) -> Iterator[SpecProblem]:
    yield from override_problems(cluster.operator.overrides, cluster.target)


_OPERATOR_PREFIXES = {
    "kubernetes.operator.": "configures the Flink Kubernetes Operator",
    "job.autoscaler.": "configures the Flink Kubernetes Operator's autoscaler",
}

# Options of Flink's native Kubernetes integration that shape the pods and Services Flink
# creates itself; standalone pods are the provider's, so Flink ignores them there.
_NATIVE_ONLY_KEYS = {
    "kubernetes.secrets": "mount the Secret with a volume in pod_template",
    "kubernetes.env.secretKeyRef": "use env with valueFrom.secretKeyRef",
    "kubernetes.pod-template-file": "use pod_template",
    "kubernetes.pod-template-file.default": "use pod_template",
    "kubernetes.pod-template-file.jobmanager": "use jobmanager.pod_template",
    "kubernetes.pod-template-file.taskmanager": "use taskmanager.pod_template",
    "kubernetes.jobmanager.annotations": "use annotations or jobmanager.pod_template",
    "kubernetes.taskmanager.annotations": "use annotations or taskmanager.pod_template",
    "kubernetes.jobmanager.labels": "use labels or jobmanager.pod_template",
    "kubernetes.taskmanager.labels": "use labels or taskmanager.pod_template",
    "kubernetes.jobmanager.node-selector": "use jobmanager.pod_template (nodeSelector)",
    "kubernetes.taskmanager.node-selector": "use taskmanager.pod_template (nodeSelector)",
    "kubernetes.jobmanager.tolerations": "use jobmanager.pod_template (tolerations)",
    "kubernetes.taskmanager.tolerations": "use taskmanager.pod_template (tolerations)",
    "kubernetes.hadoop.conf.config-map.name": "mount the ConfigMap with pod_template",
    "kubernetes.container.image": "use image",
    "kubernetes.container.image.ref": "use image",
    "kubernetes.container.image.pull-policy": "use image_pull_policy",
    "kubernetes.container.image.pull-secrets": "use pod_template (imagePullSecrets)",
    "kubernetes.service-account": "use service_account",
    "kubernetes.jobmanager.service-account": "use service_account",
    "kubernetes.taskmanager.service-account": "use service_account",
    "kubernetes.rest-service.exposed.type": "use rest_service.type",
    "kubernetes.rest-service.annotations": "use rest_service.annotations",
}


def _standalone_configuration(cluster: FlinkCluster) -> Iterator[SpecProblem]:
    """Keys only the operator, or Flink's native Kubernetes integration, acts on: on the
    standalone target they would be silently ignored."""
    if not target_of(cluster).renders_workloads:
        return
    for key in cluster.flink_configuration:
        field = f"flink_configuration[{key!r}]"
        for prefix, what in _OPERATOR_PREFIXES.items():
            if key.startswith(prefix):
                yield SpecProblem(
                    field, f"{what}; the standalone target runs no operator: remove it"
                )
        if key in _NATIVE_ONLY_KEYS:
            yield SpecProblem(
                field,
                "is an option of Flink's native Kubernetes integration, which standalone "
                f"pods ignore: {_NATIVE_ONLY_KEYS[key]}",
            )


# Each rule between fields, with the fields it reads.
_CHECKS: tuple[tuple[Check, tuple[str, ...]], ...] = (
    (_mode_and_job, ("mode", "job")),
    (_high_availability, ("jobmanager.replicas", "high_availability", "flink_configuration")),
    (
        _upgrade_mode,
        ("job", "savepoint_dir", "checkpoint_dir", "high_availability", "flink_configuration"),
    ),
    (_parallelism_fits_slots, ("job", "taskmanager", "flink_configuration")),
    (_owned_keys, ("flink_configuration", "flink_version")),
    (_limit_factors, ("flink_configuration",)),
    (_labels, ("labels",)),
    (
        _memory_model,
        ("jobmanager.memory", "taskmanager.memory", "taskmanager.cpu", "flink_configuration"),
    ),
    (_pod_templates, ("pod_template", "jobmanager.pod_template", "taskmanager.pod_template")),
    (_log_configuration, ("log_configuration",)),
    (_standalone_entry_class, ("target", "job")),
    (_operator_overrides, ("operator", "target")),
    (_standalone_configuration, ("target", "flink_configuration")),
)
