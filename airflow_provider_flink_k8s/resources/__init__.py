"""How big, how many, and where: Flink's memory model, the resource plan, placement, sizing.

Everything here is pure: given a spec (and, for placement and sizing, observed numbers)
it returns values; it never talks to a cluster.
"""

from __future__ import annotations

from airflow_provider_flink_k8s.resources.configuration import (
    flink_configuration,
    operator_flink_configuration,
)
from airflow_provider_flink_k8s.resources.memory import (
    FlinkConfigurationError,
    JobManagerMemory,
    TaskManagerMemory,
    jobmanager_memory,
    taskmanager_memory,
)
from airflow_provider_flink_k8s.resources.placement import (
    NodeCapacity,
    PlacementResult,
    PodRequest,
    QuotaStatus,
    check_placement,
)
from airflow_provider_flink_k8s.resources.plan import (
    ClusterPlan,
    ContainerResources,
    RolePlan,
    plan_cluster,
)
from airflow_provider_flink_k8s.resources.sizing import (
    AlignmentMode,
    SizingOptions,
    SizingRecommendation,
    VertexDecision,
    VertexInput,
    VertexMetrics,
    parallelism_overrides,
    recommend_parallelism,
    taskmanagers_for,
)

__all__ = [
    "AlignmentMode",
    "ClusterPlan",
    "ContainerResources",
    "FlinkConfigurationError",
    "JobManagerMemory",
    "NodeCapacity",
    "PlacementResult",
    "PodRequest",
    "QuotaStatus",
    "RolePlan",
    "SizingOptions",
    "SizingRecommendation",
    "TaskManagerMemory",
    "VertexDecision",
    "VertexInput",
    "VertexMetrics",
    "check_placement",
    "flink_configuration",
    "jobmanager_memory",
    "operator_flink_configuration",
    "parallelism_overrides",
    "plan_cluster",
    "recommend_parallelism",
    "taskmanager_memory",
    "taskmanagers_for",
]
