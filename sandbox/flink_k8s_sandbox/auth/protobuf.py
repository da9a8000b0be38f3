"""Just enough Kubernetes protobuf to read what kubectl POSTs to the review APIs (pure).

kubectl's typed clients send ``application/vnd.kubernetes.protobuf`` bodies: the magic
``k8s\\x00`` then a ``runtime.Unknown`` (``typeMeta`` 1, ``raw`` 2) whose ``raw`` is the
object. :func:`decode_review` turns the SelfSubjectAccessReview, SelfSubjectRulesReview,
SelfSubjectReview and TokenRequest kubectl sends into their JSON form (spec only); the
answers go back as JSON, which client-go accepts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PROTOBUF", "ProtobufError", "decode_review"]

PROTOBUF = "application/vnd.kubernetes.protobuf"
_MAGIC = b"k8s\x00"
Fields = dict[int, list[Any]]
Obj = dict[str, Any]


class ProtobufError(ValueError):
    """Raised for a body that is not the protobuf it should be."""


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def _fields(data: bytes) -> Fields:
    """Field number -> values (ints for varints, bytes for length-delimited)."""
    fields: Fields = {}
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 2:
            size, at = _varint(data, at)
            value, at = data[at : at + size], at + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, at = data[at : at + size], at + size
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


def _text(fields: Fields, number: int) -> str:
    values = fields.get(number)
    return bytes(values[-1]).decode("utf-8") if values else ""


def _message(fields: Fields, number: int) -> Fields | None:
    values = fields.get(number)
    return _fields(bytes(values[-1])) if values else None


def _strings(fields: Fields, names: dict[int, str]) -> Obj:
    return {name: _text(fields, n) for n, name in names.items() if fields.get(n)}


_RESOURCE = {
    1: "namespace",
    2: "verb",
    3: "group",
    4: "version",
    5: "resource",
    6: "subresource",
    7: "name",
}
_NON_RESOURCE = {1: "path", 2: "verb"}


def _access_spec(spec: Fields) -> Obj:
    result: Obj = {}
    resource, other = _message(spec, 1), _message(spec, 2)
    if resource is not None:
        result["resourceAttributes"] = _strings(resource, _RESOURCE)
    if other is not None:
        result["nonResourceAttributes"] = _strings(other, _NON_RESOURCE)
    return result


def _token_spec(spec: Fields) -> Obj:
    result: Obj = {"audiences": [bytes(v).decode("utf-8") for v in spec.get(1, [])]}
    if spec.get(4):
        result["expirationSeconds"] = int(spec[4][-1])
    return result


def decode_review(body: bytes) -> Obj:
    """The JSON form of a protobuf review or TokenRequest body.

    :raises ProtobufError: when the body is no such object.
    """
    if not body.startswith(_MAGIC):
        raise ProtobufError("missing the k8s protobuf prefix")
    unknown = _fields(body[len(_MAGIC) :])
    type_meta = _message(unknown, 1) or {}
    api_version, kind = _text(type_meta, 1), _text(type_meta, 2)
    raw = _fields(bytes((unknown.get(2) or [b""])[-1]))
    spec = _message(raw, 2) or {}
    obj: Obj = {"apiVersion": api_version, "kind": kind}
    if kind == "SelfSubjectAccessReview":
        obj["spec"] = _access_spec(spec)
    elif kind == "SelfSubjectRulesReview":
        obj["spec"] = _strings(spec, {1: "namespace"})
    elif kind == "TokenRequest":
        obj["spec"] = _token_spec(spec)
    elif kind != "SelfSubjectReview":
        raise ProtobufError(f"cannot read a protobuf {kind or 'object'}")
    return obj
