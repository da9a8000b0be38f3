"""Access control: bearer tokens, RBAC decisions and their exact 403s, review APIs.

The module's sandbox runs with ``auth=True``; the shared fixtures (``core``, ``kubectl``,
``namespace``) act as the admin through the kubeconfig's admin token.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes_asyncio import client as aclient
from kubernetes_asyncio import config as aconfig

from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.auth import UserInfo

KUBECTL = Path(sys.executable).with_name("kubectl")
Status = Callable[..., dict[str, Any]]
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
RBAC = "rbac.authorization.k8s.io"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    tokens = {"alice-token": UserInfo("alice", "u-1", ("developers",))}
    with SandboxServer(auth=True, tokens=tokens) as server:
        yield server


class Account:
    """A ServiceAccount with a token, its clients and a kubectl runner."""

    def __init__(self, sandbox: SandboxServer, namespace: str, name: str, tmp: Path) -> None:
        self.user = f"system:serviceaccount:{namespace}:{name}"
        self.token = sandbox.auth.token_for(namespace, name)
        self.kubeconfig = sandbox.write_kubeconfig(
            tmp / f"{name}.kubeconfig", namespace, self.token
        )
        self.api = config.new_client_from_config(str(self.kubeconfig))
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self.cache = tmp / "cache"

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "KUBECACHEDIR": str(self.cache)}
        return subprocess.run(
            [str(KUBECTL), *args], capture_output=True, text=True, env=env, timeout=60
        )


def _deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    template = {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    spec = {"replicas": 0, "selector": {"matchLabels": labels}, "template": template}
    return {"metadata": {"name": name}, "spec": spec}


@pytest.fixture
def deployer(
    sandbox: SandboxServer,
    core: client.CoreV1Api,
    api_client: client.ApiClient,
    namespace: str,
    tmp_path: Path,
) -> Iterator[Account]:
    """SA ``deployer`` with a Role allowing get/list/watch/create on deployments and get
    on their scale, plus a Deployment ``web`` made by the admin."""
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "deployer"}})
    rules = [
        {
            "apiGroups": ["apps"],
            "resources": ["deployments"],
            "verbs": ["get", "list", "watch", "create"],
        },
        {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["get"]},
    ]
    rbac = client.RbacAuthorizationV1Api(api_client)
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "deploy"}, "rules": rules})
    binding = {
        "metadata": {"name": "deploy"},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "deploy"},
        "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": namespace}],
    }
    rbac.create_namespaced_role_binding(namespace, binding)
    client.AppsV1Api(api_client).create_namespaced_deployment(namespace, _deployment("web"))
    account = Account(sandbox, namespace, "deployer", tmp_path)
    yield account
    account.api.close()


def _forbidden(
    user: str, verb: str, resource: str, group: str, namespace: str, name: str = ""
) -> dict[str, Any]:
    plural = resource.split("/")[0]
    qualified = f"{plural}.{group}" if group else plural
    subject = f'{qualified} "{name}"' if name else qualified
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    details = {"name": name, "group": group, "kind": plural}
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": (
            f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
            f'in API group "{group}" {scope}'
        ),
        "reason": "Forbidden",
        "details": {k: v for k, v in details.items() if v},
        "code": 403,
    }


def test_allowed_and_denied_with_the_exact_403(
    deployer: Account, namespace: str, fail_status: Status
) -> None:
    apps, user = deployer.apps, deployer.user
    assert [d.metadata.name for d in apps.list_namespaced_deployment(namespace).items] == ["web"]
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 0
    apps.create_namespaced_deployment(namespace, _deployment("api"))
    assert apps.read_namespaced_deployment_scale("web", namespace).spec.replicas == 0

    patch = {"spec": {"replicas": 1}}
    status = fail_status(apps.patch_namespaced_deployment, "web", namespace, patch)
    assert status == _forbidden(user, "patch", "deployments", "apps", namespace, "web")
    status = fail_status(apps.patch_namespaced_deployment_scale, "web", namespace, patch)
    assert status == _forbidden(user, "patch", "deployments/scale", "apps", namespace, "web")
    status = fail_status(deployer.core.list_namespaced_pod, namespace)
    assert status == _forbidden(user, "list", "pods", "", namespace)
    status = fail_status(
        deployer.core.create_namespaced_config_map, namespace, {"metadata": {"name": "c"}}
    )
    assert status == _forbidden(user, "create", "configmaps", "", namespace)
    status = fail_status(apps.read_namespaced_deployment, "web", "default")
    assert status == _forbidden(user, "get", "deployments", "apps", "default", "web")
    status = fail_status(deployer.core.list_node)
    assert status == _forbidden(user, "list", "nodes", "", "")


def test_a_minimal_role_permits_exactly_its_verbs(
    sandbox: SandboxServer,
    core: client.CoreV1Api,
    api_client: client.ApiClient,
    namespace: str,
    tmp_path: Path,
    fail_status: Status,
) -> None:
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "reader"}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cfg"}})
    rules = [
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "verbs": ["get", "update"],
            "resourceNames": ["cfg"],
        }
    ]
    rbac = client.RbacAuthorizationV1Api(api_client)
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "cfg"}, "rules": rules})
    subjects = [{"kind": "ServiceAccount", "name": "reader"}]  # namespace defaults to the binding's
    role_ref = {"apiGroup": RBAC, "kind": "Role", "name": "cfg"}
    rbac.create_namespaced_role_binding(
        namespace, {"metadata": {"name": "cfg"}, "roleRef": role_ref, "subjects": subjects}
    )
    reader = Account(sandbox, namespace, "reader", tmp_path)
    own = reader.core.read_namespaced_config_map("cfg", namespace)
    own.data = {"k": "v"}
    assert reader.core.replace_namespaced_config_map("cfg", namespace, own).data == {"k": "v"}
    calls: dict[str, Callable[[], Any]] = {
        "list": lambda: reader.core.list_namespaced_config_map(namespace),
        "patch": lambda: reader.core.patch_namespaced_config_map("cfg", namespace, {"data": {}}),
        "delete": lambda: reader.core.delete_namespaced_config_map("cfg", namespace),
        "create": lambda: reader.core.create_namespaced_config_map(
            namespace, {"metadata": {"name": "x"}}
        ),
    }
    for verb, call in calls.items():
        name = "" if verb in ("list", "create") else "cfg"
        assert fail_status(call) == _forbidden(reader.user, verb, "configmaps", "", namespace, name)
    result = reader.kubectl("auth", "can-i", "get", "configmaps/other", "-n", namespace)
    assert (result.returncode, result.stdout.strip()) == (1, "no")
    reader.api.close()


def test_kubectl_auth_can_i_and_whoami(deployer: Account, namespace: str, kubectl: Kubectl) -> None:
    allowed = deployer.kubectl("auth", "can-i", "create", "deployments", "-n", namespace)
    assert (allowed.returncode, allowed.stdout.strip()) == (0, "yes")
    denied = deployer.kubectl("auth", "can-i", "delete", "deployments", "-n", namespace)
    assert (denied.returncode, denied.stdout.strip()) == (1, "no")
    scale = deployer.kubectl(
        "auth", "can-i", "patch", "deployments", "--subresource=scale", "-n", namespace
    )
    assert scale.stdout.strip() == "no"
    as_sa = kubectl(
        "auth", "can-i", "list", "deployments", "-n", namespace, f"--as={deployer.user}"
    )
    assert as_sa.stdout.strip() == "yes"
    assert kubectl("auth", "can-i", "*", "*", "--all-namespaces").stdout.strip() == "yes"
    whoami = json.loads(deployer.kubectl("auth", "whoami", "-o", "json").stdout)
    assert whoami["status"]["userInfo"]["username"] == deployer.user
    assert "system:serviceaccounts" in whoami["status"]["userInfo"]["groups"]
    result = deployer.kubectl("get", "pods", "-n", namespace)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f'Error from server (Forbidden): pods is forbidden: User "{deployer.user}" cannot list '
        f'resource "pods" in API group "" in the namespace "{namespace}"'
    )


def test_authentication(
    sandbox: SandboxServer, core: client.CoreV1Api, namespace: str, tmp_path: Path
) -> None:
    def get(path: str, token: str | None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(f"{sandbox.url}{path}", headers=headers)
        try:
            context = sandbox.certificate.client_context() if sandbox.certificate else None
            with urllib.request.urlopen(request, timeout=10, context=context) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert get("/api", "wrong") == (
        401,
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Unauthorized",
            "reason": "Unauthorized",
            "code": 401,
        },
    )
    assert get("/version", None)[0] == 200
    code, status = get("/api", None)
    assert (code, status["message"], status["details"]) == (
        403,
        'forbidden: User "system:anonymous" cannot get path "/api"',
        {},
    )
    assert get("/api", "alice-token")[0] == 200  # discovery is open to authenticated users
    code, status = get(f"/api/v1/namespaces/{namespace}/pods", "alice-token")
    assert (code, status["message"]) == (
        403,
        f'pods is forbidden: User "alice" cannot list resource "pods" in API group "" '
        f'in the namespace "{namespace}"',
    )
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "gone"}})
    requested = core.create_namespaced_service_account_token("gone", namespace, {"spec": {}})
    token = requested.status.token
    assert get("/apis", token)[0] == 200
    core.delete_namespaced_service_account("gone", namespace)
    assert get("/apis", token)[0] == 401  # bound to the deleted account


def test_proxy_and_kubernetes_asyncio_denials(
    deployer: Account, namespace: str, kubeconfig: Path, fail_status: Status
) -> None:
    status = fail_status(
        deployer.core.connect_get_namespaced_service_proxy_with_path, "rest:8081", namespace, "x"
    )
    assert status == _forbidden(deployer.user, "get", "services/proxy", "", namespace, "rest:8081")

    async def run() -> dict[str, Any]:
        api = await aconfig.new_client_from_config(str(deployer.kubeconfig))
        async with api:
            try:
                await aclient.AppsV1Api(api).delete_namespaced_deployment("web", namespace)
            except aclient.ApiException as error:
                return dict(json.loads(error.body))
        return {}

    expected = _forbidden(deployer.user, "delete", "deployments", "apps", namespace, "web")
    assert asyncio.run(run()) == expected


def test_server_side_apply_of_a_new_object_needs_create(
    sandbox: SandboxServer,
    core: client.CoreV1Api,
    api_client: client.ApiClient,
    namespace: str,
    tmp_path: Path,
    fail_status: Status,
) -> None:
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "patcher"}})
    rules = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["patch"]}]
    rbac = client.RbacAuthorizationV1Api(api_client)
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "p"}, "rules": rules})
    role_ref = {"apiGroup": RBAC, "kind": "Role", "name": "p"}
    subjects = [{"kind": "ServiceAccount", "name": "patcher"}]
    rbac.create_namespaced_role_binding(
        namespace, {"metadata": {"name": "p"}, "roleRef": role_ref, "subjects": subjects}
    )
    patcher = Account(sandbox, namespace, "patcher", tmp_path)
    manifest = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "new"}})
    result = subprocess.run(
        [str(KUBECTL), "apply", "--server-side", "-n", namespace, "-f", "-"],
        input=manifest,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "KUBECONFIG": str(patcher.kubeconfig),
            "KUBECACHEDIR": str(tmp_path / "c"),
        },
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        f'configmaps "new" is forbidden: User "{patcher.user}" cannot create resource '
        f'"configmaps" in API group "" in the namespace "{namespace}"'
    ) in result.stderr
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "new"}})
    patched = subprocess.run(
        [str(KUBECTL), "apply", "--server-side", "-n", namespace, "-f", "-"],
        input=manifest,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "KUBECONFIG": str(patcher.kubeconfig),
            "KUBECACHEDIR": str(tmp_path / "c"),
        },
        timeout=60,
    )
    assert patched.returncode == 0, patched.stderr
    patcher.api.close()
