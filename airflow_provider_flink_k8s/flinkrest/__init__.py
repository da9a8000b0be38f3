"""The pure half of the Flink REST client: endpoints, calls, answers, errors and retries.

No I/O, no Airflow, no HTTP library: :class:`FlinkEndpoint` says where Flink is,
:mod:`.requests` builds each :class:`RestCall` (what to send, how to read the answer),
:mod:`.models` types the answers, :mod:`.errors` turns error answers into the provider's
exceptions, and :class:`RetryPolicy` decides what to repeat. The sync and async hooks
(:mod:`airflow_provider_flink_k8s.hooks.flink_rest`) send the calls.
"""

from __future__ import annotations

from airflow_provider_flink_k8s.flinkrest.endpoint import (
    DEFAULT_REST_PORT,
    DEFAULT_TIMEOUT,
    FlinkEndpoint,
    FlinkRestService,
    Route,
    endpoint_from_connection,
    kubernetes_auth_headers,
    kubernetes_tls,
    rest_service_name,
)
from airflow_provider_flink_k8s.flinkrest.errors import (
    error_from_answer,
    flink_messages,
    parse_retry_after,
    redact,
    summarize_java_error,
)
from airflow_provider_flink_k8s.flinkrest.models import (
    TERMINAL_JOB_STATES,
    CheckpointCounts,
    CheckpointStatistics,
    CheckpointSummary,
    ClusterOverview,
    DashboardConfig,
    ExceptionEntry,
    ExceptionHistory,
    FlinkModel,
    JarEntry,
    JarFile,
    JobDetails,
    JobExceptions,
    JobOverview,
    JobVertex,
    LatestCheckpoints,
    ParallelismBounds,
    RestoredCheckpoint,
    SavepointStatus,
    TaskManagerHardware,
    TaskManagerInfo,
    TaskManagerMemory,
    TaskManagerResource,
    VertexResourceRequirements,
)
from airflow_provider_flink_k8s.flinkrest.requests import (
    FormatType,
    RestCall,
    new_trigger_id,
    rescaled_requirements,
)
from airflow_provider_flink_k8s.flinkrest.retries import RetryPolicy

__all__ = [
    "CheckpointCounts",
    "CheckpointStatistics",
    "CheckpointSummary",
    "ClusterOverview",
    "DEFAULT_REST_PORT",
    "DEFAULT_TIMEOUT",
    "DashboardConfig",
    "ExceptionEntry",
    "ExceptionHistory",
    "FlinkEndpoint",
    "FlinkModel",
    "FlinkRestService",
    "FormatType",
    "JarEntry",
    "JarFile",
    "JobDetails",
    "JobExceptions",
    "JobOverview",
    "JobVertex",
    "LatestCheckpoints",
    "ParallelismBounds",
    "RestCall",
    "RestoredCheckpoint",
    "RetryPolicy",
    "Route",
    "SavepointStatus",
    "TERMINAL_JOB_STATES",
    "TaskManagerHardware",
    "TaskManagerInfo",
    "TaskManagerMemory",
    "TaskManagerResource",
    "VertexResourceRequirements",
    "endpoint_from_connection",
    "error_from_answer",
    "flink_messages",
    "kubernetes_auth_headers",
    "kubernetes_tls",
    "new_trigger_id",
    "parse_retry_after",
    "redact",
    "rescaled_requirements",
    "rest_service_name",
    "summarize_java_error",
]
