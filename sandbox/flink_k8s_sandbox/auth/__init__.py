"""Access control for the sandbox: bearer tokens, impersonation, RBAC, review APIs.

Off by default (every request allowed, as with ``--authorization-mode=AlwaysAllow``);
``SandboxServer(auth=True)`` / ``flink-k8s-sandbox up --auth`` enforces RBAC and serves
HTTPS. The pure pieces (:mod:`.attributes`, :mod:`.rbac`, :mod:`.reviews`,
:mod:`.users`) import no asyncio or aiohttp; :class:`AccessControl` and :data:`USER`
(the aiohttp side, :mod:`.access`) load lazily. Protobuf review bodies (what kubectl
sends) are read by :mod:`flink_k8s_sandbox.protobuf`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flink_k8s_sandbox.auth.users import (
    ADMIN_USER,
    ANONYMOUS,
    UserInfo,
    read_token_file,
    service_account_user,
)

if TYPE_CHECKING:
    from flink_k8s_sandbox.auth.access import USER, AccessControl

__all__ = [
    "ADMIN_USER",
    "ANONYMOUS",
    "AccessControl",
    "USER",
    "UserInfo",
    "read_token_file",
    "service_account_user",
]


def __getattr__(name: str) -> Any:
    if name in ("AccessControl", "USER"):
        from flink_k8s_sandbox.auth import access

        return getattr(access, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
