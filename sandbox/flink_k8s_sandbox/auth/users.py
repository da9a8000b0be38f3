"""Who a request comes from: users, service accounts, bearer tokens (authentication).

:class:`TokenAuthenticator` knows three kinds of bearer tokens:

- static tokens: given in Python or read from a file in kube-apiserver's
  ``--token-auth-file`` format (:func:`read_token_file`: one CSV line per token,
  ``token,user,uid[,"group1,group2"]``);
- the admin token the server issues at start (user ``sandbox-admin`` in group
  ``system:masters``, which every authorizer lets through), put in the kubeconfig the
  server writes;
- service-account tokens issued by :meth:`TokenAuthenticator.issue_service_account`
  (``TokenRequest``, ``kubectl create token``): user
  ``system:serviceaccount:<ns>:<name>`` in groups ``system:serviceaccounts`` and
  ``system:serviceaccounts:<ns>``, valid until they expire or the ServiceAccount is
  deleted (they are bound to its uid). They are opaque random strings, not JWTs.

Every authenticated user also gets the group ``system:authenticated``; a request without
a token is ``system:anonymous`` in ``system:unauthenticated``.
"""

from __future__ import annotations

import csv
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ADMIN_USER",
    "ANONYMOUS",
    "AUTHENTICATED",
    "MASTERS",
    "TokenAuthenticator",
    "UserInfo",
    "read_token_file",
    "service_account_user",
]

AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
MASTERS = "system:masters"
SA_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class UserInfo:
    """An authenticated identity."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()

    def with_authenticated(self) -> UserInfo:
        """The user with ``system:authenticated`` added (anonymous stays as it is)."""
        if self.name == ANONYMOUS.name or AUTHENTICATED in self.groups:
            return self
        return UserInfo(self.name, self.uid, (*self.groups, AUTHENTICATED))

    def to_dict(self) -> dict[str, Any]:
        """``UserInfo`` as SelfSubjectReview shows it."""
        shown: dict[str, Any] = {"username": self.name}
        if self.uid:
            shown["uid"] = self.uid
        shown["groups"] = list(self.groups)
        return shown


ANONYMOUS = UserInfo("system:anonymous", groups=(UNAUTHENTICATED,))
ADMIN_USER = UserInfo("sandbox-admin", groups=(MASTERS, AUTHENTICATED))


def service_account_user(namespace: str, name: str, uid: str = "") -> UserInfo:
    """The user a service account's token authenticates as."""
    groups = ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED)
    return UserInfo(f"{SA_PREFIX}{namespace}:{name}", uid, groups)


def parse_service_account(username: str) -> tuple[str, str] | None:
    """``(namespace, name)`` of a ``system:serviceaccount:<ns>:<name>`` user."""
    if not username.startswith(SA_PREFIX):
        return None
    parts = username[len(SA_PREFIX) :].split(":")
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


def read_token_file(path: str | Path) -> dict[str, UserInfo]:
    """Tokens from a kube-apiserver token file (``token,user,uid,"g1,g2"`` per line).

    :raises ValueError: for a line with fewer than three fields.
    """
    tokens: dict[str, UserInfo] = {}
    with Path(path).open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) < 3:
                raise ValueError(f"{path}:{number}: need token,user,uid[,groups]")
            groups = (
                tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
            )
            tokens[row[0].strip()] = UserInfo(row[1].strip(), row[2].strip(), groups)
    return tokens


@dataclass(frozen=True)
class _BoundToken:
    namespace: str
    name: str
    uid: str
    expires: float


ServiceAccountLookup = Callable[[str, str], "str | None"]
"""``(namespace, name) -> uid`` of an existing ServiceAccount, else ``None``."""


class TokenAuthenticator:
    """Maps bearer tokens to users.

    :param lookup: finds a ServiceAccount's uid (bound tokens die with it).
    :param clock: seconds since the epoch.
    """

    def __init__(
        self, lookup: ServiceAccountLookup, clock: Callable[[], float] = time.time
    ) -> None:
        self._lookup = lookup
        self._clock = clock
        self._lock = threading.Lock()
        self._static: dict[str, UserInfo] = {}
        self._bound: dict[str, _BoundToken] = {}

    def add_token(self, token: str, user: UserInfo) -> None:
        """Accept ``token`` as ``user`` (a static token)."""
        with self._lock:
            self._static[token] = user

    def issue(self, user: UserInfo) -> str:
        """A new random static token for ``user``."""
        token = secrets.token_urlsafe(32)
        self.add_token(token, user)
        return token

    def issue_service_account(
        self, namespace: str, name: str, uid: str, expiration_seconds: int = 3600
    ) -> tuple[str, float]:
        """A token bound to the ServiceAccount ``uid``: ``(token, expiry epoch seconds)``."""
        token = "sandbox-sa." + secrets.token_urlsafe(32)
        expires = self._clock() + expiration_seconds
        with self._lock:
            self._bound[token] = _BoundToken(namespace, name, uid, expires)
        return token, expires

    def authenticate(self, token: str) -> UserInfo | None:
        """The user behind ``token``, or ``None`` when it is unknown, expired or unbound."""
        with self._lock:
            static = self._static.get(token)
            bound = self._bound.get(token)
        if static is not None:
            return static.with_authenticated()
        if bound is None or bound.expires <= self._clock():
            return None
        if self._lookup(bound.namespace, bound.name) != bound.uid:
            return None
        return service_account_user(bound.namespace, bound.name, bound.uid)
