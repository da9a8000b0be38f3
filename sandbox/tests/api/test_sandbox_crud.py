"""Create, read, replace, list and errors, through the real ``kubernetes`` client."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client

SANDBOX_WORKLOADS = False  # hand-made Deployment chains and pods; no controllers act on them

Status = Callable[..., dict[str, Any]]


def _deployment(
    name: str, replicas: int = 1, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    labels = labels or {"app": name}
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.25"}]},
            },
        },
    }


def test_create_sets_server_fields(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "settings"}, "data": {"k": "v"}}
    )
    meta = created.metadata
    assert re.fullmatch(r"[0-9a-f-]{36}", meta.uid)
    assert meta.resource_version.isdigit()
    assert meta.creation_timestamp.tzinfo is not None
    assert meta.generation is None  # ConfigMaps keep no generation
    assert meta.managed_fields[0].manager == "OpenAPI-Generator"
    assert meta.managed_fields[0].operation == "Update"
    fetched = core.read_namespaced_config_map("settings", namespace)
    assert fetched.metadata.uid == meta.uid
    assert fetched.data == {"k": "v"}


def test_create_twice_is_already_exists(
    core: client.CoreV1Api, namespace: str, fail_status: Status
) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "twice"}})
    status = fail_status(
        core.create_namespaced_config_map, namespace, {"metadata": {"name": "twice"}}
    )
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'configmaps "twice" already exists',
        "reason": "AlreadyExists",
        "details": {"name": "twice", "kind": "configmaps"},
        "code": 409,
    }


def test_not_found_names_the_group_resource(
    apps: client.AppsV1Api, namespace: str, fail_status: Status
) -> None:
    status = fail_status(apps.read_namespaced_deployment, "missing", namespace)
    assert status["reason"] == "NotFound"
    assert status["message"] == 'deployments.apps "missing" not found'
    assert status["details"] == {"name": "missing", "group": "apps", "kind": "deployments"}


def test_create_in_missing_namespace(core: client.CoreV1Api, fail_status: Status) -> None:
    status = fail_status(core.create_namespaced_config_map, "nowhere", {"metadata": {"name": "x"}})
    assert (status["code"], status["message"]) == (404, 'namespaces "nowhere" not found')


def test_generate_name(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_config_map(namespace, {"metadata": {"generateName": "job-"}})
    assert re.fullmatch(r"job-[bcdfghjklmnpqrstvwxz2456789]{5}", created.metadata.name)


def test_missing_name_is_invalid(
    core: client.CoreV1Api, namespace: str, fail_status: Status
) -> None:
    status = fail_status(core.create_namespaced_config_map, namespace, {"metadata": {}})
    assert status["code"] == 422
    assert status["message"] == (
        'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value: name or generateName is required",
            "field": "metadata.name",
        }
    ]


def test_invalid_name(core: client.CoreV1Api, namespace: str, fail_status: Status) -> None:
    status = fail_status(
        core.create_namespaced_config_map, namespace, {"metadata": {"name": "Bad_Name"}}
    )
    assert status["code"] == 422
    assert status["message"].startswith(
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
        "a lowercase RFC 1123 subdomain must consist of"
    )


def test_schema_violations_are_invalid_with_every_cause(
    apps: client.AppsV1Api, namespace: str, fail_status: Status
) -> None:
    body = _deployment("web", replicas=-1)
    body["spec"]["template"]["spec"]["containers"] = [{"image": "nginx"}]
    status = fail_status(apps.create_namespaced_deployment, namespace, body)
    assert status["code"] == 422
    assert status["reason"] == "Invalid"
    assert status["details"]["kind"] == "Deployment"
    assert status["details"]["group"] == "apps"
    causes = {(c["field"], c["reason"]) for c in status["details"]["causes"]}
    assert causes == {
        ("spec.template.spec.containers[0].name", "FieldValueRequired"),
        ("spec.replicas", "FieldValueInvalid"),
    }
    assert (
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0" in status["message"]
    )


def test_selector_must_match_template(
    apps: client.AppsV1Api, namespace: str, fail_status: Status
) -> None:
    body = _deployment("web")
    body["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    status = fail_status(apps.create_namespaced_deployment, namespace, body)
    assert status["message"] == (
        'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: '
        'map[string]string{"app":"web"}: `selector` does not match template `labels`'
    )


def test_resource_versions_are_cluster_wide_and_monotonic(
    core: client.CoreV1Api, namespace: str
) -> None:
    versions = []
    for index in range(3):
        cm = core.create_namespaced_config_map(namespace, {"metadata": {"name": f"c{index}"}})
        versions.append(int(cm.metadata.resource_version))
    secret = core.create_namespaced_secret(namespace, {"metadata": {"name": "s"}})
    versions.append(int(secret.metadata.resource_version))
    assert versions == sorted(versions) and len(set(versions)) == 4
    listed = core.list_namespaced_config_map(namespace)
    assert int(listed.metadata.resource_version) >= versions[-1]


def test_replace_with_stale_resource_version_conflicts(
    core: client.CoreV1Api, namespace: str, fail_status: Status
) -> None:
    first = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "cfg"}, "data": {"a": "1"}}
    )
    first.data = {"a": "2"}
    second = core.replace_namespaced_config_map("cfg", namespace, first)
    assert int(second.metadata.resource_version) > int(first.metadata.resource_version)
    first.data = {"a": "3"}  # still carries the old resourceVersion
    status = fail_status(core.replace_namespaced_config_map, "cfg", namespace, first)
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    unconditional = core.replace_namespaced_config_map(
        "cfg", namespace, {"metadata": {"name": "cfg"}, "data": {"a": "4"}}
    )
    assert unconditional.data == {"a": "4"}


def test_identical_replace_keeps_resource_version(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "same"}, "data": {"a": "1"}}
    )
    again = core.replace_namespaced_config_map("same", namespace, created)
    assert again.metadata.resource_version == created.metadata.resource_version


def test_generation_counts_spec_changes_only(apps: client.AppsV1Api, namespace: str) -> None:
    created = apps.create_namespaced_deployment(namespace, _deployment("web"))
    assert created.metadata.generation == 1
    assert created.spec.strategy.rolling_update.max_surge == "25%"  # defaulted
    labelled = apps.patch_namespaced_deployment(
        "web", namespace, {"metadata": {"labels": {"x": "y"}}}
    )
    assert labelled.metadata.generation == 1
    assert int(labelled.metadata.resource_version) > int(created.metadata.resource_version)
    scaled = apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 3}})
    assert scaled.metadata.generation == 2
    status = apps.patch_namespaced_deployment_status(
        "web", namespace, {"status": {"observedGeneration": 2, "replicas": 3}}
    )
    assert status.metadata.generation == 2
    assert status.status.observed_generation == 2


def test_main_resource_ignores_status_and_status_ignores_spec(
    apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_deployment(namespace, _deployment("web"))
    body = apps.read_namespaced_deployment("web", namespace)
    body.spec.replicas = 5
    body.status = client.V1DeploymentStatus(replicas=9)
    replaced = apps.replace_namespaced_deployment("web", namespace, body)
    assert replaced.spec.replicas == 5
    assert replaced.status.replicas is None
    replaced.spec.replicas = 1
    replaced.status = client.V1DeploymentStatus(replicas=4)
    via_status = apps.replace_namespaced_deployment_status("web", namespace, replaced)
    assert (via_status.spec.replicas, via_status.status.replicas) == (5, 4)


def test_dry_run_persists_nothing(
    core: client.CoreV1Api, namespace: str, fail_status: Status
) -> None:
    dry = core.create_namespaced_config_map(namespace, {"metadata": {"name": "dry"}}, dry_run="All")
    assert dry.metadata.uid and not dry.metadata.resource_version
    fail_status(core.read_namespaced_config_map, "dry", namespace)
    status = fail_status(
        core.create_namespaced_config_map, namespace, {"metadata": {"name": "dry"}}, dry_run="Some"
    )
    assert status["code"] == 422
    assert status["message"] == (
        'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Some"}: '
        'supported values: "All"'
    )


def test_label_selectors(core: client.CoreV1Api, namespace: str, fail_status: Status) -> None:
    for name, labels in (("a", {"tier": "web", "env": "prod"}), ("b", {"tier": "db"}), ("c", {})):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name, "labels": labels}})

    def names(selector: str) -> list[str]:
        items = core.list_namespaced_config_map(namespace, label_selector=selector).items
        return [i.metadata.name for i in items]

    assert names("tier=web") == ["a"]
    assert names("tier in (web,db)") == ["a", "b"]
    assert names("tier!=web") == ["b", "c"]
    assert names("!tier") == ["c"]
    assert names("tier,env notin (dev)") == ["a", "b"]  # a missing key satisfies notin
    status = fail_status(core.list_namespaced_config_map, namespace, label_selector="tier in web")
    assert status["code"] == 400
    assert status["reason"] == "BadRequest"


def test_field_selectors(core: client.CoreV1Api, namespace: str, fail_status: Status) -> None:
    for name in ("one", "two"):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name}})
    items = core.list_namespaced_config_map(namespace, field_selector="metadata.name=two").items
    assert [i.metadata.name for i in items] == ["two"]
    everywhere = core.list_config_map_for_all_namespaces(
        field_selector=f"metadata.namespace={namespace}"
    )
    assert sorted(i.metadata.name for i in everywhere.items) == ["one", "two"]
    status = fail_status(core.list_namespaced_pod, namespace, field_selector="spec.bogus=x")
    assert (status["code"], status["message"]) == (400, "field label not supported: spec.bogus")


def test_list_pages_with_limit_and_continue(core: client.CoreV1Api, namespace: str) -> None:
    for index in range(5):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": f"page-{index}"}})
    first = core.list_namespaced_config_map(namespace, limit=2)
    assert [i.metadata.name for i in first.items] == ["page-0", "page-1"]
    assert first.metadata.remaining_item_count == 3
    second = core.list_namespaced_config_map(namespace, limit=2, _continue=first.metadata._continue)
    assert [i.metadata.name for i in second.items] == ["page-2", "page-3"]
    assert second.metadata.resource_version == first.metadata.resource_version
    last = core.list_namespaced_config_map(namespace, limit=2, _continue=second.metadata._continue)
    assert [i.metadata.name for i in last.items] == ["page-4"]
    assert last.metadata._continue is None


def test_too_large_resource_version(
    core: client.CoreV1Api, namespace: str, fail_status: Status
) -> None:
    status = fail_status(core.list_namespaced_config_map, namespace, resource_version="999999999")
    assert status["code"] == 504
    assert status["reason"] == "Timeout"
    assert status["message"].startswith("Too large resource version: 999999999, current: ")


def test_cluster_scoped_and_namespaced_paths(core: client.CoreV1Api, namespace: str) -> None:
    nodes = core.list_node().items
    assert [n.metadata.name for n in nodes] == [f"sandbox-node-{i}" for i in (1, 2, 3)]
    assert nodes[0].status.allocatable == {"cpu": "4", "memory": "16Gi", "pods": "110"}
    assert nodes[0].metadata.namespace is None
    assert core.read_namespace(namespace).status.phase == "Active"


def _post(api_client: client.ApiClient, path: str, body: Any, validation: str) -> Any:
    """POST through the client's transport; returns the raw urllib3 response."""
    return api_client.call_api(
        path,
        "POST",
        query_params=[("fieldValidation", validation)],
        body=body,
        header_params={"Content-Type": "application/json", "Accept": "application/json"},
        _preload_content=False,
        _return_http_data_only=True,
    )


@pytest.mark.parametrize(
    ("validation", "warnings"),
    [
        (
            "Warn",
            ['299 - "unknown field \\"extra\\""', '299 - "unknown field \\"metadata.bogus\\""'],
        ),
        ("Ignore", []),
    ],
)
def test_unknown_fields_are_pruned_with_warnings(
    api_client: client.ApiClient, namespace: str, validation: str, warnings: list[str]
) -> None:
    body = {"metadata": {"name": "cm", "bogus": 1}, "data": {"a": "b"}, "extra": True}
    response = _post(api_client, f"/api/v1/namespaces/{namespace}/configmaps", body, validation)
    assert response.status == 201
    assert response.headers.getlist("Warning") == warnings
    created = json.loads(response.data)
    assert "extra" not in created and "bogus" not in created["metadata"]
    assert created["data"] == {"a": "b"}


def test_strict_field_validation_refuses(api_client: client.ApiClient, namespace: str) -> None:
    body = {"metadata": {"name": "cm", "bogus": 1}, "extra": True}
    with pytest.raises(client.ApiException) as caught:
        _post(api_client, f"/api/v1/namespaces/{namespace}/configmaps", body, "Strict")
    status = json.loads(caught.value.body)
    assert (status["code"], status["reason"]) == (400, "BadRequest")
    assert status["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
        'unknown field "extra", unknown field "metadata.bogus"'
    )


def test_pod_log_and_service_proxy_without_a_runtime(
    core: client.CoreV1Api, namespace: str, fail_status: Status
) -> None:
    containers = [{"name": "a", "image": "busybox"}, {"name": "b", "image": "busybox"}]
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "p"}, "spec": {"containers": containers}}
    )
    log = core.read_namespaced_pod_log("p", namespace, container="a", _preload_content=False)
    assert (log.status, log.headers["Content-Type"], log.data) == (
        200,
        "text/plain; charset=utf-8",
        b"",
    )
    status = fail_status(core.read_namespaced_pod_log, "p", namespace)
    assert status["message"] == "a container name must be specified for pod p, choose one of: [a b]"
    status = fail_status(core.read_namespaced_pod_log, "p", namespace, container="c")
    assert status["message"] == "container c is not valid for pod p"
    spec = {"selector": {"app": "rest"}, "ports": [{"port": 8081}]}
    service = {"metadata": {"name": "rest"}, "spec": spec}
    core.create_namespaced_service(namespace, service)
    status = fail_status(
        core.connect_get_namespaced_service_proxy_with_path, "rest:8081", namespace, "v1/jobs"
    )
    assert (status["code"], status["reason"]) == (503, "ServiceUnavailable")
    assert status["message"] == 'no endpoints available for service "rest"'
