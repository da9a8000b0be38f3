"""What a DAG author writes: the :class:`FlinkCluster` spec and how to load it.

A spec can also be read from the Flink Kubernetes Operator's own manifests:
:meth:`FlinkCluster.from_flink_deployment` (also what :func:`load_cluster` does with a
FlinkDeployment) and :meth:`SessionJobSpec.from_flink_session_job`.
"""

from __future__ import annotations

from airflow_provider_flink_k8s.spec.cluster import (
    FlinkCluster,
    FlinkDeploymentSpelling,
    HighAvailabilitySpec,
    JobManagerSpec,
    JobSpec,
    OperatorSpec,
    RestServiceSpec,
    TaskManagerSpec,
)
from airflow_provider_flink_k8s.spec.loading import load_cluster
from airflow_provider_flink_k8s.spec.sessionjob import SessionJobSpec

__all__ = [
    "FlinkCluster",
    "FlinkDeploymentSpelling",
    "HighAvailabilitySpec",
    "JobManagerSpec",
    "JobSpec",
    "OperatorSpec",
    "RestServiceSpec",
    "SessionJobSpec",
    "TaskManagerSpec",
    "load_cluster",
]
