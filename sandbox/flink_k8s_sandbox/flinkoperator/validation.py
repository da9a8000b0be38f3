"""A handful of the real operator's ``DefaultValidator`` checks, with its messages.

Each check returns the problems it finds; :func:`validate_deployment` and
:func:`validate_session_job` collect them all, in the validator's order. The reconciler
reports the first one in ``status.error``, as the operator does (its validator stops at
the first problem). What the CRD's schema already refuses (an unknown ``flinkVersion``,
a bad ``upgradeMode``) never gets here.

Checks (FlinkDeployment): ``flinkVersion`` and ``image`` set (the sandbox asks for an
image; the real operator would fall back to Flink's default one); JobManager replicas
>= 1, and 1 without Kubernetes HA; JobManager and TaskManager memory set; TaskManager
replicas >= 1 when set; application jobs: a ``jarURI``, parallelism >= 1 (without
TaskManager replicas), ``upgradeMode: savepoint`` needs a savepoint directory and
``last-state`` needs HA. FlinkSessionJob: ``deploymentName`` set and a ``job`` given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flink_k8s_sandbox.flinkoperator.status import (
    flink_configuration,
    savepoint_dir,
)

__all__ = ["validate_deployment", "validate_session_job"]

_HA_KEYS = ("high-availability.type", "high-availability")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _ha_enabled(spec: Mapping[str, Any]) -> bool:
    conf = flink_configuration(spec)
    return any(conf.get(key, "NONE").upper() not in ("NONE", "") for key in _HA_KEYS)


def _has_memory(role: Mapping[str, Any]) -> bool:
    resource = _mapping(role.get("resource"))
    if resource.get("memory"):
        return True
    resources = _mapping(role.get("resources"))
    return any(_mapping(resources.get(part)).get("memory") for part in ("requests", "limits"))


def _cluster_problems(spec: Mapping[str, Any]) -> list[str]:
    problems = []
    if not spec.get("flinkVersion"):
        problems.append("Flink Version must be defined.")
    if not spec.get("image"):
        problems.append("Image must be defined.")
    jm = _mapping(spec.get("jobManager"))
    replicas = jm.get("replicas", 1)
    if isinstance(replicas, int) and replicas < 1:
        problems.append("JobManager replicas should not be configured less than one.")
    elif isinstance(replicas, int) and replicas > 1 and not _ha_enabled(spec):
        problems.append(
            "Kubernetes High availability should be enabled when starting standby JobManagers."
        )
    if not _has_memory(jm):
        problems.append("JobManager resource memory must be defined.")
    tm = _mapping(spec.get("taskManager"))
    if not _has_memory(tm):
        problems.append("TaskManager resource memory must be defined.")
    tm_replicas = tm.get("replicas")
    if isinstance(tm_replicas, int) and tm_replicas < 1:
        problems.append("TaskManager replicas should not be configured less than one.")
    return problems


def _job_problems(spec: Mapping[str, Any]) -> list[str]:
    job = _mapping(spec.get("job"))
    if not job:
        return []
    problems = []
    if not job.get("jarURI") and not job.get("entryClass"):
        problems.append("Jar URI must be defined")
    parallelism = job.get("parallelism")
    has_replicas = _mapping(spec.get("taskManager")).get("replicas") is not None
    if not has_replicas and isinstance(parallelism, int) and parallelism < 1:
        problems.append("Job parallelism must be larger than 0")
    mode = job.get("upgradeMode", "stateless")
    if mode == "savepoint" and savepoint_dir(spec) is None:
        problems.append(
            "Job could not be upgraded with savepoint while config "
            "key[execution.checkpointing.savepoint-dir] is not set"
        )
    if mode == "last-state" and not _ha_enabled(spec):
        problems.append("Job could not be upgraded with last-state while HA disabled")
    return problems


def validate_deployment(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """Every problem of a FlinkDeployment's ``spec``, in the validator's order."""
    return (*_cluster_problems(spec), *_job_problems(spec))


def validate_session_job(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """Every problem of a FlinkSessionJob's ``spec`` on its own (the session cluster is
    checked by the reconciler)."""
    problems = []
    if not spec.get("deploymentName"):
        problems.append("The deploymentName field is required.")
    if not _mapping(spec.get("job")):
        problems.append("The job field is required.")
    return tuple(problems)
