"""Load-based sizing: a parallelism per job vertex, computed the way Flink's autoscaler does it.

:mod:`.model` holds the values (options, metrics, decisions), :mod:`.autoscaler` the rule
(see its docstring for the formulas), :mod:`.alignment` the key-group alignment.
"""

from __future__ import annotations

from airflow_provider_flink_k8s.resources.sizing.alignment import align_parallelism
from airflow_provider_flink_k8s.resources.sizing.autoscaler import recommend_parallelism
from airflow_provider_flink_k8s.resources.sizing.model import (
    PARALLELISM_OVERRIDES_KEY,
    AlignmentMode,
    SizingOptions,
    SizingRecommendation,
    VertexDecision,
    VertexInput,
    VertexMetrics,
    parallelism_overrides,
    taskmanagers_for,
)

__all__ = [
    "AlignmentMode",
    "PARALLELISM_OVERRIDES_KEY",
    "SizingOptions",
    "SizingRecommendation",
    "VertexDecision",
    "VertexInput",
    "VertexMetrics",
    "align_parallelism",
    "parallelism_overrides",
    "recommend_parallelism",
    "taskmanagers_for",
]
