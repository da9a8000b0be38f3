"""Access control for one sandbox: the middleware and the review/token endpoints.

:class:`AccessControl` (``SandboxServer.auth``) authenticates every request by its
bearer token (:mod:`.users`), applies ``Impersonate-User``/``-Group``/``-Uid`` headers
(``kubectl --as``; the caller needs the ``impersonate`` verb on ``users``, ``groups``,
``serviceaccounts`` or ``uids``) and, when enabled, authorizes it with RBAC
(:mod:`.rbac`): a denied request gets the API server's exact 403, an unknown token 401
``Unauthorized``. A server-side-apply patch to an object that does not exist yet also
needs ``create``. Disabled (the default), valid tokens still identify their users (so
``kubectl auth whoami`` works) but every request is allowed, as with kube-apiserver's
``AlwaysAllow``, and unknown tokens count as anonymous.

Served whether enabled or not: ``POST`` ``/apis/authorization.k8s.io/v1/
selfsubjectaccessreviews`` and ``.../selfsubjectrulesreviews``,
``/apis/authentication.k8s.io/v1/selfsubjectreviews`` and
``/api/v1/namespaces/<ns>/serviceaccounts/<name>/token``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.auth.attributes import Attributes, request_attributes
from flink_k8s_sandbox.auth.rbac import Decision, authorize, forbidden, rules_for
from flink_k8s_sandbox.auth.reviews import (
    access_review,
    review_attributes,
    rules_review,
    subject_review,
    token_request,
    token_seconds,
)
from flink_k8s_sandbox.auth.users import (
    ADMIN_USER,
    ANONYMOUS,
    AUTHENTICATED,
    UNAUTHENTICATED,
    TokenAuthenticator,
    UserInfo,
    parse_service_account,
)
from flink_k8s_sandbox.handlers import STATE, json_response
from flink_k8s_sandbox.mutations import APPLY_PATCH
from flink_k8s_sandbox.protobuf import PROTOBUF, decode_object
from flink_k8s_sandbox.routing import parse_path
from flink_k8s_sandbox.state import ApiState

__all__ = ["USER", "AccessControl"]

Obj = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
StateCall = Callable[[Callable[[ApiState], Any]], Any]
USER = web.RequestKey("sandbox_user", UserInfo)
"""The authenticated user of a request (``request[USER]``), set by :class:`AccessControl`."""
_SERVICE_ACCOUNTS = ("", "serviceaccounts")
_ALLOW_ALL = [
    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
    {"nonResourceURLs": ["*"], "verbs": ["*"]},
]


def _unauthorized() -> errors.ApiError:
    return errors.ApiError(errors.status_failure(401, "Unauthorized", "Unauthorized"))


async def _json_body(request: web.Request) -> Obj:
    """A review body, JSON or (as kubectl sends it) protobuf."""
    raw = await request.read()
    try:
        protobuf = request.content_type == PROTOBUF
        body = decode_object(raw) if protobuf else json.loads(raw or b"{}")
    except ValueError as error:
        raise errors.bad_request(f"the object provided is unrecognized: {error}") from error
    if not isinstance(body, dict):
        raise errors.bad_request("the object provided is unrecognized (must be an object)")
    return body


class AccessControl:
    """Authentication, impersonation and (optionally) RBAC authorization.

    :param enabled: enforce RBAC (401 for unknown tokens, 403 for denied requests).
    :param call: runs a function with the server's state on its loop (``SandboxServer.call``).
    :param tokens: static bearer tokens and their users.
    """

    def __init__(
        self, enabled: bool, call: StateCall, tokens: Mapping[str, UserInfo] | None = None
    ) -> None:
        self.enabled = enabled
        self._call = call
        self._state: ApiState | None = None
        self.authenticator = TokenAuthenticator(self._service_account_uid)
        self.admin_token = self.authenticator.issue(ADMIN_USER)
        for token, user in (tokens or {}).items():
            self.authenticator.add_token(token, user)

    def attach(self, state: ApiState) -> None:
        """Read service accounts, roles and bindings from ``state`` (done at start)."""
        self._state = state

    def _service_account_uid(self, namespace: str, name: str) -> str | None:
        if self._state is None:
            return None
        account = self._state.store.get(_SERVICE_ACCOUNTS, namespace, name)
        return None if account is None else str(account["metadata"].get("uid", ""))

    # -- tokens ------------------------------------------------------------------

    def add_token(self, token: str, user: UserInfo) -> None:
        """Accept a static bearer token for ``user``."""
        self.authenticator.add_token(token, user)

    def issue_token(self, user: UserInfo) -> str:
        """A new static bearer token for ``user``."""
        return self.authenticator.issue(user)

    def token_for(self, namespace: str, name: str, expiration_seconds: int = 3600) -> str:
        """A token for an existing ServiceAccount (as ``kubectl create token`` gets one).

        :raises LookupError: when the ServiceAccount does not exist.
        """
        uid = self._call(lambda state: self._service_account_uid(namespace, name))
        if uid is None:
            raise LookupError(f'serviceaccounts "{name}" not found in namespace "{namespace}"')
        token, _ = self.authenticator.issue_service_account(
            namespace, name, uid, expiration_seconds
        )
        return token

    # -- decisions ---------------------------------------------------------------

    def authorize(self, attrs: Attributes) -> Decision:
        """RBAC's answer (everything is allowed when access control is off)."""
        if not self.enabled or self._state is None:
            return Decision(True)
        return authorize(self._state.store, attrs)

    def _check(self, attrs: Attributes) -> None:
        decision = self.authorize(attrs)
        if not decision.allowed:
            raise forbidden(attrs, decision.reason)

    def _authenticate(self, request: web.Request) -> UserInfo:
        header = request.headers.get("Authorization", "")
        if not header:
            return ANONYMOUS
        scheme, _, token = header.partition(" ")
        user = None
        if scheme.lower() == "bearer" and token.strip():
            user = self.authenticator.authenticate(token.strip())
        if user is None:
            if self.enabled:
                raise _unauthorized()
            return ANONYMOUS
        return user

    def _impersonate(self, request: web.Request, user: UserInfo) -> UserInfo:
        name = request.headers.get("Impersonate-User", "")
        groups = tuple(request.headers.getall("Impersonate-Group", []))
        uid = request.headers.get("Impersonate-Uid", "")
        if not name:
            if groups or uid:
                raise errors.internal_error("requested impersonation without impersonating a user")
            return user
        account = parse_service_account(name)
        asked = [
            Attributes(
                user,
                "impersonate",
                True,
                resource="serviceaccounts",
                namespace=account[0],
                name=account[1],
            )
            if account
            else Attributes(user, "impersonate", True, resource="users", name=name),
            *(Attributes(user, "impersonate", True, resource="groups", name=g) for g in groups),
        ]
        if uid:
            asked.append(
                Attributes(
                    user,
                    "impersonate",
                    True,
                    api_group="authentication.k8s.io",
                    resource="uids",
                    name=uid,
                )
            )
        for attrs in asked:
            self._check(attrs)
        if account and not groups:
            groups = ("system:serviceaccounts", f"system:serviceaccounts:{account[0]}")
        if name != ANONYMOUS.name and not {AUTHENTICATED, UNAUTHENTICATED} & set(groups):
            groups = (*groups, AUTHENTICATED)
        return UserInfo(name, uid, groups)

    def _creates_by_apply(self, request: web.Request, attrs: Attributes) -> bool:
        if attrs.verb != "patch" or attrs.subresource or request.content_type != APPLY_PATCH:
            return False
        target = parse_path(request.path)
        state = self._state
        if target is None or target.plural is None or state is None:
            return False
        rt = state.registry.get(target.group, target.version, target.plural)
        if rt is None:
            return False
        namespace = attrs.namespace if rt.namespaced else ""
        return state.store.get(rt.storage_key, namespace, attrs.name) is None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Authenticate, impersonate and authorize each request."""
        user = self._impersonate(request, self._authenticate(request))
        request[USER] = user
        if self.enabled:
            attrs = request_attributes(user, request.method, request.path, request.query)
            self._check(attrs)
            if self._creates_by_apply(request, attrs):
                self._check(dataclasses.replace(attrs, verb="create"))
        return await handler(request)

    # -- endpoints ---------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The review and token endpoints (registered before the generic resource routes)."""
        authorization = "/apis/authorization.k8s.io/v1"
        return [
            web.post(f"{authorization}/selfsubjectaccessreviews", self._access_review),
            web.post(f"{authorization}/selfsubjectrulesreviews", self._rules_review),
            web.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", self._subject_review),
            web.post("/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", self._token),
        ]

    async def _access_review(self, request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        decision = self.authorize(review_attributes(request[USER], body))
        return json_response(access_review(body, decision), 201)

    async def _rules_review(self, request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        namespace = (body.get("spec") or {}).get("namespace", "")
        if self.enabled and self._state is not None:
            rules, incomplete = rules_for(self._state.store, request[USER], namespace)
        else:
            rules, incomplete = _ALLOW_ALL, False
        return json_response(rules_review(body, rules, incomplete), 201)

    async def _subject_review(self, request: web.Request) -> web.StreamResponse:
        await _json_body(request)
        return json_response(subject_review(request[USER], datetime.now(timezone.utc)), 201)

    async def _token(self, request: web.Request) -> web.StreamResponse:
        state = request.app[STATE]
        namespace, name = request.match_info["namespace"], request.match_info["name"]
        rt = state.registry.get("", "v1", "serviceaccounts")
        assert rt is not None
        account = state.storage.get(rt, namespace, name)
        seconds, audiences = token_seconds(await _json_body(request), name)
        uid = str(account["metadata"].get("uid", ""))
        token, expires = self.authenticator.issue_service_account(namespace, name, uid, seconds)
        now = datetime.now(timezone.utc)
        body = token_request(namespace, name, token, seconds, audiences, now, expires)
        return json_response(body, 201)
