"""What a DAG author writes: the :class:`~.spec.FlinkCluster` spec and how to load it.

A spec can also be read from the Flink Kubernetes Operator's own manifests:
:meth:`FlinkCluster.from_flink_deployment` (also what :func:`load_cluster` does with a
FlinkDeployment) and :meth:`SessionJobSpec.from_flink_session_job`.

Every entry point refuses a bad spec with one :class:`SpecError` (also importable from
:mod:`airflow_provider_flink_k8s.exceptions`) listing every problem, and warns with
:class:`SpecWarning` about what it accepts but may not mean what the author meant.
"""

from __future__ import annotations

from airflow_provider_flink_k8s.exceptions import SpecError, SpecProblem, SpecWarning
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
    "SpecError",
    "SpecProblem",
    "SpecWarning",
    "TaskManagerSpec",
    "load_cluster",
]
