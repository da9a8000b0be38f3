"""Helpers of the provider's real-Flink tests: pods rendered by our manifests, a REST hook.

The pods and processes themselves are the sandbox tests' (``flink_processes``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flink_processes import ClusterPods, pods_from_manifests

from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.spec import load_cluster

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["proxy_rest_hook", "render_pods"]


def render_pods(spec: Mapping[str, Any]) -> ClusterPods:
    """Render a standalone cluster's manifests and read its pods back, as a runtime would."""
    return pods_from_manifests(render_manifests(load_cluster(dict(spec))))


def proxy_rest_hook(kubeconfig: Path, cluster: str, namespace: str, conn_id: str) -> Any:
    """A :class:`FlinkRestHook` reaching ``cluster``'s JobManager through the sandbox's
    service proxy, with a one-off Kubernetes connection ``conn_id`` for ``kubeconfig``.

    The connection is read while its ``AIRFLOW_CONN_*`` variable is set, then unset again.
    """
    import pytest

    from airflow_provider_flink_k8s.flinkrest import FlinkRestService, RetryPolicy
    from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook

    connection = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))
        service = FlinkRestService.for_cluster(
            cluster, namespace, kubernetes_conn_id=conn_id, route="service_proxy"
        )
        rest = FlinkRestHook(service=service, retry=RetryPolicy.never())
        rest.get_endpoint()  # reads the connection while the variable is set
    return rest
