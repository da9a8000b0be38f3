"""Airflow's cncf.kubernetes hooks, configured the two ways a DAG author would."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook, KubernetesHook

SANDBOX_WORKLOADS = False  # hand-made Deployment chains and pods; no controllers act on them

GROUP, VERSION, PLURAL = "flink.apache.org", "v1beta1", "flinkdeployments"


def _deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.25"}]},
            },
        },
    }


def test_hook_with_a_config_file(kubeconfig: Path, namespace: str) -> None:
    hook = KubernetesHook(conn_id=None, config_file=str(kubeconfig))
    ok, message = hook.test_connection()
    assert ok, message
    assert "'git_version': 'v1.37.0'" in message
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    hook.apply_from_yaml_file(yaml_objects=[_deployment("web"), service], namespace=namespace)
    status = hook.get_deployment_status("web", namespace=namespace)
    assert status.spec.replicas == 2
    created = hook.core_v1_client.read_namespaced_service("web", namespace)
    assert created.spec.ports[0].target_port == 80


def test_hook_with_a_connection_from_the_environment(
    kubeconfig: Path,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
    extensions: Any,
    flink_crd: dict[str, Any],
) -> None:
    connection = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}
    monkeypatch.setenv("AIRFLOW_CONN_SANDBOX", json.dumps(connection))
    extensions.create_custom_resource_definition(flink_crd)
    hook = KubernetesHook(conn_id="sandbox")
    assert hook.get_namespace() is None
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "FlinkDeployment",
        "metadata": {"name": "orders"},
        "spec": {
            "image": "flink:1.20",
            "flinkVersion": "v1_20",
            "jobManager": {"resource": {"memory": "2048m", "cpu": 1}},
            "taskManager": {"resource": {"memory": "2048m", "cpu": 1}},
        },
    }
    created = hook.create_custom_object(GROUP, VERSION, PLURAL, body, namespace=namespace)
    assert created["metadata"]["generation"] == 1
    fetched = hook.get_custom_object(GROUP, VERSION, PLURAL, "orders", namespace=namespace)
    assert fetched["metadata"]["uid"] == created["metadata"]["uid"]
    hook.delete_custom_object(GROUP, VERSION, PLURAL, "orders", namespace=namespace)
    extensions.delete_custom_resource_definition(f"{PLURAL}.{GROUP}")


def test_async_hook_reads_pods(kubeconfig: Path, namespace: str, core: Any) -> None:
    pod = {
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    }
    core.create_namespaced_pod(namespace, pod)

    async def scenario() -> Any:
        # The async hook reads the kubeconfig path from the connection's extras only.
        hook = AsyncKubernetesHook(
            conn_id=None, connection_extras={"kube_config_path": str(kubeconfig)}
        )
        found = await hook.get_pod("p", namespace)
        await hook.delete_pod("p", namespace)
        return found

    found = asyncio.run(scenario())
    assert (found.metadata.name, found.status.phase, found.status.qos_class) == (
        "p",
        "Pending",
        "BestEffort",
    )
    assert core.list_namespaced_pod(namespace).items == []
