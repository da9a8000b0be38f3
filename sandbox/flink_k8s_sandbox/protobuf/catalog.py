"""Which protobuf message holds an apiVersion + kind (pure).

Only the built-in groups whose ``generated.proto`` is vendored (``sandbox/proto/``) have one;
custom resources never do, as in Kubernetes. The ``meta/v1`` kinds every group
version registers (``Status``, ``DeleteOptions``, ...) are found under any of them.
"""

from __future__ import annotations

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

# Importing the package loads every vendored file into the default descriptor pool.
from flink_k8s_sandbox.protobuf import gen as _gen  # noqa: F401

__all__ = ["GROUP_PACKAGES", "message_class"]

GROUP_PACKAGES: dict[str, str] = {
    "": "k8s.io.api.core",
    "apps": "k8s.io.api.apps",
    "autoscaling": "k8s.io.api.autoscaling",
    "rbac.authorization.k8s.io": "k8s.io.api.rbac",
    "authorization.k8s.io": "k8s.io.api.authorization",
    "authentication.k8s.io": "k8s.io.api.authentication",
    "meta.k8s.io": "k8s.io.apimachinery.pkg.apis.meta",
}
"""API group -> protobuf package prefix (``<prefix>.<version>``) of the vendored groups."""

_META_V1 = "k8s.io.apimachinery.pkg.apis.meta.v1"


def message_class(api_version: str, kind: str) -> type[Message] | None:
    """The generated message class of ``kind`` in ``api_version``, or None."""
    group, _, version = api_version.rpartition("/")
    prefix = GROUP_PACKAGES.get(group)
    if prefix is None or not kind.isidentifier():
        return None
    pool = descriptor_pool.Default()
    for package in (f"{prefix}.{version}", _META_V1 if version == "v1" else None):
        if package is None:
            continue
        try:
            descriptor = pool.FindMessageTypeByName(f"{package}.{kind}")
        except KeyError:
            continue
        return message_factory.GetMessageClass(descriptor)
    return None
