"""Kubernetes ``Status`` objects for every failure, worded as the API server words them.

:class:`ApiError` carries one ``Status`` dict; the HTTP layer sends it with its ``code``.
Builders follow apimachinery's ``pkg/api/errors``: ``details.kind`` is the resource
(plural) for NotFound/AlreadyExists/Conflict/Forbidden and the Kind for Invalid.
:class:`FieldError` mirrors ``field.Error``: ``str()`` is ``"<field>: <body>"`` and the
body is what a ``StatusCause`` message holds.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "OBJECT_MODIFIED",
    "ApiError",
    "ErrorType",
    "FieldError",
    "GoLiteral",
    "already_exists",
    "bad_request",
    "conflict",
    "expired",
    "forbidden",
    "internal_error",
    "invalid",
    "method_not_allowed",
    "namespace_terminating",
    "not_found",
    "path_not_found",
    "qualified",
    "status_failure",
    "too_large_resource_version",
    "unknown_error",
    "unsupported_media_type",
]

OBJECT_MODIFIED = (
    "the object has been modified; please apply your changes to the latest version and try again"
)

_NO_VALUE: Any = object()


class ErrorType(enum.Enum):
    """``field.ErrorType``: the cause ``reason`` and the phrase that starts the body."""

    REQUIRED = ("FieldValueRequired", "Required value")
    INVALID = ("FieldValueInvalid", "Invalid value")
    TYPE_INVALID = ("FieldValueTypeInvalid", "Invalid value")
    NOT_SUPPORTED = ("FieldValueNotSupported", "Unsupported value")
    FORBIDDEN = ("FieldValueForbidden", "Forbidden")
    DUPLICATE = ("FieldValueDuplicate", "Duplicate value")
    TOO_LONG = ("FieldValueTooLong", "Too long")

    @property
    def reason(self) -> str:
        return self.value[0]


class GoLiteral(str):
    """A field value printed as written (e.g. Go's ``%#v`` of a map), not JSON-quoted."""


def _go_value(value: Any) -> str:
    if isinstance(value, GoLiteral):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class FieldError:
    """One broken rule at one field path (``spec.replicas``)."""

    type: ErrorType
    field: str
    value: Any = _NO_VALUE
    detail: str = ""

    def body(self) -> str:
        """The message without the field: ``Invalid value: -1: must be ...``."""
        phrase = self.type.value[1]
        if self.type in (ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG):
            return f"{phrase}: {self.detail}" if self.detail else phrase
        text = phrase if self.value is _NO_VALUE else f"{phrase}: {_go_value(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}" if self.field else self.body()

    def cause(self) -> dict[str, Any]:
        return {"reason": self.type.reason, "message": self.body(), "field": self.field}


class ApiError(Exception):
    """Raised to answer a request with a ``Status`` failure."""

    def __init__(self, status: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(status["message"])
        self.status = status
        self.headers = headers or {}

    @property
    def code(self) -> int:
        return int(self.status["code"])

    @property
    def reason(self) -> str:
        return str(self.status.get("reason", ""))


def status_failure(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A ``Status`` with ``status: Failure``; empty details are left out, as Go omits them."""
    status: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
    }
    if reason:
        status["reason"] = reason
    if details is not None:
        status["details"] = {k: v for k, v in details.items() if v not in ("", None, [])}
    status["code"] = code
    return status


def qualified(group: str, resource: str) -> str:
    """``deployments.apps`` / ``pods``: a GroupResource as Kubernetes prints it."""
    return f"{resource}.{group}" if group else resource


def _resource_error(
    code: int, reason: str, group: str, resource: str, name: str, message: str
) -> ApiError:
    details = {"name": name, "group": group, "kind": resource}
    return ApiError(status_failure(code, reason, message, details))


def not_found(group: str, resource: str, name: str) -> ApiError:
    message = f'{qualified(group, resource)} "{name}" not found'
    return _resource_error(404, "NotFound", group, resource, name, message)


def already_exists(group: str, resource: str, name: str) -> ApiError:
    message = f'{qualified(group, resource)} "{name}" already exists'
    return _resource_error(409, "AlreadyExists", group, resource, name, message)


def conflict(group: str, resource: str, name: str, detail: str = OBJECT_MODIFIED) -> ApiError:
    message = f'Operation cannot be fulfilled on {qualified(group, resource)} "{name}": {detail}'
    return _resource_error(409, "Conflict", group, resource, name, message)


def forbidden(group: str, resource: str, name: str, detail: str) -> ApiError:
    subject = f'{qualified(group, resource)} "{name}"' if name else qualified(group, resource)
    message = f"{subject} is forbidden: {detail}"
    return _resource_error(403, "Forbidden", group, resource, name, message)


def namespace_terminating(group: str, resource: str, name: str, namespace: str) -> ApiError:
    """403 for a create in a namespace that is being deleted."""
    error = forbidden(
        group,
        resource,
        name,
        f"unable to create new content in namespace {namespace} because it is being terminated",
    )
    error.status["details"]["causes"] = [
        {
            "reason": "NamespaceTerminating",
            "message": f"namespace {namespace} is being terminated",
            "field": "metadata.namespace",
        }
    ]
    return error


def _aggregate(errors: Sequence[FieldError]) -> str:
    texts = [str(error) for error in errors]
    return texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"


def invalid(group: str, kind: str, name: str, errors: Iterable[FieldError]) -> ApiError:
    """422 ``Invalid``: ``Deployment.apps "x" is invalid: spec.replicas: Invalid value: ...``."""
    errors = list(errors)
    qualified_kind = f"{kind}.{group}" if group else kind
    message = f'{qualified_kind} "{name}" is invalid: {_aggregate(errors)}'
    details = {
        "name": name,
        "group": group,
        "kind": kind,
        "causes": [error.cause() for error in errors],
    }
    return ApiError(status_failure(422, "Invalid", message, details))


def bad_request(message: str) -> ApiError:
    return ApiError(status_failure(400, "BadRequest", message))


def method_not_allowed() -> ApiError:
    message = "the server does not allow this method on the requested resource"
    return ApiError(status_failure(405, "MethodNotAllowed", message, {}))


def path_not_found() -> ApiError:
    message = "the server could not find the requested resource"
    return ApiError(status_failure(404, "NotFound", message, {}))


def unsupported_media_type(accepted: Sequence[str]) -> ApiError:
    message = (
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted)
    )
    return ApiError(status_failure(415, "UnsupportedMediaType", message, {}))


def expired(message: str) -> ApiError:
    return ApiError(status_failure(410, "Expired", message))  # NewResourceExpired: no details


def too_large_resource_version(requested: int, current: int) -> ApiError:
    message = f"Too large resource version: {requested}, current: {current}"
    details = {
        "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
        "retryAfterSeconds": 1,
    }
    return ApiError(status_failure(504, "Timeout", message, details), {"Retry-After": "1"})


def internal_error(message: str) -> ApiError:
    details = {"causes": [{"message": message}]}
    message = f"Internal error occurred: {message}"
    return ApiError(status_failure(500, "InternalError", message, details))


def unknown_error(message: str) -> ApiError:
    """500 with no reason: what the server answers for an error it has no Status for."""
    return ApiError(status_failure(500, "", message))
