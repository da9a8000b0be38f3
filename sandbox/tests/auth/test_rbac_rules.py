"""RBAC rule matching, request attributes and review protobuf decoding (pure, no server)."""

from __future__ import annotations

from typing import Any

import pytest

from flink_k8s_sandbox.auth.attributes import Attributes, request_attributes
from flink_k8s_sandbox.auth.rbac import authorize, forbidden, rule_allows
from flink_k8s_sandbox.auth.users import UserInfo, service_account_user
from flink_k8s_sandbox.protobuf import decode_object

ALICE = UserInfo("alice", groups=("dev", "system:authenticated"))


def _attrs(verb: str, resource: str, name: str = "", group: str = "apps") -> Attributes:
    resource, _, sub = resource.partition("/")
    return Attributes(
        ALICE,
        verb,
        True,
        api_group=group,
        namespace="ns",
        resource=resource,
        subresource=sub,
        name=name,
    )


@pytest.mark.parametrize(
    ("rule", "attrs", "allowed"),
    [
        (
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]},
            _attrs("get", "deployments", "w"),
            True,
        ),
        (
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]},
            _attrs("list", "deployments"),
            False,
        ),
        (
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]},
            _attrs("patch", "deployments", "w"),
            True,
        ),
        (
            {"apiGroups": [""], "resources": ["deployments"], "verbs": ["*"]},
            _attrs("get", "deployments", "w"),
            False,
        ),
        (
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]},
            _attrs("get", "deployments/scale", "w"),
            True,
        ),
        (
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]},
            _attrs("patch", "deployments/scale", "w"),
            False,
        ),
        (
            {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["patch"]},
            _attrs("patch", "deployments/scale", "w"),
            True,
        ),
        (
            {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["patch"]},
            _attrs("patch", "deployments/scale", "w"),
            True,
        ),
        (
            {
                "apiGroups": ["apps"],
                "resources": ["deployments"],
                "verbs": ["get"],
                "resourceNames": ["w"],
            },
            _attrs("get", "deployments", "w"),
            True,
        ),
        (
            {
                "apiGroups": ["apps"],
                "resources": ["deployments"],
                "verbs": ["get"],
                "resourceNames": ["w"],
            },
            _attrs("get", "deployments", "x"),
            False,
        ),
        (
            {
                "apiGroups": ["apps"],
                "resources": ["deployments"],
                "verbs": ["list"],
                "resourceNames": ["w"],
            },
            _attrs("list", "deployments"),
            False,
        ),
        (
            {"nonResourceURLs": ["/apis/*"], "verbs": ["get"]},
            Attributes(ALICE, "get", False, path="/apis/apps"),
            True,
        ),
        (
            {"nonResourceURLs": ["/api"], "verbs": ["get"]},
            Attributes(ALICE, "get", False, path="/api/v1"),
            False,
        ),
        (
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            Attributes(ALICE, "get", False, path="/api"),
            False,
        ),
    ],
)
def test_rule_allows(rule: dict[str, Any], attrs: Attributes, allowed: bool) -> None:
    assert rule_allows(rule, attrs) is allowed


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        (
            "GET",
            "/apis/apps/v1/namespaces/ns/deployments/w",
            {},
            ("get", "ns", "deployments", "", "w"),
        ),
        (
            "GET",
            "/apis/apps/v1/namespaces/ns/deployments",
            {},
            ("list", "ns", "deployments", "", ""),
        ),
        (
            "GET",
            "/apis/apps/v1/deployments",
            {"watch": "true"},
            ("watch", "", "deployments", "", ""),
        ),
        (
            "GET",
            "/api/v1/namespaces/ns/pods",
            {"watch": "1", "fieldSelector": "metadata.name=p"},
            ("watch", "ns", "pods", "", "p"),
        ),
        ("DELETE", "/api/v1/namespaces/ns/pods", {}, ("deletecollection", "ns", "pods", "", "")),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/ns/deployments/w/scale",
            {},
            ("patch", "ns", "deployments", "scale", "w"),
        ),
        ("GET", "/api/v1/namespaces/ns", {}, ("get", "ns", "namespaces", "", "ns")),
        (
            "PUT",
            "/api/v1/namespaces/ns/finalize",
            {},
            ("update", "ns", "namespaces", "finalize", "ns"),
        ),
        (
            "POST",
            "/api/v1/namespaces/ns/services/web:8081/proxy/v1/jobs",
            {},
            ("create", "ns", "services", "proxy", "web:8081"),
        ),
    ],
)
def test_request_attributes(
    method: str, path: str, query: dict[str, str], expected: tuple[str, ...]
) -> None:
    attrs = request_attributes(ALICE, method, path, query)
    assert attrs.resource_request
    assert (attrs.verb, attrs.namespace, attrs.resource, attrs.subresource, attrs.name) == expected


def test_non_resource_requests_use_the_method() -> None:
    attrs = request_attributes(ALICE, "GET", "/apis/apps/v1", {})
    assert (attrs.resource_request, attrs.verb, attrs.path) == (False, "get", "/apis/apps/v1")
    assert (
        forbidden(attrs).status["message"]
        == 'forbidden: User "alice" cannot get path "/apis/apps/v1"'
    )


class _Source:
    def __init__(self, objects: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
        self.objects_by_key = objects

    def get(self, key: tuple[str, str], namespace: str, name: str) -> dict[str, Any] | None:
        return next(
            (o for o in self.objects_by_key.get(key, []) if o["metadata"]["name"] == name), None
        )

    def objects(self, key: tuple[str, str], namespace: str | None = None) -> list[dict[str, Any]]:
        found = self.objects_by_key.get(key, [])
        return [
            o for o in found if namespace is None or o["metadata"].get("namespace") == namespace
        ]


def test_authorize_reports_its_source_and_broken_bindings() -> None:
    group = "rbac.authorization.k8s.io"
    user = service_account_user("ns", "sa")
    subject = {"kind": "ServiceAccount", "name": "sa"}
    source = _Source(
        {
            (group, "rolebindings"): [
                {
                    "metadata": {"name": "rb", "namespace": "ns"},
                    "roleRef": {"kind": "Role", "name": "r"},
                    "subjects": [subject],
                },
                {
                    "metadata": {"name": "gone", "namespace": "ns"},
                    "roleRef": {"kind": "Role", "name": "missing"},
                    "subjects": [subject],
                },
            ],
            (group, "roles"): [
                {
                    "metadata": {"name": "r", "namespace": "ns"},
                    "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
                }
            ],
        }
    )
    allowed = authorize(
        source, Attributes(user, "get", True, namespace="ns", resource="pods", name="p")
    )
    assert allowed.allowed
    assert (
        allowed.reason
        == 'RBAC: allowed by RoleBinding "rb/ns" of Role "r" to ServiceAccount "sa/ns"'
    )
    denied = authorize(source, Attributes(user, "list", True, namespace="ns", resource="pods"))
    assert (denied.allowed, denied.reason) == (
        False,
        'RBAC: role.rbac.authorization.k8s.io "missing" not found',
    )
    elsewhere = authorize(
        source, Attributes(user, "get", True, namespace="other", resource="pods", name="p")
    )
    assert (elsewhere.allowed, elsewhere.reason) == (False, "")


def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte, value = value & 0x7F, value >> 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def _field(number: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_decode_review_reads_what_kubectl_sends() -> None:
    attributes = (
        _field(1, b"ns")
        + _field(2, b"get")
        + _field(3, b"apps")
        + _field(5, b"deployments")
        + _field(6, b"scale")
    )
    review = _field(2, _field(1, attributes))
    type_meta = _field(1, b"authorization.k8s.io/v1") + _field(2, b"SelfSubjectAccessReview")
    body = b"k8s\x00" + _field(1, type_meta) + _field(2, review)
    assert decode_object(body) == {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {
                "namespace": "ns",
                "verb": "get",
                "group": "apps",
                "resource": "deployments",
                "subresource": "scale",
            }
        },
    }
    token = _field(2, _field(1, b"api") + _field(4, 3600))
    type_meta = _field(1, b"authentication.k8s.io/v1") + _field(2, b"TokenRequest")
    decoded = decode_object(b"k8s\x00" + _field(1, type_meta) + _field(2, token))
    assert decoded["spec"] == {"audiences": ["api"], "expirationSeconds": 3600}
