"""Discovery, OpenAPI and health endpoints, as the clients read them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.dynamic import DynamicClient


def _get(api_client: client.ApiClient, path: str, accept: str = "application/json") -> Any:
    response = api_client.call_api(
        path,
        "GET",
        header_params={"Accept": accept},
        _preload_content=False,
        _return_http_data_only=True,
    )
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.data)


def test_version(api_client: client.ApiClient) -> None:
    info = client.VersionApi(api_client).get_code()
    assert (info.major, info.minor, info.git_version) == ("1", "37", "v1.37.0")


def test_legacy_group_and_group_list(api_client: client.ApiClient, sandbox: Any) -> None:
    aggregated = (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    )
    api = _get(api_client, "/api", accept=aggregated)  # answered as plain APIVersions
    assert api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    assert api["serverAddressByClientCIDRs"][0]["serverAddress"] == f"127.0.0.1:{sandbox.port}"
    groups = {g["name"]: g for g in _get(api_client, "/apis", accept=aggregated)["groups"]}
    assert set(groups) == {
        "apps",
        "rbac.authorization.k8s.io",
        "apiextensions.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
    }
    for group in groups.values():
        assert group["preferredVersion"] in group["versions"]
    assert _get(api_client, "/apis/apps")["preferredVersion"] == {
        "groupVersion": "apps/v1",
        "version": "v1",
    }


def test_resource_lists_carry_subresources(api_client: client.ApiClient) -> None:
    apps = {r["name"]: r for r in _get(api_client, "/apis/apps/v1")["resources"]}
    assert apps["deployments"]["verbs"] == [
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ]
    assert apps["deployments"]["categories"] == ["all"]
    assert apps["deployments/scale"]["group"] == "autoscaling"
    assert apps["deployments/scale"]["version"] == "v1"
    assert apps["deployments/scale"]["kind"] == "Scale"
    assert apps["deployments/status"]["kind"] == "Deployment"
    core = {r["name"]: r for r in _get(api_client, "/api/v1")["resources"]}
    assert core["pods/log"] == {
        "name": "pods/log",
        "singularName": "",
        "namespaced": True,
        "kind": "Pod",
        "verbs": ["get"],
    }
    assert "deletecollection" not in core["namespaces"]["verbs"]


def test_dynamic_client_resolves_built_ins(api_client: client.ApiClient) -> None:
    dynamic = DynamicClient(api_client)
    deployments = dynamic.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.namespaced and deployments.short_names == ["deploy"]
    assert set(deployments.subresources) == {"scale", "status"}
    nodes = dynamic.resources.get(api_version="v1", kind="Node")
    assert [n.metadata.name for n in nodes.get().items] == [f"sandbox-node-{i}" for i in (1, 2, 3)]


def test_openapi_v3_advertises_server_side_field_validation(api_client: client.ApiClient) -> None:
    root = _get(api_client, "/openapi/v3")["paths"]
    assert set(root) == {
        "api/v1",
        "apis/apps/v1",
        "apis/rbac.authorization.k8s.io/v1",
        "apis/apiextensions.k8s.io/v1",
        "apis/authentication.k8s.io/v1",
        "apis/authorization.k8s.io/v1",
    }
    url = root["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    document = _get(api_client, url)
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert "fieldValidation" in {p["name"] for p in patch["parameters"] if p["in"] == "query"}
    assert "application/strategic-merge-patch+json" not in patch["requestBody"]["content"]


@pytest.mark.parametrize(
    "path", ["/openapi/v2", "/apis/nope/v1", "/api/v1/nothings", "/apis/apps/v2"]
)
def test_unknown_paths_are_404_statuses(api_client: client.ApiClient, path: str) -> None:
    with pytest.raises(client.ApiException) as caught:
        _get(api_client, path)
    status = json.loads(caught.value.body)
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 404, "NotFound")
    assert status["message"] == "the server could not find the requested resource"


@pytest.mark.parametrize("probe", ["/healthz", "/readyz", "/livez"])
def test_health_probes(api_client: client.ApiClient, probe: str) -> None:
    response = api_client.call_api(
        probe, "GET", _preload_content=False, _return_http_data_only=True
    )
    assert (response.status, response.data) == (200, b"ok")


def test_unsupported_verb_is_405(api_client: client.ApiClient) -> None:
    with pytest.raises(client.ApiException) as caught:
        api_client.call_api("/api/v1/namespaces", "DELETE", _return_http_data_only=True)
    status = json.loads(caught.value.body)
    assert (status["code"], status["reason"]) == (405, "MethodNotAllowed")
