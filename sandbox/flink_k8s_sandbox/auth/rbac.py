"""RBAC evaluation (pure): roles, bindings and the API server's wording.

:func:`authorize` visits the rules bound to a user as the RBAC authorizer does --
ClusterRoleBindings first, then the RoleBindings of the request's namespace (each
referring to a Role of that namespace or a ClusterRole) -- and allows on the first rule
that matches: verb (``*`` matches all), API group, resource (``*``, ``<resource>``,
``<resource>/<subresource>`` or ``*/<subresource>``), ``resourceNames`` (a rule with
names never matches a request without one), or for non-resource requests
``nonResourceURLs`` (exact, ``*``, or a prefix ending in ``*``). Members of
``system:masters`` are always allowed. A binding to a missing role makes the denial's
reason ``RBAC: role.rbac.authorization.k8s.io "x" not found``.

:func:`forbidden` builds the exact 403 ``Status``; :func:`rules_for` lists a user's rules
in a namespace (SelfSubjectRulesReview).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.auth.attributes import Attributes
from flink_k8s_sandbox.auth.users import MASTERS, UserInfo

__all__ = ["RBAC_GROUP", "Decision", "RbacSource", "authorize", "forbidden", "rules_for"]

Obj = dict[str, Any]
RBAC_GROUP = "rbac.authorization.k8s.io"
_CLUSTER_ROLE_BINDINGS = (RBAC_GROUP, "clusterrolebindings")
_ROLE_BINDINGS = (RBAC_GROUP, "rolebindings")
_CLUSTER_ROLES = (RBAC_GROUP, "clusterroles")
_ROLES = (RBAC_GROUP, "roles")


class RbacSource(Protocol):
    """Where roles and bindings are read (the :class:`~..store.Store`)."""

    def get(self, key: tuple[str, str], namespace: str, name: str) -> Obj | None: ...

    def objects(self, key: tuple[str, str], namespace: str | None = None) -> list[Obj]: ...


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


def _matches(values: list[str] | None, wanted: str) -> bool:
    present = values or []
    return "*" in present or wanted in present


def _resource_matches(rule: Obj, attrs: Attributes) -> bool:
    combined = attrs.combined_resource
    for resource in rule.get("resources") or []:
        if resource in ("*", combined):
            return True
        if attrs.subresource and resource == f"*/{attrs.subresource}":
            return True
    return False


def _url_matches(rule: Obj, path: str) -> bool:
    for url in rule.get("nonResourceURLs") or []:
        if url in ("*", path) or (url.endswith("*") and path.startswith(url[:-1])):
            return True
    return False


def rule_allows(rule: Obj, attrs: Attributes) -> bool:
    """Whether one PolicyRule allows the request."""
    if not _matches(rule.get("verbs"), attrs.verb):
        return False
    if not attrs.resource_request:
        return _url_matches(rule, attrs.path)
    names = rule.get("resourceNames") or []
    return (
        _matches(rule.get("apiGroups"), attrs.api_group)
        and _resource_matches(rule, attrs)
        and (not names or attrs.name in names)
    )


def _applies(user: UserInfo, subject: Obj, namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return user.name == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        sa_namespace = subject.get("namespace") or namespace
        return bool(sa_namespace) and user.name == f"system:serviceaccount:{sa_namespace}:{name}"
    return False


def _describe_subject(subject: Obj, namespace: str) -> str:
    name = subject.get("name", "")
    if subject.get("kind") == "ServiceAccount":
        name = f"{name}/{subject.get('namespace') or namespace}"
    return f'{subject.get("kind")} "{name}"'


def _role(source: RbacSource, ref: Obj, namespace: str) -> tuple[Obj | None, str]:
    name = ref.get("name", "")
    if ref.get("kind") == "ClusterRole":
        role = source.get(_CLUSTER_ROLES, "", name)
        return role, f'clusterrole.{RBAC_GROUP} "{name}" not found'
    role = source.get(_ROLES, namespace, name)
    return role, f'role.{RBAC_GROUP} "{name}" not found'


def _visit(
    source: RbacSource, user: UserInfo, namespace: str
) -> Iterator[tuple[str, Obj | None, str]]:
    """``(source description, rule or None, error)`` for every rule bound to ``user``."""
    scopes: list[tuple[tuple[str, str], str]] = [(_CLUSTER_ROLE_BINDINGS, "")]
    if namespace:
        scopes.append((_ROLE_BINDINGS, namespace))
    for key, scope in scopes:
        for binding in source.objects(key, scope if scope else None):
            subjects = binding.get("subjects") or []
            subject = next((s for s in subjects if _applies(user, s, scope)), None)
            if subject is None:
                continue
            ref = binding.get("roleRef") or {}
            role, missing = _role(source, ref, scope)
            if role is None:
                yield "", None, missing
                continue
            kind = "RoleBinding" if scope else "ClusterRoleBinding"
            label = (
                f"{binding['metadata']['name']}/{scope}" if scope else binding["metadata"]["name"]
            )
            described = (
                f'{kind} "{label}" of {ref.get("kind")} "{ref.get("name")}" to '
                f"{_describe_subject(subject, scope)}"
            )
            for rule in role.get("rules") or []:
                yield described, rule, ""


def authorize(source: RbacSource, attrs: Attributes) -> Decision:
    """Allow or deny one request; the reason is what SubjectAccessReviews report."""
    if MASTERS in attrs.user.groups:
        return Decision(True)
    problems: list[str] = []
    for described, rule, error in _visit(source, attrs.user, attrs.namespace):
        if rule is not None and rule_allows(rule, attrs):
            return Decision(True, f"RBAC: allowed by {described}")
        if error:
            problems.append(error)
    if not problems:
        return Decision(False)
    joined = problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"
    return Decision(False, f"RBAC: {joined}")


def rules_for(source: RbacSource, user: UserInfo, namespace: str) -> tuple[list[Obj], bool]:
    """Every rule bound to ``user`` in ``namespace`` and whether some binding was broken."""
    rules: list[Obj] = []
    incomplete = False
    for _, rule, error in _visit(source, user, namespace):
        if rule is not None:
            rules.append(rule)
        incomplete = incomplete or bool(error)
    return rules, incomplete


def _forbidden_detail(attrs: Attributes) -> str:
    user = attrs.user.name
    if not attrs.resource_request:
        return f'User "{user}" cannot {attrs.verb} path "{attrs.path}"'
    resource = attrs.combined_resource
    text = (
        f'User "{user}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}"'
    )
    if attrs.namespace:
        return f'{text} in the namespace "{attrs.namespace}"'
    return f"{text} at the cluster scope"


def forbidden(attrs: Attributes, reason: str = "") -> errors.ApiError:
    """The 403 ``Status`` the API server answers a denied request with."""
    detail = _forbidden_detail(attrs)
    if reason:
        detail = f"{detail}: {reason}"
    if not attrs.resource_request:
        return errors.ApiError(errors.status_failure(403, "Forbidden", f"forbidden: {detail}", {}))
    return errors.forbidden(attrs.api_group, attrs.resource, attrs.name, detail)
