"""PATCH in its four content types, server-side apply conflicts and the scale subresource."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client

SANDBOX_WORKLOADS = False  # hand-made Deployment chains and pods; no controllers act on them

Status = Callable[..., dict[str, Any]]
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"


def _deployment(name: str, replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "main",
                            "image": "nginx:1.25",
                            "env": [{"name": "A", "value": "1"}],
                        }
                    ]
                },
            },
        },
    }


def test_json_patch(core: client.CoreV1Api, namespace: str, fail_status: Status) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}, "data": {"a": "1"}})
    patched = core.patch_namespaced_config_map(
        "cm",
        namespace,
        [
            {"op": "test", "path": "/data/a", "value": "1"},
            {"op": "add", "path": "/data/b", "value": "2"},
        ],
    )
    assert patched.data == {"a": "1", "b": "2"}
    status = fail_status(
        core.patch_namespaced_config_map,
        "cm",
        namespace,
        [{"op": "test", "path": "/data/a", "value": "9"}],
    )
    assert (status["code"], status["reason"]) == (422, "Invalid")


def test_merge_patch_and_noop(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "cm"}, "data": {"a": "1", "b": "2"}}
    )
    patched = core.patch_namespaced_config_map(
        "cm", namespace, {"data": {"a": None, "c": "3"}}, _content_type=MERGE
    )
    assert patched.data == {"b": "2", "c": "3"}
    assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)
    again = core.patch_namespaced_config_map(
        "cm", namespace, {"data": {"c": "3"}}, _content_type=MERGE
    )
    assert again.metadata.resource_version == patched.metadata.resource_version


def test_strategic_merge_patch_merges_containers_by_name(
    apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_deployment(namespace, _deployment("web"))
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "main", "env": [{"name": "B", "value": "2"}]}]}
            }
        }
    }
    patched = apps.patch_namespaced_deployment("web", namespace, patch)  # dict body: SMP
    (container,) = patched.spec.template.spec.containers
    assert container.image == "nginx:1.25"
    assert [(e.name, e.value) for e in container.env] == [("B", "2"), ("A", "1")]
    assert patched.metadata.generation == 2


def test_patch_missing_object_and_stale_precondition(
    core: client.CoreV1Api, namespace: str, fail_status: Status
) -> None:
    status = fail_status(core.patch_namespaced_config_map, "nope", namespace, {"data": {"a": "1"}})
    assert (status["code"], status["message"]) == (404, 'configmaps "nope" not found')
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    status = fail_status(
        core.patch_namespaced_config_map,
        "cm",
        namespace,
        {"metadata": {"resourceVersion": "1"}, "data": {"a": "1"}},
    )
    assert status["reason"] == "Conflict"


def test_patch_dry_run_changes_nothing(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}, "data": {"a": "1"}})
    dry = core.patch_namespaced_config_map("cm", namespace, {"data": {"a": "2"}}, dry_run="All")
    assert dry.data == {"a": "2"}
    assert core.read_namespaced_config_map("cm", namespace).data == {"a": "1"}


def test_strict_patch_refuses_unknown_fields(
    core: client.CoreV1Api, namespace: str, fail_status: Status
) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    status = fail_status(
        core.patch_namespaced_config_map,
        "cm",
        namespace,
        {"bogus": 1},
        field_validation="Strict",
        _content_type=MERGE,
    )
    assert status["code"] == 422
    assert status["message"].startswith(' "" is invalid: patch: Invalid value: "{')
    assert status["message"].endswith('}": strict decoding error: unknown field "bogus"')
    assert status["details"]["causes"][0]["field"] == "patch"


def test_server_side_apply_creates_then_reports_conflicts(
    apps: client.AppsV1Api, namespace: str, fail_status: Status
) -> None:
    created = apps.patch_namespaced_deployment(
        "web", namespace, _deployment("web", 2), field_manager="alice", _content_type=APPLY
    )
    assert created.metadata.generation == 1
    assert [(m.manager, m.operation) for m in created.metadata.managed_fields] == [
        ("alice", "Apply")
    ]
    status = fail_status(
        apps.patch_namespaced_deployment,
        "web",
        namespace,
        {**_deployment("web", 3)},
        field_manager="bob",
        _content_type=APPLY,
    )
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas',
        "reason": "Conflict",
        "details": {
            "causes": [
                {
                    "reason": "FieldManagerConflict",
                    "message": 'conflict with "alice"',
                    "field": ".spec.replicas",
                }
            ]
        },
        "code": 409,
    }
    forced = apps.patch_namespaced_deployment(
        "web",
        namespace,
        _deployment("web", 3),
        field_manager="bob",
        force=True,
        _content_type=APPLY,
    )
    assert forced.spec.replicas == 3
    assert forced.metadata.generation == 2


def test_apply_conflicts_with_an_update_manager(
    apps: client.AppsV1Api, namespace: str, fail_status: Status
) -> None:
    apps.create_namespaced_deployment(namespace, _deployment("web"), field_manager="creator")
    apps.patch_namespaced_deployment(
        "web", namespace, {"spec": {"replicas": 4}}, field_manager="editor"
    )
    status = fail_status(
        apps.patch_namespaced_deployment,
        "web",
        namespace,
        {**_deployment("web", 2)},
        field_manager="applier",
        _content_type=APPLY,
    )
    # The creator's fields get the same values, so only the editor's replicas conflict.
    assert status["message"] == (
        'Apply failed with 1 conflict: conflict with "editor" using apps/v1: .spec.replicas'
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "editor" using apps/v1',
            "field": ".spec.replicas",
        }
    ]


def test_apply_option_rules(apps: client.AppsV1Api, namespace: str, fail_status: Status) -> None:
    status = fail_status(
        apps.patch_namespaced_deployment, "web", namespace, _deployment("web"), _content_type=APPLY
    )
    assert status["code"] == 422
    assert status["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
        "is required for apply patch"
    )
    apps.create_namespaced_deployment(namespace, _deployment("web"))
    status = fail_status(
        apps.patch_namespaced_deployment, "web", namespace, {"spec": {"replicas": 2}}, force=True
    )
    assert status["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: '
        "may not be specified for non-apply patch"
    )


def test_scale_subresource(apps: client.AppsV1Api, namespace: str, fail_status: Status) -> None:
    apps.create_namespaced_deployment(namespace, _deployment("web", 2))
    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (2, 0, "app=web")
    scale.spec.replicas = 5
    replaced = apps.replace_namespaced_deployment_scale("web", namespace, scale)
    assert replaced.spec.replicas == 5
    deployment = apps.read_namespaced_deployment("web", namespace)
    assert (deployment.spec.replicas, deployment.metadata.generation) == (5, 2)
    patched = apps.patch_namespaced_deployment_scale(
        "web", namespace, {"spec": {"replicas": 1}}, _content_type=MERGE
    )
    assert patched.spec.replicas == 1
    status = fail_status(
        apps.patch_namespaced_deployment_scale,
        "web",
        namespace,
        {"spec": {"replicas": -1}},
        _content_type=MERGE,
    )
    assert status["message"] == (
        'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: '
        "must be greater than or equal to 0"
    )
    stale = apps.read_namespaced_deployment_scale("web", namespace)
    apps.patch_namespaced_deployment("web", namespace, {"metadata": {"labels": {"bump": "1"}}})
    stale.spec.replicas = 3
    status = fail_status(apps.replace_namespaced_deployment_scale, "web", namespace, stale)
    assert status["reason"] == "Conflict"


@pytest.mark.parametrize("patch_type", [MERGE, "application/json-patch+json"])
def test_status_patch_leaves_spec(apps: client.AppsV1Api, namespace: str, patch_type: str) -> None:
    apps.create_namespaced_deployment(namespace, _deployment("web"))
    body: Any = {"status": {"replicas": 7}, "spec": {"replicas": 9}}
    if patch_type != MERGE:
        body = [{"op": "add", "path": "/status/replicas", "value": 7}]
    patched = apps.patch_namespaced_deployment_status(
        "web", namespace, body, _content_type=patch_type
    )
    assert (patched.spec.replicas, patched.status.replicas) == (1, 7)
