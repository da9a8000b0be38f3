"""Fixtures for the sandbox API server tests: one server per module, real clients only.

Each module gets its own :class:`SandboxServer` on a free 127.0.0.1 port (sync context
manager: the server's loop runs in a background thread); each test gets its own
namespace, deleted afterwards. kubectl runs with ``KUBECACHEDIR`` in a temp dir so a
reused port never serves stale discovery.

Markers say what a test needs (pyproject.toml registers them), set here in one place:
``flink`` for a test that runs Flink or its jars (``slow`` ones included), ``airflow`` for
the tests of Airflow's own Kubernetes hooks against the sandbox (``test_sandbox_airflow``),
which run on a throw-away ``AIRFLOW_HOME``, never the developer's ``~/airflow``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from k8s_fixtures import (
    KUBECTL,
    api_client,
    apps,
    core,
    custom,
    extensions,
    fail_status,
    kubeconfig,
    kubectl,
    namespace,
    status_of,
)
from kubernetes import client

from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.flinkoperator.crds import operator_crd_path
from flink_k8s_sandbox.state import WatchSettings

TESTS = Path(__file__).resolve().parent

# Airflow reads its home when first imported (by test_sandbox_airflow's module).
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="flink-k8s-sandbox-tests-airflow-"))
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

_AIRFLOW_MODULES = {"test_sandbox_airflow.py"}
_FLINK_FIXTURES = {"flink_ready", "flink_sql_runner_jar"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not item.path.is_relative_to(TESTS):
            continue
        if item.path.name in _AIRFLOW_MODULES:
            item.add_marker(pytest.mark.airflow)
        needs = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("slow") or needs & _FLINK_FIXTURES:
            item.add_marker(pytest.mark.flink)


def pytest_unconfigure() -> None:
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(scope="module")
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """A running sandbox shared by the tests of one module (short bookmark interval).

    A module setting ``SANDBOX_WORKLOADS = False`` gets no workload controllers,
    scheduler or kubelet: its tests build Deployment chains and pods by hand.
    """
    workloads = getattr(request.module, "SANDBOX_WORKLOADS", True)
    with SandboxServer(watch=WatchSettings(bookmark_interval=0.3), workloads=workloads) as server:
        yield server


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
