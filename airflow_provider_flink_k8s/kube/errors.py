"""Client errors -> the provider's :class:`~.exceptions.KubernetesApiError` and its subclasses.

One translation for both clients: :func:`translate_error` reads what the ``kubernetes`` and
``kubernetes_asyncio`` ``ApiException`` (or a transport error) carries, and
:func:`api_error` turns an HTTP answer into the most specific error. Hooks call them as
``raise translate_error(exc) from exc``.

What an error says is the API's ``Status`` message (``deployments.apps "x" not found``),
else the HTTP phrase -- never response headers, a request, a token or the kubeconfig. A
transport error's text is scrubbed of anything that looks like a credential.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from airflow_provider_flink_k8s.exceptions import (
    KubernetesApiError,
    KubernetesUnavailable,
    ResourceConflict,
    ResourceNotFound,
)

__all__ = [
    "api_error",
    "retry_after_of",
    "scrub",
    "status_body",
    "translate_error",
]

_BY_STATUS: dict[int, type[KubernetesApiError]] = {404: ResourceNotFound, 409: ResourceConflict}

# Anything credential-shaped in a transport error's text: an Authorization header or bearer
# token, key=value secrets, and the user-info part of a URL.
_SECRETS = (
    (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\",}\s]+(\s+[^'\",}\s]+)?"),
        r"\1***",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 ***"),
    (
        re.compile(
            r"(?i)\b(token|password|passwd|secret|api[_-]?key)(['\"]?\s*[:=]\s*['\"]?)[^'\"&,}\s]+"
        ),
        r"\1\2***",
    ),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s:]+:[^/@\s]+@"), r"\1***@"),
)
_MAX_TEXT = 500


def scrub(text: str) -> str:
    """``text`` with credential-shaped parts replaced by ``***``, cut to 500 characters."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def status_body(body: bytes | str | None) -> dict[str, Any] | None:
    """The ``Status`` object of an error answer, ``None`` when the body is not one."""
    if body is None:
        return None
    try:
        parsed = json.loads(body)
    except (TypeError, ValueError):
        return None
    if isinstance(parsed, dict) and parsed.get("kind") == "Status":
        return parsed
    return None


def _header(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None, name: str) -> Any:
    if headers is None:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if str(key).lower() == name.lower():
            return value
    return None


def retry_after_of(
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
    status: Mapping[str, Any] | None = None,
) -> float | None:
    """Seconds the server asked to wait: the ``Retry-After`` header (in seconds), else the
    ``Status``'s ``details.retryAfterSeconds``; ``None`` when it asked nothing."""
    for value in (
        _header(headers, "Retry-After"),
        ((status or {}).get("details") or {}).get("retryAfterSeconds"),
    ):
        if value is None:
            continue
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if seconds >= 0:
            return seconds
    return None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def api_error(
    status: int,
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
    body: bytes | str | None,
    *,
    phrase: str | None = None,
) -> KubernetesApiError:
    """The error for an HTTP answer: :class:`ResourceNotFound` for 404,
    :class:`ResourceConflict` for 409, :class:`KubernetesApiError` otherwise.

    :param status: the HTTP status.
    :param headers: the answer's headers (only ``Retry-After`` is read).
    :param body: the answer's body; a ``Status`` gives the reason and message.
    :param phrase: the HTTP reason phrase the client saw, used when there is no ``Status``.
    """
    parsed = status_body(body)
    fallback = phrase or _phrase(status)
    reason = str((parsed or {}).get("reason") or fallback.replace(" ", ""))
    message = str((parsed or {}).get("message") or fallback)
    error_class = _BY_STATUS.get(status, KubernetesApiError)
    return error_class(status, reason, message, retry_after=retry_after_of(headers, parsed))


def translate_error(exc: BaseException) -> KubernetesApiError:
    """The provider's error for whatever a client raised.

    An ``ApiException`` with an HTTP status (either client) becomes :func:`api_error`'s
    answer; one without (``status`` 0: TLS failures) and any transport error
    (connection refused or reset, timeouts) become :class:`KubernetesUnavailable`. Our own
    errors pass through unchanged.
    """
    if isinstance(exc, KubernetesApiError):
        return exc
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status > 0:
        reason = getattr(exc, "reason", None)
        return api_error(
            status,
            getattr(exc, "headers", None),
            getattr(exc, "body", None),
            phrase=reason if isinstance(reason, str) else None,
        )
    reason = getattr(exc, "reason", None)
    detail = reason if isinstance(reason, str) and reason else str(exc)
    name = type(exc).__name__
    message = scrub(" ".join(detail.split())) or name
    return KubernetesUnavailable(None, name, message)
