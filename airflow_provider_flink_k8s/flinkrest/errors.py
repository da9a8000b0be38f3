"""Flink's error answers, read into the provider's exceptions (pure: no transport).

Flink answers an error as ``{"errors": ["<message>", ...]}``; a message is often a Java
stack trace (``org.apache...RestHandlerException: Job x not found\\n\\tat ...``), and an
internal error comes as ``["Internal server error.", "<Exception on server side:\\n...>"]``.
Through the Kubernetes API server's proxy, the proxy's own failures are a Kubernetes
``Status`` (``{"kind": "Status", "message": "no endpoints available for service ..."}``).
:func:`error_from_answer` turns either into a :class:`FlinkRestError` carrying Flink's
messages with the frames cut off; :func:`redact` keeps credentials out of every message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

from airflow_provider_flink_k8s.exceptions import (
    FlinkRestError,
    FlinkRestNotFound,
    FlinkRestUnavailable,
)

__all__ = [
    "REDACTED",
    "error_from_answer",
    "flink_messages",
    "parse_retry_after",
    "redact",
    "summarize_java_error",
    "unavailable",
    "unexpected_answer",
]

REDACTED = "***"

_FRAME = re.compile(r"^\s*(at |\.\.\. \d+ more|\.\.\. \d+ common frames omitted)")
_WRAPPER = re.compile(r"^\s*(<Exception on server side:|End of exception on server side>)\s*$")
_JAVA_PREFIX = re.compile(r"^(?:[A-Za-z_$][\w$]*\.)+[A-Za-z_$][\w$]*:\s*")
_SIMPLE_PREFIX = re.compile(r"^[A-Z][\w$]*(?:Exception|Error|Throwable):\s*")
_BARE_CLASS = re.compile(r"^(?:[A-Za-z_$][\w$]*\.)*[A-Z][\w$]*(?:Exception|Error|Throwable)$")
_GENERIC = "Internal server error."
_MAX_MESSAGE = 400
_MAX_CAUSES = 2


def summarize_java_error(text: str) -> str:
    """One line from a Java error: the headline and the deepest causes, class names and
    frames cut off.

    ``java.util.concurrent.CompletionException: a.b.RestHandlerException: Jar x does not
    exist\\n\\tat ...\\nCaused by: ...`` becomes ``Jar x does not exist``; distinct
    ``Caused by`` messages are appended as ``; caused by: ...`` (the last two).
    """
    messages: list[str] = []
    for line in text.splitlines():
        if not line.strip() or _FRAME.match(line) or _WRAPPER.match(line):
            continue
        message = _strip_class_names(line.strip())
        if message and not any(message in kept for kept in messages):
            messages.append(message)
    if not messages:
        return ""
    head, causes = messages[0], messages[1:][-_MAX_CAUSES:]
    return "; caused by: ".join(_clip(m) for m in [head, *causes])


def flink_messages(body: Any) -> tuple[str, ...]:
    """Flink's messages in an error body: ``errors`` summarized, or a Kubernetes
    ``Status``'s ``message``; ``()`` for anything else.

    The generic ``Internal server error.`` is dropped when a real message follows it.
    """
    if not isinstance(body, Mapping):
        return ()
    if body.get("kind") == "Status" and isinstance(body.get("message"), str):
        return (_clip(body["message"].strip()),)
    errors = body.get("errors")
    if not isinstance(errors, list):
        return ()
    messages = [summarize_java_error(str(error)) for error in errors]
    messages = [m for m in messages if m]
    if len(messages) > 1 and messages[0] == _GENERIC:
        messages = messages[1:]
    return tuple(messages)


def error_from_answer(
    *,
    method: str,
    path: str,
    endpoint: str,
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    now: float,
    secrets: Iterable[str] = (),
) -> FlinkRestError:
    """The exception for an error answer (status >= 300).

    404 gives :class:`FlinkRestNotFound`; 502, 503 and 504 (a proxy or gateway found no
    Flink, or Flink has no leader) give :class:`FlinkRestUnavailable` (503: not sent on,
    so safe to repeat); everything else :class:`FlinkRestError`. A Kubernetes ``Status``
    answering 404 or 5xx comes from the API server's proxy, not from Flink (no Service,
    no Endpoints, nothing listening): :class:`FlinkRestUnavailable`, not sent on.
    ``Retry-After`` is kept for 429 and 503.

    :param headers: the answer's headers, names in lower case.
    :param now: the time (epoch seconds) a ``Retry-After`` date is measured from.
    :param secrets: values (tokens, passwords) to replace with ``***`` in messages.
    """
    hidden = tuple(secrets)
    body = _decode(content)
    errors = tuple(redact(m, hidden) for m in flink_messages(body))
    if not errors:
        errors = _plain_text(headers, content, hidden)
    detail = "; ".join(errors) or _reason(status)
    message = f"Flink REST {method} {path} at {endpoint}: HTTP {status}: {detail}"
    retry_after = None
    if status in (429, 503):
        retry_after = parse_retry_after(headers.get("retry-after"), now)
    fields: dict[str, Any] = {
        "method": method,
        "path": path,
        "status": status,
        "errors": errors,
        "retry_after": retry_after,
    }
    from_proxy = isinstance(body, Mapping) and body.get("kind") == "Status"
    if from_proxy and (status == 404 or status >= 500):
        return FlinkRestUnavailable(message, request_sent=False, **fields)
    if status == 404:
        return FlinkRestNotFound(message, **fields)
    if status in (502, 503, 504):
        return FlinkRestUnavailable(message, request_sent=status != 503, **fields)
    return FlinkRestError(message, **fields)


def unavailable(
    *,
    method: str,
    path: str,
    endpoint: str,
    reason: str,
    request_sent: bool,
    secrets: Iterable[str] = (),
) -> FlinkRestUnavailable:
    """The exception for a call nothing answered (refused, timed out, dropped)."""
    detail = redact(reason, tuple(secrets))
    return FlinkRestUnavailable(
        f"Flink REST {method} {path}: no answer from {endpoint}: {detail}",
        method=method,
        path=path,
        request_sent=request_sent,
    )


def unexpected_answer(
    *, method: str, path: str, endpoint: str, status: int, problem: str
) -> FlinkRestError:
    """The exception for a success answer this client cannot read (not JSON, wrong shape)."""
    return FlinkRestError(
        f"Flink REST {method} {path} at {endpoint}: unexpected answer: {_clip(problem)}",
        method=method,
        path=path,
        status=status,
    )


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait: delta seconds or an HTTP date
    (``None`` when absent or unreadable; never negative)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - now)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (longest first, 4+ characters) replaced by ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


# --- helpers --------------------------------------------------------------------------------


def _strip_class_names(line: str) -> str:
    line = line.removeprefix("Caused by: ").strip()
    stripped = line
    while match := _JAVA_PREFIX.match(stripped) or _SIMPLE_PREFIX.match(stripped):
        if match.end() >= len(stripped):
            break
        stripped = stripped[match.end() :].strip()
    if stripped == line and _BARE_CLASS.match(line):  # no message: the class says it all
        return line.rsplit(".", 1)[-1]
    return stripped


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _decode(content: bytes) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


def _plain_text(
    headers: Mapping[str, str], content: bytes, secrets: tuple[str, ...]
) -> tuple[str, ...]:
    if not headers.get("content-type", "").startswith("text/plain"):
        return ()
    text = content.decode("utf-8", "replace").strip()
    first = text.splitlines()[0].strip() if text else ""
    return (redact(_clip(first), secrets),) if first else ()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"
