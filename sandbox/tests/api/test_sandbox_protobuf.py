"""kubectl's typed commands at their default flags: protobuf request bodies.

``kubectl create <kind>``, ``run`` and ``expose`` send built-in objects as
``application/vnd.kubernetes.protobuf``; each object is read back with the
``kubernetes`` client (JSON) and ``kubectl get -o yaml``. Raw requests check the
errors for bad bodies and protobuf answers to a client that accepts nothing else.
"""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.protobuf import (
    MAGIC,
    PROTOBUF,
    decode_object,
    encode_object,
    only_protobuf,
)

Kubectl = Callable[..., subprocess.CompletedProcess[str]]
Obj = dict[str, Any]


def _yaml(kubectl: Kubectl, *args: str) -> Obj:
    obj: Obj = yaml.safe_load(kubectl("get", *args, "-o", "yaml").stdout)
    return obj


def test_create_namespace(kubectl: Kubectl, core: client.CoreV1Api) -> None:
    assert kubectl("create", "namespace", "pb-ns").stdout == "namespace/pb-ns created\n"
    try:
        namespace = core.read_namespace("pb-ns")
        assert namespace.status.phase == "Active"
        assert namespace.metadata.labels == {"kubernetes.io/metadata.name": "pb-ns"}
        assert _yaml(kubectl, "namespace", "pb-ns")["metadata"]["name"] == "pb-ns"
    finally:
        core.delete_namespace("pb-ns")


def test_create_deployment(kubectl: Kubectl, apps: client.AppsV1Api, namespace: str) -> None:
    out = kubectl("create", "deployment", "web", "--image=nginx", "-n", namespace).stdout
    assert out == "deployment.apps/web created\n"
    deployment = apps.read_namespaced_deployment("web", namespace)
    assert deployment.metadata.labels == {"app": "web"}
    assert deployment.spec.replicas == 1
    assert deployment.spec.selector.match_labels == {"app": "web"}
    container = deployment.spec.template.spec.containers[0]
    assert (container.name, container.image) == ("nginx", "nginx")
    # Defaulted by the shared pipeline, exactly as for a JSON body.
    assert deployment.spec.strategy.rolling_update.max_surge == "25%"
    assert deployment.spec.template.spec.restart_policy == "Always"
    assert deployment.metadata.generation == 1
    shown = _yaml(kubectl, "-n", namespace, "deployment", "web")
    assert shown["spec"]["template"]["spec"]["containers"][0]["resources"] == {}
    assert shown["spec"]["progressDeadlineSeconds"] == 600


def test_create_deployment_keeps_zero_replicas_and_ports(
    kubectl: Kubectl, apps: client.AppsV1Api, namespace: str
) -> None:
    # replicas is a Go pointer: 0 on the wire is a value, not "unset, default to 1".
    kubectl("create", "deployment", "idle", "--image=nginx", "--replicas=0", "--port=8080",
            "-n", namespace)  # fmt: skip
    deployment = apps.read_namespaced_deployment("idle", namespace)
    assert deployment.spec.replicas == 0
    port = deployment.spec.template.spec.containers[0].ports[0]
    assert (port.container_port, port.protocol) == (8080, "TCP")
    assert _yaml(kubectl, "-n", namespace, "deploy", "idle")["spec"]["replicas"] == 0


def test_create_configmap(kubectl: Kubectl, core: client.CoreV1Api, namespace: str) -> None:
    kubectl(
        "create", "configmap", "settings", "--from-literal=a=b", "--from-literal=empty=",
        "-n", namespace,
    )  # fmt: skip
    assert core.read_namespaced_config_map("settings", namespace).data == {"a": "b", "empty": ""}
    assert _yaml(kubectl, "-n", namespace, "cm", "settings")["data"] == {"a": "b", "empty": ""}


def test_create_secret(
    kubectl: Kubectl, core: client.CoreV1Api, namespace: str, tmp_path: Path
) -> None:
    blob = bytes(range(256))
    (tmp_path / "blob").write_bytes(blob)
    kubectl(
        "create", "secret", "generic", "creds", "--from-literal=a=b",
        f"--from-file=blob={tmp_path / 'blob'}", "-n", namespace,
    )  # fmt: skip
    secret = core.read_namespaced_secret("creds", namespace)
    assert secret.type == "Opaque"
    assert base64.b64decode(secret.data["a"]) == b"b"
    assert base64.b64decode(secret.data["blob"]) == blob
    shown = _yaml(kubectl, "-n", namespace, "secret", "creds")
    assert base64.b64decode(shown["data"]["blob"]) == blob


def test_create_service(kubectl: Kubectl, core: client.CoreV1Api, namespace: str) -> None:
    kubectl("create", "service", "clusterip", "api", "--tcp=80:8080", "-n", namespace)
    service = core.read_namespaced_service("api", namespace)
    assert service.spec.type == "ClusterIP"
    assert service.spec.selector == {"app": "api"}
    port = service.spec.ports[0]
    assert (port.name, port.port, port.target_port, port.protocol) == ("80-8080", 80, 8080, "TCP")
    assert service.spec.cluster_ip  # allocated, as for JSON
    shown = _yaml(kubectl, "-n", namespace, "service", "api")
    assert shown["spec"]["ports"][0]["targetPort"] == 8080


def test_run_pod(kubectl: Kubectl, core: client.CoreV1Api, namespace: str) -> None:
    assert kubectl("run", "p", "--image=nginx", "-n", namespace).stdout == "pod/p created\n"
    pod = core.read_namespaced_pod("p", namespace)
    assert pod.metadata.labels == {"run": "p"}
    assert [(c.name, c.image) for c in pod.spec.containers] == [("p", "nginx")]
    assert pod.spec.restart_policy == "Always"
    assert pod.spec.dns_policy == "ClusterFirst"
    shown = _yaml(kubectl, "-n", namespace, "pod", "p")
    assert shown["spec"]["containers"][0]["resources"] == {}
    assert shown["spec"]["terminationGracePeriodSeconds"] == 30


def test_expose_deployment(kubectl: Kubectl, core: client.CoreV1Api, namespace: str) -> None:
    kubectl("create", "deployment", "shop", "--image=nginx", "-n", namespace)
    out = kubectl("expose", "deployment", "shop", "--port=80", "-n", namespace).stdout
    assert out == "service/shop exposed\n"
    service = core.read_namespaced_service("shop", namespace)
    assert service.spec.selector == {"app": "shop"}
    assert service.metadata.labels == {"app": "shop"}
    port = service.spec.ports[0]
    assert (port.port, port.target_port, port.protocol) == (80, 80, "TCP")
    assert _yaml(kubectl, "-n", namespace, "svc", "shop")["spec"]["ports"][0]["port"] == 80


def test_create_quota_role_and_service_account(
    kubectl: Kubectl, core: client.CoreV1Api, api_client: client.ApiClient, namespace: str
) -> None:
    kubectl("create", "quota", "q", "--hard=cpu=1500m,memory=2Gi,pods=10", "-n", namespace)
    hard = core.read_namespaced_resource_quota("q", namespace).spec.hard
    assert hard == {"cpu": "1500m", "memory": "2Gi", "pods": "10"}
    assert _yaml(kubectl, "-n", namespace, "quota", "q")["spec"]["hard"]["memory"] == "2Gi"
    kubectl("create", "role", "reader", "--verb=get,list", "--resource=pods", "-n", namespace)
    role = client.RbacAuthorizationV1Api(api_client).read_namespaced_role("reader", namespace)
    assert [(r.api_groups, r.resources, r.verbs) for r in role.rules] == [
        ([""], ["pods"], ["get", "list"])
    ]
    kubectl("create", "serviceaccount", "robot", "-n", namespace)
    assert core.read_namespaced_service_account("robot", namespace).metadata.name == "robot"


# -- raw requests ---------------------------------------------------------------------


def _request(
    sandbox: SandboxServer,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str = PROTOBUF,
    accept: str = "application/json",
) -> tuple[int, str, bytes]:
    request = urllib.request.Request(
        sandbox.url + path,
        data=body,
        method=method,
        headers={"Content-Type": content_type, "Accept": accept},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def _status(sandbox: SandboxServer, path: str, body: bytes) -> tuple[int, str, str]:
    code, _, answer = _request(sandbox, "POST", path, body)
    status = json.loads(answer)
    assert status["kind"] == "Status" and status["code"] == code
    return code, status["reason"], status["message"]


def _config_map(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


def test_bad_bodies_get_a_status(sandbox: SandboxServer, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    assert _status(sandbox, path, b'{"kind": "ConfigMap"}') == (
        400,
        "BadRequest",
        "the object provided is unrecognized: "
        "provided data does not appear to be a protobuf message",
    )
    code, reason, message = _status(sandbox, path, MAGIC + b"\x0a\x05ab")
    assert (code, reason) == (400, "BadRequest")
    assert message.startswith("the object provided is unrecognized: invalid protobuf envelope")
    secret = encode_object({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})
    assert _status(sandbox, path, secret) == (
        400,
        "BadRequest",
        "the kind in the data (Secret) does not match the expected kind (ConfigMap)",
    )
    in_apps = encode_object({**_config_map("c"), "apiVersion": "apps/v1", "kind": "Deployment"})
    assert _status(sandbox, path, in_apps) == (
        400,
        "BadRequest",
        "the API version in the data (apps/v1) does not match the expected API version (v1)",
    )


def test_custom_resources_have_no_protobuf_form(
    sandbox: SandboxServer, extensions: client.ApiextensionsV1Api, namespace: str
) -> None:
    extensions.create_custom_resource_definition(
        {
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "scope": "Namespaced",
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            }
                        },
                    }
                ],
            },
        }
    )
    try:
        path = f"/apis/example.com/v1/namespaces/{namespace}/widgets"
        body = encode_object(_config_map("w"))
        assert _status(sandbox, path, body) == (
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - "
            "accepted media types include: application/json, application/yaml",
        )
        code, _, answer = _request(sandbox, "GET", path, accept=PROTOBUF)
        assert code == 406
        assert json.loads(answer)["reason"] == "NotAcceptable"
    finally:
        extensions.delete_custom_resource_definition("widgets.example.com")


def test_protobuf_answers_only_when_nothing_else_is_accepted(
    sandbox: SandboxServer, namespace: str
) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    created = {**_config_map("pb"), "data": {"k": "v"}}
    code, content_type, body = _request(
        sandbox, "POST", path, encode_object(created), accept=PROTOBUF
    )
    assert (code, content_type) == (201, PROTOBUF)
    decoded = decode_object(body)
    assert decoded["data"] == {"k": "v"} and decoded["metadata"]["namespace"] == namespace

    # client-go's typed clients list JSON too: they get JSON.
    code, content_type, body = _request(
        sandbox, "GET", f"{path}/pb", accept=f"{PROTOBUF}, application/json"
    )
    assert (code, content_type) == (200, "application/json")
    as_json = json.loads(body)
    code, content_type, body = _request(sandbox, "GET", f"{path}/pb", accept=PROTOBUF)
    assert (code, content_type) == (200, PROTOBUF)
    assert decode_object(body) == as_json

    listed = decode_object(_request(sandbox, "GET", path, accept=PROTOBUF)[2])
    assert listed["kind"] == "ConfigMapList"
    assert [item["metadata"]["name"] for item in listed["items"]] == ["pb"]
    code, content_type, body = _request(sandbox, "GET", f"{path}/missing", accept=PROTOBUF)
    assert (code, content_type) == (404, PROTOBUF)
    assert decode_object(body)["reason"] == "NotFound"
    watch = _request(sandbox, "GET", f"{path}?watch=true", accept=PROTOBUF)
    assert watch[0] == 406


def test_update_and_delete_options_bodies(
    sandbox: SandboxServer, core: client.CoreV1Api, namespace: str
) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    assert _request(sandbox, "POST", path, encode_object(_config_map("edited")))[0] == 201
    live = core.read_namespaced_config_map("edited", namespace)
    replacement = {
        **_config_map("edited"),
        "metadata": {"name": "edited", "resourceVersion": live.metadata.resource_version},
        "data": {"after": "put"},
    }
    code, _, body = _request(sandbox, "PUT", f"{path}/edited", encode_object(replacement))
    assert code == 200 and json.loads(body)["data"] == {"after": "put"}
    stale = _request(sandbox, "PUT", f"{path}/edited", encode_object(replacement))
    assert stale[0] == 409  # the old resourceVersion: the JSON path's Conflict
    options = {"apiVersion": "v1", "kind": "DeleteOptions", "dryRun": ["All"]}
    assert _request(sandbox, "DELETE", f"{path}/edited", encode_object(options))[0] == 200
    assert core.read_namespaced_config_map("edited", namespace).data == {"after": "put"}
    options = {"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"uid": "other"}}
    assert _request(sandbox, "DELETE", f"{path}/edited", encode_object(options))[0] == 409


@pytest.mark.parametrize(
    ("accept", "protobuf"),
    [
        (PROTOBUF, True),
        (f"{PROTOBUF};q=0.9", True),
        (f"{PROTOBUF}, application/json", False),
        (f"application/json;q=0, {PROTOBUF}", True),
        ("*/*", False),
        ("", False),
    ],
)
def test_accept_negotiation(accept: str, protobuf: bool) -> None:
    assert only_protobuf(accept) is protobuf
