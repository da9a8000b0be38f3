"""CustomResourceDefinitions: the Flink operator's CRD becomes a served, validated API."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.dynamic import DynamicClient

Status = Callable[..., dict[str, Any]]
GROUP, VERSION, PLURAL = "flink.apache.org", "v1beta1", "flinkdeployments"
CRD_NAME = f"{PLURAL}.{GROUP}"
MERGE = "application/merge-patch+json"


def _flink(name: str, task_managers: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "FlinkDeployment",
        "metadata": {"name": name},
        "spec": {
            "image": "flink:1.20",
            "flinkVersion": "v1_20",
            "serviceAccount": "flink",
            "jobManager": {"resource": {"memory": "2048m", "cpu": 1}},
            "taskManager": {"replicas": task_managers, "resource": {"memory": "2048m", "cpu": 1}},
        },
    }


def _wait(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def _established(extensions: client.ApiextensionsV1Api) -> bool:
    crd = extensions.read_custom_resource_definition(CRD_NAME)
    conditions = crd.status.conditions or []
    return any(c.type == "Established" and c.status == "True" for c in conditions)


@pytest.fixture(scope="module")
def installed(
    extensions: client.ApiextensionsV1Api, flink_crd: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """The FlinkDeployment CRD, created once for the module and Established."""
    extensions.create_custom_resource_definition(flink_crd)
    _wait(lambda: _established(extensions))
    yield flink_crd


def _groups(api_client: client.ApiClient) -> list[str]:
    return [g.name for g in client.ApisApi(api_client).get_api_versions().groups]


def test_crd_is_served_once_established(
    api_client: client.ApiClient, installed: dict[str, Any], extensions: client.ApiextensionsV1Api
) -> None:
    assert GROUP in _groups(api_client)
    crd = extensions.read_custom_resource_definition(CRD_NAME)
    assert crd.status.accepted_names.kind == "FlinkDeployment"
    assert crd.status.stored_versions == [VERSION]
    resources = api_client.call_api(
        f"/apis/{GROUP}/{VERSION}",
        "GET",
        response_types_map={200: "object"},
        _return_http_data_only=True,
    )["resources"]
    by_name = {r["name"]: r for r in resources}
    assert by_name[PLURAL]["shortNames"] == ["flinkdep"]
    assert by_name[PLURAL]["namespaced"] is True
    assert by_name[f"{PLURAL}/status"]["kind"] == "FlinkDeployment"
    assert by_name[f"{PLURAL}/scale"] == {
        "name": f"{PLURAL}/scale",
        "singularName": "",
        "namespaced": True,
        "group": "autoscaling",
        "version": "v1",
        "kind": "Scale",
        "verbs": ["get", "patch", "update"],
    }


def test_dynamic_client_discovers_the_custom_kind(
    api_client: client.ApiClient, installed: dict[str, Any], namespace: str
) -> None:
    dynamic = DynamicClient(api_client)
    resource = dynamic.resources.get(api_version=f"{GROUP}/{VERSION}", kind="FlinkDeployment")
    assert resource.name == PLURAL
    assert set(resource.subresources) == {"status", "scale"}
    resource.create(body=_flink("dyn"), namespace=namespace)
    assert [i.metadata.name for i in resource.get(namespace=namespace).items] == ["dyn"]


def test_valid_custom_resource(
    custom: client.CustomObjectsApi, installed: dict[str, Any], namespace: str
) -> None:
    body = _flink("orders")
    body["status"] = {"lifecycleState": "STABLE"}
    created = custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    assert created["metadata"]["generation"] == 1
    assert "status" not in created  # a create cannot set the status subresource
    assert created["apiVersion"] == f"{GROUP}/{VERSION}"


def test_schema_violations_are_invalid(
    custom: client.CustomObjectsApi, installed: dict[str, Any], namespace: str, fail_status: Status
) -> None:
    body = _flink("bad")
    body["spec"]["flinkVersion"] = "v9_9"
    body["spec"]["taskManager"]["replicas"] = "two"
    status = fail_status(
        custom.create_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL, body
    )
    assert status["code"] == 422
    assert status["reason"] == "Invalid"
    assert status["details"]["group"] == GROUP
    assert status["details"]["kind"] == "FlinkDeployment"
    assert status["details"]["name"] == "bad"
    causes = {c["field"]: c for c in status["details"]["causes"]}
    assert causes["spec.taskManager.replicas"] == {
        "reason": "FieldValueTypeInvalid",
        "message": 'Invalid value: "string": spec.taskManager.replicas in body must be of type '
        'integer: "string"',
        "field": "spec.taskManager.replicas",
    }
    assert causes["spec.flinkVersion"]["reason"] == "FieldValueNotSupported"
    assert causes["spec.flinkVersion"]["message"].startswith(
        'Unsupported value: "v9_9": supported values: "v1_13", "v1_14"'
    )
    assert status["message"].startswith('FlinkDeployment.flink.apache.org "bad" is invalid: [')


def test_unknown_fields_are_pruned(
    custom: client.CustomObjectsApi, installed: dict[str, Any], namespace: str
) -> None:
    body = _flink("pruned")
    body["spec"]["bogus"] = True
    body["spec"]["flinkConfiguration"] = {"anything": "goes"}  # preserve-unknown-fields
    created = custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    assert "bogus" not in created["spec"]
    assert created["spec"]["flinkConfiguration"] == {"anything": "goes"}


def test_status_subresource_rules(
    custom: client.CustomObjectsApi, installed: dict[str, Any], namespace: str
) -> None:
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, _flink("job"))
    status_body = {"status": {"lifecycleState": "DEPLOYED"}, "spec": {"image": "ignored"}}
    with_status = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "job", status_body
    )
    assert with_status["status"] == {"lifecycleState": "DEPLOYED"}
    assert with_status["spec"]["image"] == "flink:1.20"
    assert with_status["metadata"]["generation"] == 1
    main = custom.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "job", {"status": {"lifecycleState": "FAILED"}}
    )
    assert main["status"] == {"lifecycleState": "DEPLOYED"}
    labelled = custom.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "job", {"metadata": {"labels": {"a": "b"}}}
    )
    assert labelled["metadata"]["generation"] == 1
    changed = custom.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "job", {"spec": {"image": "flink:2.0"}}
    )
    assert changed["metadata"]["generation"] == 2


def test_strategic_merge_patch_is_unsupported(
    api_client: client.ApiClient,
    installed: dict[str, Any],
    namespace: str,
    custom: client.CustomObjectsApi,
) -> None:
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, _flink("smp"))
    with pytest.raises(client.ApiException) as caught:
        api_client.call_api(
            f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/smp",
            "PATCH",
            body={"spec": {"image": "x"}},
            header_params={"Content-Type": "application/strategic-merge-patch+json"},
            _return_http_data_only=True,
        )
    status = json.loads(caught.value.body)
    assert (status["code"], status["reason"]) == (415, "UnsupportedMediaType")
    assert status["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    )


def test_scale_subresource(
    custom: client.CustomObjectsApi, installed: dict[str, Any], namespace: str
) -> None:
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, _flink("scaled", 2))
    custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        "scaled",
        {
            "status": {
                "taskManager": {"replicas": 2, "labelSelector": "app=scaled,component=taskmanager"}
            }
        },
    )
    scale = custom.get_namespaced_custom_object_scale(GROUP, VERSION, namespace, PLURAL, "scaled")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 2, "selector": "app=scaled,component=taskmanager"}
    scaled = custom.patch_namespaced_custom_object_scale(
        GROUP, VERSION, namespace, PLURAL, "scaled", {"spec": {"replicas": 4}}
    )
    assert scaled["spec"] == {"replicas": 4}
    stored = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "scaled")
    assert stored["spec"]["taskManager"]["replicas"] == 4
    assert stored["metadata"]["generation"] == 2


def test_server_side_apply_of_a_custom_resource(
    custom: client.CustomObjectsApi, installed: dict[str, Any], namespace: str, fail_status: Status
) -> None:
    custom.patch_namespaced_custom_object(  # creates: 201, which this client returns as None
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        "ssa",
        _flink("ssa"),
        field_manager="deployer",
        _content_type="application/apply-patch+yaml",
    )
    applied = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "ssa")
    assert [(m["manager"], m["operation"]) for m in applied["metadata"]["managedFields"]] == [
        ("deployer", "Apply")
    ]
    other = copy.deepcopy(_flink("ssa", 5))
    status = fail_status(
        custom.patch_namespaced_custom_object,
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        "ssa",
        other,
        field_manager="autoscaler",
        _content_type="application/apply-patch+yaml",
    )
    assert status["message"] == (
        'Apply failed with 1 conflict: conflict with "deployer": .spec.taskManager.replicas'
    )


def test_deleting_the_crd_removes_its_objects_and_api(
    api_client: client.ApiClient,
    extensions: client.ApiextensionsV1Api,
    custom: client.CustomObjectsApi,
    installed: dict[str, Any],
    namespace: str,
) -> None:
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, _flink("last"))
    extensions.delete_custom_resource_definition(CRD_NAME)
    _wait(lambda: GROUP not in _groups(api_client))
    with pytest.raises(client.ApiException) as caught:
        custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    assert caught.value.status == 404
    extensions.create_custom_resource_definition(installed)  # back for any later test
    _wait(lambda: _established(extensions))
    assert custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"] == []
