"""One translation of client errors; nothing credential-shaped in the result."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
import urllib3
from kubernetes.client import ApiException

from airflow_provider_flink_k8s.exceptions import (
    FlinkK8sError,
    KubernetesApiError,
    KubernetesUnavailable,
    ResourceConflict,
    ResourceNotFound,
)
from airflow_provider_flink_k8s.kube.errors import (
    api_error,
    retry_after_of,
    scrub,
    status_body,
    translate_error,
)


def _status(code: int, reason: str, message: str, **details: Any) -> bytes:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    }
    return json.dumps(body).encode()


def _api_exception(
    status: int, body: bytes | None, headers: dict[str, str] | None = None
) -> ApiException:
    error = ApiException(status=status, reason="Phrase")
    error.body = body
    error.headers = headers
    return error


@pytest.mark.parametrize(
    ("code", "reason", "error_class"),
    [
        (400, "BadRequest", KubernetesApiError),
        (403, "Forbidden", KubernetesApiError),
        (404, "NotFound", ResourceNotFound),
        (409, "AlreadyExists", ResourceConflict),
        (409, "Conflict", ResourceConflict),
        (410, "Expired", KubernetesApiError),
        (422, "Invalid", KubernetesApiError),
        (429, "TooManyRequests", KubernetesApiError),
        (500, "InternalError", KubernetesApiError),
        (503, "ServiceUnavailable", KubernetesApiError),
    ],
)
def test_status_answers_map_to_the_most_specific_error(
    code: int, reason: str, error_class: type[KubernetesApiError]
) -> None:
    error = translate_error(_api_exception(code, _status(code, reason, f"what {code} says")))
    assert type(error) is error_class
    assert isinstance(error, FlinkK8sError)
    assert (error.status, error.reason, error.message) == (code, reason, f"what {code} says")
    assert str(error) == f"Kubernetes API: {code} {reason}: what {code} says"


def test_the_message_is_the_status_message_not_headers_or_body() -> None:
    headers = {"Audit-Id": "abc", "Set-Cookie": "session=s3cr3t"}
    body = _status(404, "NotFound", 'pods "p" not found', name="p", kind="pods")
    error = translate_error(_api_exception(404, body, headers))
    assert str(error) == 'Kubernetes API: 404 NotFound: pods "p" not found'
    assert "s3cr3t" not in str(error) and "Audit" not in repr(error)


def test_a_body_that_is_no_status_gives_the_http_phrase() -> None:
    error = translate_error(_api_exception(502, b"<html>bad gateway token=abc</html>"))
    assert (error.status, error.reason, error.message) == (502, "Phrase", "Phrase")
    assert api_error(502, None, b"not json").message == "Bad Gateway"
    assert api_error(599, None, None).message == "HTTP 599"


@pytest.mark.parametrize(
    ("headers", "status", "expected"),
    [
        ({"Retry-After": "3"}, None, 3.0),
        ({"retry-after": "1.5"}, None, 1.5),
        ([("Retry-After", "2")], None, 2.0),
        (None, {"details": {"retryAfterSeconds": 7}}, 7.0),
        (
            {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
            {"details": {"retryAfterSeconds": 4}},
            4.0,
        ),
        ({"Retry-After": "-1"}, None, None),
        ({}, {"details": {}}, None),
        (None, None, None),
    ],
)
def test_retry_after(headers: Any, status: Any, expected: float | None) -> None:
    assert retry_after_of(headers, status) == expected


def test_retry_after_reaches_the_error() -> None:
    body = _status(429, "TooManyRequests", "slow down", retryAfterSeconds=2)
    assert translate_error(_api_exception(429, body)).retry_after == 2.0
    assert translate_error(_api_exception(429, body, {"Retry-After": "5"})).retry_after == 5.0


def test_transport_errors_are_unavailable() -> None:
    cause = urllib3.exceptions.NewConnectionError(
        None, "Failed to establish a new connection: [Errno 111] Connection refused"
    )  # type: ignore[arg-type]
    refused = urllib3.exceptions.MaxRetryError(None, "/api/v1/pods", cause)  # type: ignore[arg-type]
    error = translate_error(refused)
    assert type(error) is KubernetesUnavailable
    assert error.status is None and error.reason == "MaxRetryError"
    assert "Connection refused" in error.message
    tls = translate_error(ApiException(status=0, reason="SSLError\ncertificate verify failed"))
    assert (type(tls), tls.message) == (KubernetesUnavailable, "SSLError certificate verify failed")
    assert translate_error(ConnectionResetError()).message == "ConnectionResetError"


def test_our_errors_pass_through() -> None:
    error = ResourceNotFound(404, "NotFound", "gone")
    assert translate_error(error) is error


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig failed",
        "headers={'Authorization': 'Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig'}",
        "GET https://admin:eyJhbGciOiJSUzI1NiJ9@example.com/api",
        "token=eyJhbGciOiJSUzI1NiJ9.payload.sig&x=1",
        'password: "eyJhbGciOiJSUzI1NiJ9"',
    ],
)
def test_scrub_removes_credentials(text: str) -> None:
    assert "eyJhbGciOiJSUzI1NiJ9" not in scrub(text)


def test_scrub_keeps_ordinary_text_and_cuts_long_text() -> None:
    text = "HTTPConnectionPool(host='127.0.0.1', port=1): Connection refused"
    assert scrub(text) == text
    assert len(scrub("x" * 2000)) == 500


def test_status_body() -> None:
    assert status_body(_status(404, "NotFound", "m"))["reason"] == "NotFound"  # type: ignore[index]
    assert status_body(b'{"kind": "Pod"}') is None
    assert status_body(b"[1]") is None
    assert status_body(None) is None


@pytest.mark.parametrize(
    "error_class", [KubernetesApiError, ResourceNotFound, ResourceConflict, KubernetesUnavailable]
)
def test_errors_pickle_with_their_fields(error_class: type[KubernetesApiError]) -> None:
    error = error_class(409, "Conflict", "stale", retry_after=1.0)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is error_class
    assert (copy.status, copy.reason, copy.message, copy.retry_after) == (
        409,
        "Conflict",
        "stale",
        1.0,
    )
    assert str(copy) == str(error)
