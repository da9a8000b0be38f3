"""What a DAG author writes: the :class:`FlinkCluster` spec and how to load it."""

from __future__ import annotations

from airflow_provider_flink_k8s.spec.cluster import (
    FlinkCluster,
    HighAvailabilitySpec,
    JobManagerSpec,
    JobSpec,
    RestServiceSpec,
    TaskManagerSpec,
)
from airflow_provider_flink_k8s.spec.loading import load_cluster

__all__ = [
    "FlinkCluster",
    "HighAvailabilitySpec",
    "JobManagerSpec",
    "JobSpec",
    "RestServiceSpec",
    "TaskManagerSpec",
    "load_cluster",
]
