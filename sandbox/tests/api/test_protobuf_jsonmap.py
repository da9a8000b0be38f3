"""The Kubernetes JSON mapping of protobuf messages, field kind by field kind (pure).

Messages are built with the generated classes directly, so each test pins what Go
would have written on the wire, not what :func:`from_json` makes of JSON.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from flink_k8s_sandbox.protobuf import (
    MAGIC,
    ProtobufError,
    decode_object,
    encode_object,
    from_json,
    gen,
    message_class,
    to_json,
)

Obj = dict[str, Any]
apps, core = gen.api_apps_v1_pb2, gen.api_core_v1_pb2
authn, meta = gen.api_authentication_v1_pb2, gen.apimachinery_meta_v1_pb2
runtime = gen.apimachinery_runtime_pb2


def test_int64_fields_are_json_numbers() -> None:
    # protobuf's own JSON mapping (MessageToDict) writes int64 as strings.
    pod = core.Pod()
    pod.metadata.generation = 2**40
    pod.spec.activeDeadlineSeconds = 2**35
    obj = to_json(pod)
    assert obj["metadata"]["generation"] == 2**40
    assert obj["spec"]["activeDeadlineSeconds"] == 2**35


def test_quantities_are_strings() -> None:
    requirements = core.ResourceRequirements()
    requirements.limits["cpu"].string = "500m"
    requirements.requests["memory"].string = "1Gi"
    assert to_json(requirements) == {"limits": {"cpu": "500m"}, "requests": {"memory": "1Gi"}}
    back = core.ResourceRequirements()
    from_json({"limits": {"cpu": 2, "memory": "64Mi"}}, back)  # a JSON number is a quantity
    assert back.limits["cpu"].string == "2"
    assert back.limits["memory"].string == "64Mi"


def test_int_or_string_is_an_int_or_a_string() -> None:
    by_number = core.ServicePort(port=80)
    by_number.targetPort.type, by_number.targetPort.intVal = 0, 8080
    by_name = core.ServicePort(port=443)
    by_name.targetPort.type, by_name.targetPort.strVal = 1, "https"
    assert to_json(by_number) == {"port": 80, "targetPort": 8080}
    assert to_json(by_name) == {"port": 443, "targetPort": "https"}
    unset = core.ServicePort(port=80)
    unset.targetPort.SetInParent()  # Go's zero IntOrString: the server defaults it
    assert to_json(unset) == {"port": 80}
    strategy = apps.RollingUpdateDeployment()
    strategy.maxSurge.type, strategy.maxSurge.intVal = 0, 0  # *IntOrString: 0 is a value
    assert to_json(strategy) == {"maxSurge": 0}
    back = core.ServicePort()
    from_json({"port": 443, "targetPort": "https"}, back)
    assert (back.targetPort.type, back.targetPort.strVal) == (1, "https")


def test_times_are_rfc3339_and_a_zero_time_is_absent() -> None:
    meta_obj = meta.ObjectMeta(name="x")
    meta_obj.creationTimestamp.seconds = 1_700_000_000
    meta_obj.deletionTimestamp.SetInParent()  # Go's zero Time: an empty message
    assert to_json(meta_obj) == {"name": "x", "creationTimestamp": "2023-11-14T22:13:20Z"}
    entry = meta.ManagedFieldsEntry(manager="kubectl")
    entry.time.seconds = 1_700_000_000
    event = core.Event()
    event.eventTime.seconds, event.eventTime.nanos = 1_700_000_000, 123_456_000
    assert to_json(entry)["time"] == "2023-11-14T22:13:20Z"
    assert to_json(event)["eventTime"] == "2023-11-14T22:13:20.123456Z"
    back = meta.ObjectMeta()
    from_json({"creationTimestamp": "2023-11-14T22:13:20Z"}, back)
    assert back.creationTimestamp.seconds == 1_700_000_000


def test_bytes_are_base64_and_maps_stay_maps() -> None:
    secret = core.Secret(type="Opaque")
    secret.data["bin"] = b"\x00\xff\x10"
    secret.data["empty"] = b""
    secret.stringData["plain"] = "text"
    assert to_json(secret) == {
        "data": {"bin": base64.b64encode(b"\x00\xff\x10").decode(), "empty": ""},
        "stringData": {"plain": "text"},
        "type": "Opaque",
    }
    back = core.Secret()
    from_json({"data": {"bin": "AP8Q"}}, back)
    assert back.data["bin"] == b"\x00\xff\x10"


def test_raw_extensions_and_fields_v1_are_embedded_json() -> None:
    revision = apps.ControllerRevision(revision=3)
    revision.data.raw = b'{"spec":{"replicas":2}}'
    assert to_json(revision) == {"data": {"spec": {"replicas": 2}}, "revision": 3}
    entry = meta.ManagedFieldsEntry(manager="m", operation="Apply", fieldsType="FieldsV1")
    entry.fieldsV1.Raw = b'{"f:data":{"f:a":{}}}'
    assert to_json(entry)["fieldsV1"] == {"f:data": {"f:a": {}}}
    back = apps.ControllerRevision()
    from_json({"data": {"a": [1, None]}, "revision": 1}, back)
    assert back.data.raw == b'{"a":[1,null]}'


def test_go_zero_values_are_unset_unless_go_keeps_them() -> None:
    # Go writes every non-pointer field: "" and 0 there mean unset, as omitempty does.
    deployment = apps.Deployment()
    deployment.metadata.name = "d"
    deployment.metadata.namespace = ""
    deployment.metadata.generation = 0
    deployment.spec.replicas = 0  # *int32: zero is a value
    deployment.spec.minReadySeconds = 0  # int32 omitempty: zero is unset
    deployment.spec.paused = False
    deployment.spec.template.spec.containers.add(name="main", image="nginx")
    deployment.status.SetInParent()  # a value struct: {} in JSON too
    assert to_json(deployment) == {
        "metadata": {"name": "d"},
        "spec": {
            "replicas": 0,
            "template": {"spec": {"containers": [{"name": "main", "image": "nginx"}]}},
        },
        "status": {},
    }
    assert "status" not in to_json(apps.Deployment())  # absent stays absent


def test_required_scalars_keep_their_zero_value() -> None:
    port = core.ContainerPort(containerPort=0, protocol="")
    assert to_json(port) == {"containerPort": 0}  # `json:"containerPort"`, no omitempty


def test_inline_structs_are_flattened() -> None:
    volume = core.Volume(name="config")
    volume.volumeSource.configMap.localObjectReference.name = "settings"  # inline too
    probe = core.Probe(periodSeconds=5)
    probe.handler.httpGet.path = "/healthz"
    probe.handler.httpGet.port.type, probe.handler.httpGet.port.strVal = 1, "http"
    assert to_json(volume) == {"name": "config", "configMap": {"name": "settings"}}
    assert to_json(probe) == {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5}
    back = core.Volume()
    from_json({"name": "config", "configMap": {"name": "settings", "optional": True}}, back)
    assert back.volumeSource.configMap.localObjectReference.name == "settings"
    assert back.volumeSource.configMap.optional is True


def test_named_slices_renamed_fields_and_durations() -> None:
    user = authn.UserInfo(username="alice")
    user.extra["scopes"].items.extend(["a", "b"])
    assert to_json(user) == {"username": "alice", "extra": {"scopes": ["a", "b"]}}
    reference = authn.BoundObjectReference(kind="Pod", name="p")
    setattr(reference, "uID", "1234")  # noqa: B010 -- Go's UID, JSON's "uid"
    assert to_json(reference) == {"kind": "Pod", "name": "p", "uid": "1234"}
    assert [to_json(meta.Duration(duration=ns)) for ns in (0, 90 * 10**9, 3600 * 10**9)] == [
        "0s",
        "1m30s",
        "1h0m0s",
    ]
    assert to_json(meta.Duration(duration=1_500_000)) == "1.5ms"
    back = meta.Duration()
    from_json("1h2m3.5s", back)
    assert back.duration == 3723_500_000_000


def test_the_envelope_round_trips_a_rich_object() -> None:
    pod: Obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {"run": "p"}, "annotations": {"a": ""}},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "nginx",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                    "env": [{"name": "A", "value": "1"}],
                }
            ],
            "volumes": [{"name": "v", "secret": {"secretName": "s", "defaultMode": 420}}],
            "terminationGracePeriodSeconds": 0,
            "automountServiceAccountToken": False,
        },
    }
    body = encode_object(pod)
    assert body.startswith(MAGIC)
    assert decode_object(body) == pod


def test_lists_and_status_have_messages_in_every_group() -> None:
    assert message_class("v1", "ConfigMapList") is core.ConfigMapList
    assert message_class("apps/v1", "Status") is meta.Status  # meta/v1 kinds, any group
    assert message_class("apps/v1", "DeleteOptions") is meta.DeleteOptions
    assert message_class("flink.apache.org/v1beta1", "FlinkDeployment") is None
    assert message_class("apps.example.com/v1", "Deployment") is None  # not k8s.io/api's apps


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    unknown = runtime.Unknown(raw=raw)
    unknown.typeMeta.apiVersion, unknown.typeMeta.kind = api_version, kind
    return MAGIC + unknown.SerializeToString()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"kind": "Pod"}', "provided data does not appear to be a protobuf message"),
        (MAGIC + b"\x0a\x05ab", "invalid protobuf envelope"),
        (_envelope("v1", "", b""), "Object 'Kind' is missing"),
        (_envelope("v1", "Bogus", b""), 'no kind "Bogus" is registered for version "v1"'),
        (_envelope("v1", "Pod", b"\x0a\x09abc"), "invalid protobuf Pod"),
    ],
)
def test_bodies_that_are_not_protobuf_objects(body: bytes, message: str) -> None:
    with pytest.raises(ProtobufError, match=message):
        decode_object(body)


def test_objects_without_a_message_cannot_be_encoded() -> None:
    with pytest.raises(ProtobufError, match="no protobuf message"):
        encode_object({"apiVersion": "example.com/v1", "kind": "Widget"})
    with pytest.raises(ProtobufError, match="must be an integer"):
        encode_object({"apiVersion": "v1", "kind": "Pod", "metadata": {"generation": "x"}})
