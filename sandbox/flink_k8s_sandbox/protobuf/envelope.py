"""Kubernetes' protobuf envelope: ``k8s\\x00`` then a ``runtime.Unknown`` (pure).

``Unknown.typeMeta`` names the object's apiVersion and kind, ``Unknown.raw`` holds the
typed message; :func:`decode_object` turns a body into the object's JSON form (what
a JSON request would have carried) and :func:`encode_object` does the reverse.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import DecodeError, EncodeError

from flink_k8s_sandbox.protobuf.catalog import message_class
from flink_k8s_sandbox.protobuf.gen.apimachinery_runtime_pb2 import (  # type: ignore[attr-defined]
    Unknown,
)
from flink_k8s_sandbox.protobuf.jsonmap import from_json, to_json

__all__ = ["MAGIC", "PROTOBUF", "ProtobufError", "decode_object", "encode_object"]

PROTOBUF = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
Obj = dict[str, Any]


class ProtobufError(ValueError):
    """A body that is not the protobuf it should be, or an object with no message type."""


def decode_object(body: bytes) -> Obj:
    """The JSON form of a protobuf body, with its ``apiVersion`` and ``kind``.

    :raises ProtobufError: no ``k8s\\x00`` prefix, bytes that do not parse, or a kind
        with no vendored message.
    """
    if not body.startswith(MAGIC):
        raise ProtobufError("provided data does not appear to be a protobuf message")
    unknown = Unknown()
    try:
        unknown.ParseFromString(body[len(MAGIC) :])
    except DecodeError as error:
        raise ProtobufError(f"invalid protobuf envelope: {error}") from error
    api_version, kind = unknown.typeMeta.apiVersion, unknown.typeMeta.kind
    if not kind:
        raise ProtobufError("Object 'Kind' is missing in the protobuf envelope")
    cls = message_class(api_version, kind)
    if cls is None:
        raise ProtobufError(f'no kind "{kind}" is registered for version "{api_version}"')
    message = cls()
    try:
        message.ParseFromString(unknown.raw)
    except DecodeError as error:
        raise ProtobufError(f"invalid protobuf {kind}: {error}") from error
    obj: Obj = {"apiVersion": api_version, "kind": kind}
    obj.update(to_json(message))
    return obj


def encode_object(obj: Obj) -> bytes:
    """The protobuf body of a JSON object that names its ``apiVersion`` and ``kind``.

    :raises ProtobufError: the kind has no vendored message, or a field has the wrong type.
    """
    api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
    cls = message_class(api_version, kind)
    if cls is None:
        raise ProtobufError(f"no protobuf message for {kind!r} in {api_version!r}")
    message = cls()
    try:
        from_json({k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}, message)
        raw = message.SerializeToString()
    except (TypeError, ValueError, EncodeError) as error:
        raise ProtobufError(f"cannot encode {kind} as protobuf: {error}") from error
    unknown = Unknown(raw=raw, contentEncoding="", contentType="")
    unknown.typeMeta.apiVersion, unknown.typeMeta.kind = api_version, kind
    envelope: bytes = unknown.SerializeToString()
    return MAGIC + envelope
