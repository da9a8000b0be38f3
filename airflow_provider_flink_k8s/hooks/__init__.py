"""Hooks: the provider's I/O seams, each built on Airflow's own hooks and the pure core.

The Kubernetes hooks (:mod:`.kubernetes`, :mod:`.kubernetes_async`) apply, observe, watch,
scale and tear down a cluster's objects through the cncf.kubernetes provider's clients.
The Flink REST hooks (:mod:`.flink_rest`, :mod:`.flink_rest_async`) talk to a JobManager
directly, through cluster DNS, or through the Kubernetes API server's service proxy.
"""

from __future__ import annotations

from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.flink_rest_async import AsyncFlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.hooks.kubernetes_async import AsyncFlinkKubernetesHook

__all__ = [
    "AsyncFlinkKubernetesHook",
    "AsyncFlinkRestHook",
    "FlinkKubernetesHook",
    "FlinkRestHook",
]
