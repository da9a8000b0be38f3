"""What the Kubernetes hooks do, without the I/O: requests, flows, errors, retries, watches.

The sync :class:`~airflow_provider_flink_k8s.hooks.kubernetes.FlinkKubernetesHook` and its
async twin drive the same *flows* (:mod:`.requests`): generators that yield the requests
an operation needs and return its result -- :func:`apply_flow` (server-side apply),
:func:`observe_flow` (a :class:`ClusterSnapshot`), :func:`scale_flow`,
:func:`delete_flow`, :func:`logs_flow`, :func:`events_flow`. :class:`WatchCursor` keeps a
watch's place across reconnections and relists. :func:`translate_error` is the one place
a client error becomes the provider's :class:`KubernetesApiError`, and
:class:`RetryPolicy` says which ones are worth another try.

Like the rest of the core, nothing here imports Airflow, a Kubernetes client or asyncio.
"""

from __future__ import annotations

from airflow_provider_flink_k8s.kube.apply import (
    AppliedObject,
    ApplyOutcome,
    ApplyResult,
    apply_flow,
    check_manifests,
    classify_apply,
    live_flow,
    resolve,
)
from airflow_provider_flink_k8s.kube.errors import api_error, retry_after_of, translate_error
from airflow_provider_flink_k8s.kube.observe import (
    DeployTarget,
    cluster_label_selector,
    events_flow,
    log_tails_flow,
    logs_flow,
    observe_flow,
    workload_selector,
)
from airflow_provider_flink_k8s.kube.requests import (
    FIELD_MANAGER,
    ApiRequest,
    ApiResponse,
    Flow,
    Sleep,
)
from airflow_provider_flink_k8s.kube.resources import ResourceRef, ResourceTable
from airflow_provider_flink_k8s.kube.retry import TRANSIENT_STATUSES, RetryPolicy, is_transient
from airflow_provider_flink_k8s.kube.teardown import (
    DeleteResult,
    ObjectKey,
    ScaleResult,
    delete_flow,
    remaining_flow,
    scale_flow,
)
from airflow_provider_flink_k8s.kube.watching import LineBuffer, WatchCursor, WatchEvent

__all__ = [
    "ApiRequest",
    "ApiResponse",
    "AppliedObject",
    "ApplyOutcome",
    "ApplyResult",
    "DeleteResult",
    "DeployTarget",
    "FIELD_MANAGER",
    "Flow",
    "LineBuffer",
    "ObjectKey",
    "ResourceRef",
    "ResourceTable",
    "RetryPolicy",
    "ScaleResult",
    "Sleep",
    "TRANSIENT_STATUSES",
    "WatchCursor",
    "WatchEvent",
    "api_error",
    "apply_flow",
    "check_manifests",
    "classify_apply",
    "cluster_label_selector",
    "delete_flow",
    "events_flow",
    "is_transient",
    "live_flow",
    "log_tails_flow",
    "logs_flow",
    "observe_flow",
    "remaining_flow",
    "resolve",
    "retry_after_of",
    "scale_flow",
    "translate_error",
    "workload_selector",
]
