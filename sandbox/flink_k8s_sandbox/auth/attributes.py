"""What a request asks to do, as the authorizer sees it (pure; apiserver's RequestInfo).

``/api/v1/...`` and ``/apis/<group>/<version>/...`` below a group-version are resource
requests: ``namespaces/<ns>/`` sets the namespace (``/api/v1/namespaces/<ns>`` itself
is the namespace ``<ns>`` in namespace ``<ns>``), then resource, name, subresource. The
verb comes from the method -- GET ``get`` (``list`` without a name, ``watch`` with
``watch=true``), POST ``create``, PUT ``update``, PATCH ``patch``, DELETE ``delete``
(``deletecollection`` without a name) -- and a list/watch with the field selector
``metadata.name=<x>`` is about ``<x>``. Every other path is a non-resource request
whose verb is the lower-cased method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flink_k8s_sandbox.auth.users import UserInfo

__all__ = ["Attributes", "request_attributes"]

_METHOD_VERBS = {
    "GET": "get",
    "HEAD": "get",
    "POST": "create",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}
_NAMESPACE_SUBRESOURCES = ("status", "finalize")
_TRUE = ("1", "t", "T", "true", "TRUE", "True")


@dataclass(frozen=True)
class Attributes:
    """One authorization question: may ``user`` do ``verb`` to this resource or path?"""

    user: UserInfo
    verb: str
    resource_request: bool
    path: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def _exact_name(field_selector: str) -> str:
    for term in field_selector.split(","):
        for operator in ("==", "="):
            key, found, value = term.partition(operator)
            if found and key.strip() == "metadata.name" and not key.endswith("!"):
                return value.strip()
    return ""


def request_attributes(
    user: UserInfo, method: str, path: str, query: Mapping[str, str]
) -> Attributes:
    """The attributes of an HTTP request (``path`` decoded, without the query)."""
    parts = [p for p in path.strip("/").split("/")]
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return Attributes(user, method.lower(), False, path=path)
    verb = _METHOD_VERBS.get(method.upper(), "")
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    name = rest[1] if len(rest) > 1 else ""
    if not name and verb == "get":
        verb = "watch" if query.get("watch", "") in _TRUE else "list"
    if verb in ("list", "watch"):
        name = _exact_name(query.get("fieldSelector", ""))
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(
        user,
        verb,
        True,
        path=path,
        api_group=group,
        api_version=version,
        namespace=namespace,
        resource=rest[0],
        subresource=rest[2] if len(rest) > 2 else "",
        name=name,
    )
