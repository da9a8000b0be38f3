"""Fixtures for the sandbox API server tests: one server per module, real clients only.

Each module gets its own :class:`SandboxServer` on a free 127.0.0.1 port (sync context
manager: the server's loop runs in a background thread); each test gets its own
namespace, deleted afterwards. kubectl runs with ``KUBECACHEDIR`` in a temp dir so a
reused port never serves stale discovery.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from airflow_provider_flink_k8s.sandbox import SandboxServer
from airflow_provider_flink_k8s.sandbox.flinkoperator.crds import operator_crd_path
from airflow_provider_flink_k8s.sandbox.state import WatchSettings

KUBECTL = Path(sys.executable).with_name("kubectl")


@pytest.fixture(scope="module")
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """A running sandbox shared by the tests of one module (short bookmark interval).

    A module setting ``SANDBOX_WORKLOADS = False`` gets no workload controllers,
    scheduler or kubelet: its tests build Deployment chains and pods by hand.
    """
    workloads = getattr(request.module, "SANDBOX_WORKLOADS", True)
    with SandboxServer(watch=WatchSettings(bookmark_interval=0.3), workloads=workloads) as server:
        yield server


@pytest.fixture(scope="module")
def kubeconfig(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sandbox.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")


@pytest.fixture(scope="module")
def api_client(kubeconfig: Path) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(str(kubeconfig))
    yield api
    api.close()


@pytest.fixture(scope="module")
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture(scope="module")
def apps(api_client: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


@pytest.fixture(scope="module")
def custom(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture(scope="module")
def extensions(api_client: client.ApiClient) -> client.ApiextensionsV1Api:
    return client.ApiextensionsV1Api(api_client)


@pytest.fixture
def namespace(core: client.CoreV1Api) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    try:
        core.delete_namespace(name)
    except client.ApiException as error:
        if error.status != 404:
            raise


@pytest.fixture
def kubectl(kubeconfig: Path, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run kubectl against the module's sandbox; ``check=True`` by default."""
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(tmp_path / "cache")}

    def run(
        *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(KUBECTL), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        if check and result.returncode != 0:
            pytest.fail(f"kubectl {' '.join(args)} failed: {result.stderr}", pytrace=False)
        return result

    return run


def status_of(error: client.ApiException) -> dict[str, Any]:
    """The Status body of a failed request."""
    body: dict[str, Any] = json.loads(error.body)
    return body


@pytest.fixture
def fail_status() -> Callable[..., dict[str, Any]]:
    """Call a client method that must fail and return the ``Status`` it got."""

    def call(method: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        with pytest.raises(client.ApiException) as caught:
            method(*args, **kwargs)
        status = status_of(caught.value)
        assert status["code"] == caught.value.status
        return status

    return call


@pytest.fixture(scope="session")
def flink_crd() -> dict[str, Any]:
    """The FlinkDeployment CRD the sandbox ships (its package data)."""
    text = operator_crd_path("flinkdeployments").read_text(encoding="utf-8")
    crd: dict[str, Any] = yaml.safe_load(text)
    return crd


class ManualPod:
    """A pod no scheduler or kubelet touches, whose status a test writes itself."""

    def __init__(self, core: client.CoreV1Api, namespace: str, name: str, ip: str) -> None:
        self.core, self.namespace, self.name, self.ip = core, namespace, name, ip

    def set_ready(self, ready: bool) -> None:
        """Report the pod Running with its IP, Ready or not (the status subresource)."""
        flag = "True" if ready else "False"
        conditions = [{"type": t, "status": flag} for t in ("Ready", "ContainersReady")]
        status = {"phase": "Running", "podIP": self.ip, "podIPs": [{"ip": self.ip}]}
        body = {"status": {**status, "conditions": conditions}}
        self.core.patch_namespaced_pod_status(self.name, self.namespace, body)


@pytest.fixture
def manual_pod(sandbox: SandboxServer, core: client.CoreV1Api) -> Callable[..., ManualPod]:
    """Create a pod with a pod IP from ``sandbox.network`` (not exposed), Ready by default
    (``ready=None``: no status written, so no IP).

    Its ``schedulerName`` is one no scheduler serves, so only the test writes its status.
    """

    def make(
        namespace: str,
        name: str,
        labels: dict[str, str],
        ports: dict[str, int] | None = None,
        ready: bool | None = True,
    ) -> ManualPod:
        container: dict[str, Any] = {"name": "main", "image": "busybox"}
        if ports:
            container["ports"] = [{"name": n, "containerPort": p} for n, p in ports.items()]
        spec = {"schedulerName": "sandbox-tests", "containers": [container]}
        body = {"metadata": {"name": name, "labels": labels}, "spec": spec}
        core.create_namespaced_pod(namespace, body)
        ip = sandbox.call(lambda _: sandbox.network.allocate_pod_ip())
        pod = ManualPod(core, namespace, name, ip)
        if ready is not None:
            pod.set_ready(ready)
        return pod

    return make
