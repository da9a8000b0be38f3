"""Kinds, paths and discovery."""

from __future__ import annotations

import pytest

from airflow_provider_flink_k8s.kube.resources import (
    CONFIG_MAP,
    DEPLOYMENT,
    FLINK_DEPLOYMENT,
    KNOWN_RESOURCES,
    ResourceRef,
    ResourceTable,
    discovery_path,
    refs_from_resource_list,
    split_api_version,
)

NAMESPACE = ResourceRef("", "v1", "namespaces", "Namespace", namespaced=False)


@pytest.mark.parametrize(
    ("api_version", "expected"),
    [
        ("v1", ("", "v1")),
        ("apps/v1", ("apps", "v1")),
        ("flink.apache.org/v1beta1", ("flink.apache.org", "v1beta1")),
    ],
)
def test_split_api_version(api_version: str, expected: tuple[str, str]) -> None:
    assert split_api_version(api_version) == expected


@pytest.mark.parametrize(
    ("ref", "namespace", "name", "sub", "path"),
    [
        (CONFIG_MAP, "ns", "c", None, "/api/v1/namespaces/ns/configmaps/c"),
        (DEPLOYMENT, "ns", "tm", "scale", "/apis/apps/v1/namespaces/ns/deployments/tm/scale"),
        (
            FLINK_DEPLOYMENT,
            "ns",
            "orders",
            None,
            "/apis/flink.apache.org/v1beta1/namespaces/ns/flinkdeployments/orders",
        ),
        (NAMESPACE, None, "ns", None, "/api/v1/namespaces/ns"),
        (NAMESPACE, "ignored", "ns", None, "/api/v1/namespaces/ns"),
        (CONFIG_MAP, "ns", "a/b", None, "/api/v1/namespaces/ns/configmaps/a%2Fb"),
    ],
)
def test_object_paths(
    ref: ResourceRef, namespace: str | None, name: str, sub: str | None, path: str
) -> None:
    assert ref.object_path(namespace, name, sub) == path


def test_collection_paths() -> None:
    assert DEPLOYMENT.collection_path("ns") == "/apis/apps/v1/namespaces/ns/deployments"
    assert DEPLOYMENT.collection_path(None) == "/apis/apps/v1/deployments"
    with pytest.raises(ValueError, match="cluster-scoped"):
        NAMESPACE.collection_path("ns")


def test_api_version_and_discovery_path() -> None:
    assert CONFIG_MAP.api_version == "v1"
    assert FLINK_DEPLOYMENT.api_version == "flink.apache.org/v1beta1"
    assert discovery_path("v1") == "/api/v1"
    assert discovery_path("example.com/v1") == "/apis/example.com/v1"


def test_known_kinds_are_unique() -> None:
    keys = [(ref.api_version, ref.kind) for ref in KNOWN_RESOURCES]
    assert len(keys) == len(set(keys))


def test_table_learns_from_a_resource_list() -> None:
    body = {
        "kind": "APIResourceList",
        "groupVersion": "example.com/v1",
        "resources": [
            {"name": "widgets", "singularName": "widget", "namespaced": True, "kind": "Widget"},
            {"name": "widgets/status", "namespaced": True, "kind": "Widget"},
            {"name": "gizmos", "namespaced": False, "kind": "Gizmo"},
            {"name": "broken"},
        ],
    }
    refs = refs_from_resource_list("example.com/v1", body)
    assert refs == [
        ResourceRef("example.com", "v1", "widgets", "Widget", True),
        ResourceRef("example.com", "v1", "gizmos", "Gizmo", False),
    ]
    table = ResourceTable()
    assert table.lookup("example.com/v1", "Widget") is None
    table.add(refs)
    assert table.lookup("example.com/v1", "Gizmo") == refs[1]
    assert table.lookup("apps/v1", "Deployment") == DEPLOYMENT
