"""Bodies of the review and token APIs (pure): what kubectl auth and create token read.

- ``SelfSubjectAccessReview`` (``kubectl auth can-i``): ``spec.resourceAttributes`` or
  ``spec.nonResourceAttributes`` in, ``status{allowed, reason}`` out.
- ``SelfSubjectRulesReview`` (``kubectl auth can-i --list``): the user's rules in
  ``spec.namespace``.
- ``SelfSubjectReview`` (``kubectl auth whoami``): ``status.userInfo``.
- ``TokenRequest`` (``kubectl create token``): ``status{token, expirationTimestamp}``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.auth.attributes import Attributes
from flink_k8s_sandbox.auth.rbac import Decision
from flink_k8s_sandbox.auth.users import UserInfo
from flink_k8s_sandbox.errors import ErrorType, FieldError
from flink_k8s_sandbox.metadata import format_time

__all__ = [
    "DEFAULT_AUDIENCE",
    "access_review",
    "review_attributes",
    "rules_review",
    "subject_review",
    "token_request",
    "token_seconds",
]

Obj = dict[str, Any]
AUTHORIZATION = "authorization.k8s.io/v1"
AUTHENTICATION = "authentication.k8s.io/v1"
DEFAULT_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
_MIN_TOKEN_SECONDS = 600


def _checked(body: Obj, kind: str, api_version: str) -> Obj:
    if body.get("kind", kind) != kind or body.get("apiVersion", api_version) != api_version:
        raise errors.bad_request(
            f"the kind or API version in the data does not match {api_version}, Kind={kind}"
        )
    spec = body.get("spec") or {}
    if not isinstance(spec, dict):
        raise errors.bad_request("spec must be an object")
    return spec


def review_attributes(user: UserInfo, body: Obj) -> Attributes:
    """The question a SelfSubjectAccessReview asks.

    :raises ApiError: 422 unless exactly one kind of attributes is given.
    """
    spec = _checked(body, "SelfSubjectAccessReview", AUTHORIZATION)
    resource, other = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if (resource is None) == (other is None):
        detail = "exactly one of nonResourceAttributes or resourceAttributes must be specified"
        error = FieldError(ErrorType.INVALID, "spec.resourceAttributes", "null", detail)
        raise errors.invalid("authorization.k8s.io", "SelfSubjectAccessReview", "", [error])
    if other is not None:
        return Attributes(user, other.get("verb", ""), False, path=other.get("path", ""))
    assert resource is not None
    return Attributes(
        user,
        resource.get("verb", ""),
        True,
        api_group=resource.get("group", ""),
        api_version=resource.get("version", ""),
        namespace=resource.get("namespace", ""),
        resource=resource.get("resource", ""),
        subresource=resource.get("subresource", ""),
        name=resource.get("name", ""),
    )


def access_review(body: Obj, decision: Decision) -> Obj:
    """The SelfSubjectAccessReview answer (201)."""
    status: Obj = {"allowed": decision.allowed}
    if decision.reason:
        status["reason"] = decision.reason
    return {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": AUTHORIZATION,
        "metadata": {"creationTimestamp": None},
        "spec": body.get("spec") or {},
        "status": status,
    }


def rules_review(body: Obj, rules: list[Obj], incomplete: bool) -> Obj:
    """The SelfSubjectRulesReview answer (201) for the given PolicyRules."""
    spec = _checked(body, "SelfSubjectRulesReview", AUTHORIZATION)
    resource_rules, url_rules = [], []
    for rule in rules:
        if rule.get("nonResourceURLs"):
            url_rules.append(
                {"verbs": rule.get("verbs") or [], "nonResourceURLs": rule["nonResourceURLs"]}
            )
            continue
        entry: Obj = {"verbs": rule.get("verbs") or []}
        for key in ("apiGroups", "resources", "resourceNames"):
            if rule.get(key):
                entry[key] = rule[key]
        resource_rules.append(entry)
    return {
        "kind": "SelfSubjectRulesReview",
        "apiVersion": AUTHORIZATION,
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": {
            "resourceRules": resource_rules,
            "nonResourceRules": url_rules,
            "incomplete": incomplete,
        },
    }


def subject_review(user: UserInfo, now: datetime) -> Obj:
    """The SelfSubjectReview answer (201)."""
    return {
        "kind": "SelfSubjectReview",
        "apiVersion": AUTHENTICATION,
        "metadata": {"creationTimestamp": format_time(now)},
        "status": {"userInfo": user.to_dict()},
    }


def token_seconds(body: Obj, name: str) -> tuple[int, list[str]]:
    """``(expirationSeconds, audiences)`` a TokenRequest asks for (422 below 10 minutes)."""
    spec = _checked(body, "TokenRequest", AUTHENTICATION)
    seconds = int(spec.get("expirationSeconds") or 3600)
    if seconds < _MIN_TOKEN_SECONDS:
        detail = "may not specify a duration less than 10 minutes"
        error = FieldError(ErrorType.INVALID, "spec.expirationSeconds", seconds, detail)
        raise errors.invalid("authentication.k8s.io", "TokenRequest", name, [error])
    return seconds, list(spec.get("audiences") or [DEFAULT_AUDIENCE])


def token_request(
    namespace: str,
    name: str,
    token: str,
    seconds: int,
    audiences: list[str],
    now: datetime,
    expires: float,
) -> Obj:
    """The TokenRequest answer (201)."""
    expiry = datetime.fromtimestamp(expires, timezone.utc)
    return {
        "kind": "TokenRequest",
        "apiVersion": AUTHENTICATION,
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": format_time(now)},
        "spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": None},
        "status": {"token": token, "expirationTimestamp": format_time(expiry)},
    }
