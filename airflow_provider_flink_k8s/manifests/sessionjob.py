"""A job on a session cluster of the operator target: one ``FlinkSessionJob``.

The Flink Kubernetes Operator submits it to the session FlinkDeployment named by
``spec.deploymentName`` (the cluster's name) and reports the job in its status. The
operator fetches ``job.jarURI`` itself, so it must be a URI it can read (``https://``,
``local:///`` inside the image...), never a path on the Airflow worker.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.manifests.labels import cluster_labels
from airflow_provider_flink_k8s.spec.manifestreading import FLINK_API_VERSION
from airflow_provider_flink_k8s.spec.sessionjob import FLINK_SESSION_JOB_KIND

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.spec import FlinkCluster

__all__ = ["SESSION_JOB_NAME_MAX_LENGTH", "render_session_job", "session_job_name"]

SESSION_JOB_NAME_MAX_LENGTH = 63
"""Longest name :func:`session_job_name` makes (a DNS label, so it also fits labels)."""
_INVALID = re.compile(r"[^a-z0-9-]+")


def session_job_name(cluster_name: str, task_id: str) -> str:
    """``<cluster>-<task_id>`` as a DNS label: lower case, other characters as ``-``,
    and, when too long, cut with a short hash of the whole so names stay distinct."""
    raw = f"{cluster_name}-{task_id}".lower()
    name = _INVALID.sub("-", raw).strip("-") or "job"
    if len(name) <= SESSION_JOB_NAME_MAX_LENGTH:
        return name
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return f"{name[: SESSION_JOB_NAME_MAX_LENGTH - 9].rstrip('-')}-{digest}"


def render_session_job(
    cluster: FlinkCluster,
    name: str,
    *,
    jar_uri: str,
    entry_class: str | None = None,
    args: Sequence[str] = (),
    parallelism: int | None = None,
    initial_savepoint: str | None = None,
    allow_non_restored_state: bool = False,
) -> dict[str, Any]:
    """The FlinkSessionJob ``name`` running ``jar_uri`` on the session cluster ``cluster``.

    :param initial_savepoint: restore the job's state from this savepoint.
    :return: the manifest, labelled as the cluster's other objects.
    """
    job: dict[str, Any] = {"jarURI": jar_uri, "args": list(args), "upgradeMode": "stateless"}
    if entry_class:
        job["entryClass"] = entry_class
    if parallelism is not None:
        job["parallelism"] = parallelism
    if initial_savepoint:
        job["initialSavepointPath"] = initial_savepoint
    if allow_non_restored_state:
        job["allowNonRestoredState"] = True
    return {
        "apiVersion": FLINK_API_VERSION,
        "kind": FLINK_SESSION_JOB_KIND,
        "metadata": {
            "name": name,
            "namespace": cluster.namespace,
            "labels": cluster_labels(cluster),
        },
        "spec": {"deploymentName": cluster.name, "job": job},
    }
