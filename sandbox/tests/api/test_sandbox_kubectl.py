"""kubectl 1.37 with its default flags (``--validate=strict``, watch-list waits)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import yaml
from kubernetes import client

from flink_k8s_sandbox import SandboxServer

SANDBOX_WORKLOADS = False  # hand-made Deployment chains and pods; no controllers act on them

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def _deployment(name: str, replicas: int) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "main", "image": "nginx:1.25"}]},
                },
            },
        }
    )


def _get(kubectl: Kubectl, *args: str) -> Any:
    return json.loads(kubectl("get", *args, "-o", "json", "--show-managed-fields").stdout)


def test_version_and_api_resources(kubectl: Kubectl) -> None:
    assert "Server Version: v1.37.0" in kubectl("version").stdout
    rows = [line.split() for line in kubectl("api-resources", "--no-headers").stdout.splitlines()]
    by_name = {row[0]: row[1:] for row in rows}
    assert by_name["deployments"] == ["deploy", "apps/v1", "true", "Deployment"]
    assert by_name["pods"] == ["po", "v1", "true", "Pod"]
    assert by_name["namespaces"] == ["ns", "v1", "false", "Namespace"]
    assert by_name["customresourcedefinitions"] == [
        "crd,crds",
        "apiextensions.k8s.io/v1",
        "false",
        "CustomResourceDefinition",
    ]


def test_server_side_apply(kubectl: Kubectl, namespace: str) -> None:
    first = kubectl(
        "apply", "--server-side", "-n", namespace, "-f", "-", stdin=_deployment("web", 2)
    )
    assert first.stdout == "deployment.apps/web serverside-applied\n"
    assert first.stderr == ""
    live = _get(kubectl, "-n", namespace, "deployment", "web")
    assert live["spec"]["replicas"] == 2
    assert [(m["manager"], m["operation"]) for m in live["metadata"]["managedFields"]] == [
        ("kubectl", "Apply")
    ]
    kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=_deployment("web", 3))
    assert _get(kubectl, "-n", namespace, "deployment", "web")["metadata"]["generation"] == 2
    clash = kubectl(
        "apply",
        "--server-side",
        "--field-manager=other",
        "-n",
        namespace,
        "-f",
        "-",
        stdin=_deployment("web", 5),
        check=False,
    )
    assert clash.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas' in clash.stderr


def test_client_side_apply(kubectl: Kubectl, namespace: str) -> None:
    created = kubectl("apply", "-n", namespace, "-f", "-", stdin=_deployment("web", 1))
    assert (created.stdout, created.stderr) == ("deployment.apps/web created\n", "")
    configured = kubectl("apply", "-n", namespace, "-f", "-", stdin=_deployment("web", 4))
    assert (configured.stdout, configured.stderr) == ("deployment.apps/web configured\n", "")
    unchanged = kubectl("apply", "-n", namespace, "-f", "-", stdin=_deployment("web", 4))
    assert unchanged.stdout == "deployment.apps/web unchanged\n"
    live = _get(kubectl, "-n", namespace, "deployment", "web")
    assert live["spec"]["replicas"] == 4
    assert "kubectl.kubernetes.io/last-applied-configuration" in live["metadata"]["annotations"]
    managers = {m["manager"] for m in live["metadata"]["managedFields"]}
    assert managers == {"kubectl-client-side-apply"}


def test_strict_validation_is_the_servers(kubectl: Kubectl, namespace: str) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\nbogus: 1\n"
    result = kubectl("apply", "-n", namespace, "-f", "-", stdin=manifest, check=False)
    assert result.returncode == 1
    assert (
        'Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" '
        'cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"'
    ) in result.stderr


def test_get_lists_with_selectors(kubectl: Kubectl, namespace: str) -> None:
    for name, tier in (("a", "web"), ("b", "db")):
        metadata = {"name": name, "labels": {"tier": tier}}
        manifest = yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata})
        kubectl("apply", "-n", namespace, "-f", "-", stdin=manifest)
    listed = _get(kubectl, "-n", namespace, "configmaps", "-l", "tier=web")
    assert listed["kind"] == "List"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["a"]
    names = kubectl("get", "-n", namespace, "cm", "-o", "name", "--field-selector=metadata.name=b")
    assert names.stdout == "configmap/b\n"


def test_delete_waits_through_a_watch_list(
    kubectl: Kubectl, core: client.CoreV1Api, namespace: str
) -> None:
    body = {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}
    core.create_namespaced_config_map(namespace, body)

    def release() -> None:
        time.sleep(0.5)
        patch = [{"op": "remove", "path": "/metadata/finalizers"}]
        core.patch_namespaced_config_map("held", namespace, patch)

    releaser = threading.Thread(target=release)
    releaser.start()
    began = time.monotonic()
    result = kubectl(
        "delete", "-n", namespace, "configmap", "held", "--wait", "--timeout=20s", "-v=6"
    )
    releaser.join()
    assert 0.5 <= time.monotonic() - began < 10
    assert result.stdout == f'configmap "held" deleted from {namespace} namespace\n'
    assert "sendInitialEvents=true" in result.stderr
    assert "falling back" not in result.stderr


def test_scale_and_wait_for_a_crd(
    kubectl: Kubectl, flink_crd: dict[str, Any], namespace: str
) -> None:
    kubectl("apply", "--server-side", "-f", "-", stdin=yaml.safe_dump(flink_crd))
    kubectl(
        "wait",
        "--for=condition=Established",
        "crd/flinkdeployments.flink.apache.org",
        "--timeout=10s",
    )
    flink = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "orders"},
        "spec": {
            "image": "flink:1.20",
            "flinkVersion": "v1_20",
            "serviceAccount": "flink",
            "jobManager": {"resource": {"memory": "2048m", "cpu": 1}},
            "taskManager": {"replicas": 1, "resource": {"memory": "2048m", "cpu": 1}},
        },
    }
    applied = kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(flink))
    assert applied.stdout == "flinkdeployment.flink.apache.org/orders created\n"
    scaled = kubectl("scale", "-n", namespace, "flinkdep/orders", "--replicas=3")
    assert scaled.stdout == "flinkdeployment.flink.apache.org/orders scaled\n"
    live = _get(kubectl, "-n", namespace, "flinkdeployment", "orders")
    assert live["spec"]["taskManager"]["replicas"] == 3
    flink["spec"]["flinkVersion"] = "v0_1"
    flink["metadata"]["name"] = "broken"
    refused = kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(flink), check=False)
    assert refused.returncode == 1
    assert (
        'The FlinkDeployment "broken" is invalid: spec.flinkVersion: Unsupported value: "v0_1"'
        in refused.stderr
    )
    kubectl("delete", "crd", "flinkdeployments.flink.apache.org", "--wait", "--timeout=20s")


def test_sandbox_url_in_kubeconfig(sandbox: SandboxServer, kubectl: Kubectl) -> None:
    view = yaml.safe_load(kubectl("config", "view", "-o", "yaml").stdout)
    assert view["clusters"][0]["cluster"]["server"] == sandbox.url
    assert sandbox.url.startswith("http://127.0.0.1:")


def test_patch_label_and_namespace_deletion(kubectl: Kubectl) -> None:
    kubectl(
        "apply", "-f", "-", stdin="apiVersion: v1\nkind: Namespace\nmetadata: {name: scratch}\n"
    )
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: '1'}\n"
    kubectl("apply", "-n", "scratch", "-f", "-", stdin=manifest)
    kubectl("patch", "-n", "scratch", "cm", "cm", "--type=merge", "-p", '{"data":{"b":"2"}}')
    kubectl(
        "patch",
        "-n",
        "scratch",
        "cm",
        "cm",
        "--type=json",
        "-p",
        '[{"op":"remove","path":"/data/a"}]',
    )
    kubectl("label", "-n", "scratch", "cm", "cm", "tier=web")
    live = _get(kubectl, "-n", "scratch", "configmap", "cm")
    assert live["data"] == {"b": "2"}
    assert live["metadata"]["labels"] == {"tier": "web"}
    deleted = kubectl("delete", "namespace", "scratch", "--wait", "--timeout=20s")
    assert deleted.stdout == 'namespace "scratch" deleted\n'
    missing = kubectl("get", "namespace", "scratch", check=False)
    assert missing.returncode == 1
    assert missing.stderr == 'Error from server (NotFound): namespaces "scratch" not found\n'
