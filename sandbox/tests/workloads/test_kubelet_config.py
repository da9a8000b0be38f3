"""How the kubelet resolves a container's environment and files (pure)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from flink_k8s_sandbox.containerconfig import (
    ContainerConfigError,
    container_spec,
    expand,
    mount_errors,
)

OBJECTS: dict[tuple[str, str], dict[str, Any]] = {
    ("configmaps", "cfg"): {"data": {"mode": "batch", "config.yaml": "a: 1"}},
    ("secrets", "creds"): {"data": {"token": base64.b64encode(b"s3cret").decode()}},
}


def lookup(plural: str, namespace: str, name: str) -> dict[str, Any] | None:
    assert namespace == "ns"
    return OBJECTS.get((plural, name))


def _pod(container: dict[str, Any], volumes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u", "labels": {"app": "web"}},
        "spec": {"nodeName": "n1", "containers": [container], "volumes": volumes or []},
        "status": {"podIP": "10.244.0.9", "hostIP": "127.0.0.1"},
    }


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("$(A)-$(B)", "1-$(B)"),
        ("$$(A)", "$(A)"),
        ("plain", "plain"),
    ],
)
def test_expand(text: str, expanded: str) -> None:
    assert expand(text, {"A": "1"}) == expanded


def test_environment_and_arguments() -> None:
    env = [
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
        {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
        {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
        {"name": "URL", "value": "http://$(IP):8081"},
        {
            "name": "GONE",
            "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k", "optional": True}},
        },
    ]
    container = {
        "name": "app",
        "image": "flink:1.20",
        "env": env,
        "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
        "args": ["--rest", "$(URL)"],
        "ports": [{"containerPort": 8081, "name": "rest"}],
    }
    spec = container_spec(_pod(container), container, lookup, node_allocatable={"cpu": "4"})
    assert dict(spec.env) == {
        "CFG_mode": "batch",
        "CFG_config.yaml": "a: 1",
        "MODE": "batch",
        "TOKEN": "s3cret",
        "IP": "10.244.0.9",
        "APP": "web",
        "CPU": "4",
        "URL": "http://10.244.0.9:8081",
    }
    assert spec.args == ("--rest", "http://10.244.0.9:8081")
    assert (spec.pod_ip, spec.ports[0].container_port, spec.ports[0].name) == (
        "10.244.0.9",
        8081,
        "rest",
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "other", "key": "k"}}}],
            'configmap "other" not found',
        ),
        (
            [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "other", "key": "k"}}}],
            'secret "other" not found',
        ),
        (
            [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}],
            "couldn't find key k in ConfigMap ns/cfg",
        ),
        (
            [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "k"}}}],
            "couldn't find key k in Secret ns/creds",
        ),
    ],
)
def test_missing_references_are_config_errors(env: list[dict[str, Any]], message: str) -> None:
    container = {"name": "app", "image": "x", "env": env}
    with pytest.raises(ContainerConfigError) as caught:
        container_spec(_pod(container), container, lookup)
    assert str(caught.value) == message


def test_mounted_files_and_mount_errors() -> None:
    volumes = [
        {
            "name": "conf",
            "configMap": {"name": "cfg", "items": [{"key": "config.yaml", "path": "flink.yaml"}]},
        },
        {"name": "creds", "secret": {"secretName": "creds"}},
        {"name": "scratch", "emptyDir": {}},
    ]
    mounts = [
        {"name": "conf", "mountPath": "/opt/flink/conf/"},
        {"name": "creds", "mountPath": "/etc/token", "subPath": "token"},
        {"name": "scratch", "mountPath": "/tmp"},
    ]
    container = {"name": "app", "image": "x", "volumeMounts": mounts}
    pod = _pod(container, volumes)
    assert mount_errors(pod, lookup) == []
    spec = container_spec(pod, container, lookup)
    assert dict(spec.files) == {"/opt/flink/conf/flink.yaml": b"a: 1", "/etc/token": b"s3cret"}
    broken = _pod(
        container,
        [
            {"name": "conf", "configMap": {"name": "missing"}},
            {"name": "keys", "configMap": {"name": "cfg", "items": [{"key": "nope", "path": "x"}]}},
            {"name": "maybe", "secret": {"secretName": "missing", "optional": True}},
        ],
    )
    assert mount_errors(broken, lookup) == [
        ("conf", 'MountVolume.SetUp failed for volume "conf" : configmap "missing" not found'),
        (
            "keys",
            'MountVolume.SetUp failed for volume "keys" : '
            "configmap references non-existent config key: nope",
        ),
    ]
