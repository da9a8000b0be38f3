"""Kubernetes protobuf bodies, read and written with the Kubernetes API's own definitions.

kubectl's typed clients send built-in objects as ``application/vnd.kubernetes.protobuf``.
The ``generated.proto`` files of k8s.io/api and k8s.io/apimachinery (``sandbox/proto/``
in the source tree, see the README there; the release is ``K8S_REF``) are compiled
into ``gen/`` and read by the ``protobuf`` runtime; :mod:`.jsonmap` converts between
those messages and the Kubernetes JSON form, so a protobuf request becomes exactly the
JSON object the rest of the server already handles.

Pure: imports no asyncio or aiohttp.
"""

from __future__ import annotations

from flink_k8s_sandbox.protobuf.catalog import message_class
from flink_k8s_sandbox.protobuf.envelope import (
    MAGIC,
    PROTOBUF,
    ProtobufError,
    decode_object,
    encode_object,
)
from flink_k8s_sandbox.protobuf.gen.gofields import REF as K8S_REF
from flink_k8s_sandbox.protobuf.jsonmap import from_json, to_json
from flink_k8s_sandbox.protobuf.negotiation import only_protobuf

__all__ = [
    "K8S_REF",
    "MAGIC",
    "PROTOBUF",
    "ProtobufError",
    "decode_object",
    "encode_object",
    "from_json",
    "message_class",
    "only_protobuf",
    "to_json",
]
