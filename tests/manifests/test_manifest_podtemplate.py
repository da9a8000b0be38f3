"""Merging user PodTemplateSpecs into the generated pod."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_flink_k8s.manifests import (
    MAIN_CONTAINER,
    merge_pod_templates,
    render_manifests,
)
from airflow_provider_flink_k8s.manifests.podtemplate import merge_objects

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_flink_k8s.spec import FlinkCluster

BASE: dict[str, Any] = {
    "metadata": {
        "labels": {"app": "orders", "component": "jobmanager"},
        "annotations": {"checksum": "abc"},
    },
    "spec": {
        "containers": [
            {
                "name": MAIN_CONTAINER,
                "image": "flink:2.3",
                "args": ["jobmanager"],
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                "ports": [{"name": "rpc", "containerPort": 6123}],
                "resources": {"requests": {"cpu": "1", "memory": "1600Mi"}},
                "volumeMounts": [{"name": "conf", "mountPath": "/opt/flink/conf"}],
            }
        ],
        "volumes": [{"name": "conf", "configMap": {"name": "orders-config"}}],
    },
}


def merged(*overlays: dict[str, Any] | None, **kwargs: Any) -> dict[str, Any]:
    return merge_pod_templates(BASE, *overlays, **kwargs)


def main(template: dict[str, Any]) -> dict[str, Any]:
    container = template["spec"]["containers"][0]
    assert container["name"] == MAIN_CONTAINER
    return dict(container)


def test_no_overlay_is_a_copy() -> None:
    result = merged(None, {})
    assert result == BASE
    result["spec"]["containers"][0]["env"].clear()
    assert BASE["spec"]["containers"][0]["env"]


def test_user_fields_of_the_main_container_win_and_merge() -> None:
    user = {
        "spec": {
            "containers": [
                {
                    "name": MAIN_CONTAINER,
                    "resources": {"limits": {"nvidia.com/gpu": "1"}},
                    "env": [
                        {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                        {"name": "C", "value": "3"},
                    ],
                    "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
                    "args": ["jobmanager", "-Dx=y"],
                }
            ]
        }
    }
    container = main(merged(user))
    assert container["image"] == "flink:2.3"
    assert container["args"] == ["jobmanager", "-Dx=y"]
    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "1600Mi"},
        "limits": {"nvidia.com/gpu": "1"},
    }
    # An env var named again is replaced whole: value and valueFrom never mix.
    assert container["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "C", "value": "3"},
    ]
    assert container["volumeMounts"] == [
        {"name": "conf", "mountPath": "/opt/flink/conf"},
        {"name": "scratch", "mountPath": "/scratch"},
    ]


def test_sidecar_is_appended_after_the_flink_container() -> None:
    user = {
        "spec": {
            "containers": [
                {"name": "sidecar", "image": "busybox"},
                {"name": MAIN_CONTAINER, "imagePullPolicy": "Always"},
            ],
            "initContainers": [{"name": "fetch", "image": "curl"}],
        }
    }
    result = merged(user)
    assert [c["name"] for c in result["spec"]["containers"]] == [MAIN_CONTAINER, "sidecar"]
    assert main(result)["imagePullPolicy"] == "Always"
    assert result["spec"]["initContainers"] == [{"name": "fetch", "image": "curl"}]


def test_volumes_merge_by_name_and_replace_whole() -> None:
    user = {
        "spec": {
            "volumes": [
                {"name": "conf", "projected": {"sources": []}},
                {"name": "scratch", "emptyDir": {"medium": "Memory"}},
            ]
        }
    }
    assert merged(user)["spec"]["volumes"] == [
        {"name": "conf", "projected": {"sources": []}},
        {"name": "scratch", "emptyDir": {"medium": "Memory"}},
    ]


def test_ports_merge_by_name() -> None:
    user = {
        "spec": {
            "containers": [
                {
                    "name": MAIN_CONTAINER,
                    "ports": [
                        {"name": "rpc", "containerPort": 6123, "protocol": "TCP"},
                        {"name": "metrics", "containerPort": 9249},
                    ],
                }
            ]
        }
    }
    assert main(merged(user))["ports"] == [
        {"name": "rpc", "containerPort": 6123, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9249},
    ]


def test_unkeyed_lists_and_scalars_are_the_users() -> None:
    user = {
        "spec": {
            "tolerations": [{"key": "dedicated", "operator": "Exists"}],
            "nodeSelector": {"pool": "flink"},
            "priorityClassName": "high",
        }
    }
    spec = merged(user)["spec"]
    assert spec["tolerations"] == [{"key": "dedicated", "operator": "Exists"}]
    assert spec["nodeSelector"] == {"pool": "flink"}
    assert spec["priorityClassName"] == "high"


def test_metadata_merges_and_owned_labels_win() -> None:
    user = {
        "metadata": {
            "labels": {"app": "hijack", "team": "data"},
            "annotations": {"checksum": "user", "note": "x"},
        }
    }
    result = merged(
        user,
        owned_labels={"app": "orders", "component": "jobmanager"},
        owned_annotations={"checksum": "abc"},
    )
    assert result["metadata"] == {
        "labels": {"app": "orders", "component": "jobmanager", "team": "data"},
        "annotations": {"checksum": "abc", "note": "x"},
    }


def test_later_overlays_win() -> None:
    cluster_wide = {"spec": {"nodeSelector": {"pool": "a"}, "hostNetwork": False}}
    role = {"spec": {"nodeSelector": {"pool": "b"}}}
    spec = merged(cluster_wide, role)["spec"]
    assert spec["nodeSelector"] == {"pool": "b"}
    assert spec["hostNetwork"] is False


def test_null_removes_a_key_and_api_version_kind_are_ignored() -> None:
    user = {
        "apiVersion": "v1",
        "kind": "Pod",
        "spec": {"containers": [{"name": MAIN_CONTAINER, "resources": None}]},
    }
    result = merged(user)
    assert "resources" not in main(result)
    assert set(result) == {"metadata", "spec"}


def test_inputs_are_not_modified() -> None:
    base, user = (
        copy.deepcopy(BASE),
        {"spec": {"containers": [{"name": MAIN_CONTAINER, "env": []}]}},
    )
    snapshot = copy.deepcopy(user)
    merge_pod_templates(base, user, owned_labels={"x": "y"})
    assert base == BASE
    assert user == snapshot


@pytest.mark.parametrize(
    ("base", "overlay", "field", "expected"),
    [
        ({"a": 1}, {"b": 2}, "", {"a": 1, "b": 2}),
        ([1, 2], [3], "args", [3]),
        ([{"name": "x", "v": 1}], [{"v": 2}], "env", [{"name": "x", "v": 1}, {"v": 2}]),
        ("a", {"b": 1}, "", {"b": 1}),
    ],
)
def test_merge_objects_table(base: Any, overlay: Any, field: str, expected: Any) -> None:
    assert merge_objects(base, overlay, field) == expected


# --- through the renderer ----------------------------------------------------------------


def test_rendered_pods_carry_the_templates(make_cluster: Callable[..., FlinkCluster]) -> None:
    deployments = [
        o for o in render_manifests(make_cluster(extras=True)) if o["kind"] == "Deployment"
    ]
    jm, tm = (d["spec"]["template"] for d in deployments)
    for pod in (jm, tm):
        spec = pod["spec"]
        assert spec["tolerations"] == [{"key": "dedicated", "operator": "Equal", "value": "flink"}]
        assert spec["nodeSelector"] == {"pool": "flink"}
        assert [v["name"] for v in spec["volumes"]] == ["flink-config-volume", "scratch"]
        mounts = spec["containers"][0]["volumeMounts"]
        assert [m["mountPath"] for m in mounts] == ["/opt/flink/conf", "/scratch"]
        assert pod["metadata"]["labels"]["team"] == "data"
        assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert [c["name"] for c in tm["spec"]["containers"]] == [MAIN_CONTAINER, "log-shipper"]
    assert [c["name"] for c in jm["spec"]["containers"]] == [MAIN_CONTAINER]
    assert jm["spec"]["priorityClassName"] == "high"
    assert "priorityClassName" not in tm["spec"]
    assert jm["metadata"]["labels"]["role"] == "coordinator"
    assert "role" not in tm["metadata"]["labels"]
