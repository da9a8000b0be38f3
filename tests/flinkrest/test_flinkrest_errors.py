"""Flink's error answers read into the exception tree: Flink's messages without stack
traces, the class by status, Kubernetes ``Status`` bodies, ``Retry-After``, redaction."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from fake_flink import ANSWERS

from airflow_provider_flink_k8s.exceptions import (
    FlinkK8sError,
    FlinkRestError,
    FlinkRestNotFound,
    FlinkRestUnavailable,
)
from airflow_provider_flink_k8s.flinkrest import (
    error_from_answer,
    flink_messages,
    parse_retry_after,
    redact,
    summarize_java_error,
)
from airflow_provider_flink_k8s.flinkrest.errors import unavailable, unexpected_answer

NOW = 1_800_000_000.0
JOB = "f94b6f645c7df2034c249561eaa89d79"


@pytest.mark.parametrize(
    ("answer", "messages"),
    [
        (
            "error_job_unknown",
            (f"Job {'f' * 32} not found; caused by: Could not find Flink job ({'f' * 32})",),
        ),
        (
            "error_run_missing_jar",
            (
                "Jar file /tmp/flink/jobmanager/tmp/flink-web-afd3e437-aa65-4eab-a622-"
                "6f1fb1f8053a/flink-web-upload/nonexistent.jar does not exist",
            ),
        ),
        (
            "error_run_bad_class",
            ("The program's entry point class 'no.Such' was not found in the jar file.",),
        ),
        (
            "error_cancel_finished",
            (
                "Job cancellation failed because the job has already reached another "
                "terminal state (FINISHED).",
            ),
        ),
        (
            "error_job_id_bad",
            (
                "Bad request, could not parse parameters: Cannot resolve path parameter "
                '(jobid) from value "xyz".',
            ),
        ),
        ("error_no_route", ("Unable to load requested file /nope.",)),
    ],
)
def test_flink_messages_drop_stack_traces_and_class_names(
    answer: str, messages: tuple[str, ...]
) -> None:
    assert flink_messages(ANSWERS[answer]) == messages


def test_a_failed_savepoint_keeps_the_headline_and_the_deepest_causes() -> None:
    trace = ANSWERS["savepoint_failed"]["operation"]["failure-cause"]["stack-trace"]

    summary = summarize_java_error(trace)

    assert summary.startswith("An Exception occurred while triggering the checkpoint.")
    assert "Could not find a file system implementation for scheme 'hdfs'" in summary
    assert summary.endswith("caused by: Hadoop is not in the classpath/dependencies.")
    assert "\tat " not in summary and "java.util.concurrent" not in summary


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ("java.lang.NullPointerException\n\tat a.B.c(B.java:1)", "NullPointerException"),
        ("java.lang.ClassNotFoundException: no.Such", "no.Such"),
        ("RestHandlerException: Job x", "Job x"),
        ("file:/tmp/x: cannot write", "file:/tmp/x: cannot write"),
        ("e.g. this: that", "e.g. this: that"),
        ("", ""),
        ("x" * 1000, "x" * 397 + "..."),
    ],
)
def test_summarize_java_error(text: str, summary: str) -> None:
    assert summarize_java_error(text) == summary


@pytest.mark.parametrize(
    "body",
    [None, [], "text", {"errors": "not a list"}, {"kind": "Status"}, {"message": "x"}],
)
def test_bodies_without_flink_messages(body: Any) -> None:
    assert flink_messages(body) == ()


def _error(status: int, body: Any, headers: dict[str, str] | None = None) -> FlinkRestError:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return error_from_answer(
        method="GET",
        path=f"/jobs/{JOB}",
        endpoint="http://flink:8081 (direct)",
        status=status,
        headers=headers or {"content-type": "application/json"},
        content=content,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("status", "cls", "request_sent"),
    [
        (400, FlinkRestError, None),
        (403, FlinkRestError, None),
        (404, FlinkRestNotFound, None),
        (409, FlinkRestError, None),
        (429, FlinkRestError, None),
        (500, FlinkRestError, None),
        (502, FlinkRestUnavailable, True),
        (503, FlinkRestUnavailable, False),
        (504, FlinkRestUnavailable, True),
        (302, FlinkRestError, None),
    ],
)
def test_the_status_picks_the_class(
    status: int, cls: type[FlinkRestError], request_sent: bool | None
) -> None:
    error = _error(status, ANSWERS["error_job_unknown"])

    assert type(error) is cls
    assert isinstance(error, FlinkK8sError)
    assert error.status == status
    assert error.method == "GET" and error.path == f"/jobs/{JOB}"
    assert error.errors[0].startswith(f"Job {'f' * 32} not found")
    assert str(error).startswith(f"Flink REST GET /jobs/{JOB} at http://flink:8081 (direct): ")
    assert f"HTTP {status}: Job" in str(error)
    if request_sent is not None:
        assert isinstance(error, FlinkRestUnavailable)
        assert error.request_sent is request_sent


def test_the_proxy_status_of_no_endpoints_is_unavailable() -> None:
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'no endpoints available for service "orders-rest"',
        "reason": "ServiceUnavailable",
        "code": 503,
    }

    error = _error(503, status)

    assert isinstance(error, FlinkRestUnavailable)
    assert error.errors == ('no endpoints available for service "orders-rest"',)
    assert str(error).endswith('HTTP 503: no endpoints available for service "orders-rest"')


@pytest.mark.parametrize(
    ("headers", "content", "detail"),
    [
        ({"content-type": "text/html"}, b"<html><body>Bad Gateway</body></html>", "Bad Gateway"),
        ({"content-type": "text/plain"}, b"upstream connect error\nmore", "upstream connect error"),
        ({}, b"", "Bad Gateway"),
    ],
)
def test_a_gateway_page_gives_the_reason_or_its_first_line(
    headers: dict[str, str], content: bytes, detail: str
) -> None:
    error = _error(502, content, headers)
    assert str(error).endswith(f"HTTP 502: {detail}")


@pytest.mark.parametrize(
    ("status", "value", "retry_after"),
    [
        (429, "3", 3.0),
        (503, "0.5", 0.5),
        (503, format_datetime(datetime.fromtimestamp(NOW + 7, timezone.utc), usegmt=True), 7.0),
        (429, None, None),
        (500, "3", None),
    ],
)
def test_retry_after_is_kept_for_429_and_503(
    status: int, value: str | None, retry_after: float | None
) -> None:
    headers = {"retry-after": value} if value is not None else {}
    assert _error(status, {}, headers).retry_after == retry_after


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 2 ", 2.0),
        ("-5", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        (format_datetime(datetime.fromtimestamp(NOW + 30, timezone.utc), usegmt=True), 30.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_messages_are_redacted_of_known_secrets() -> None:
    echo = {"errors": ["Unauthorized: header was Bearer tok-SECRET-1 for user alice:pa55word"]}

    error = error_from_answer(
        method="GET",
        path="/overview",
        endpoint="http://flink (direct)",
        status=401,
        headers={},
        content=json.dumps(echo).encode(),
        now=NOW,
        secrets=("Bearer tok-SECRET-1", "tok-SECRET-1", "pa55word", "pw"),
    )

    assert "tok-SECRET-1" not in str(error) and "pa55word" not in str(error)
    assert "Bearer ***" not in str(error) and "header was *** for user alice:***" in str(error)
    assert all("SECRET" not in message for message in error.errors)


def test_redact_replaces_longest_first_and_ignores_short_values() -> None:
    assert redact("a Bearer abcd and abcd", ["abcd", "Bearer abcd", "a"]) == "a *** and ***"


def test_unavailable_and_unexpected_answers() -> None:
    error = unavailable(
        method="POST",
        path="/jars/x/run",
        endpoint="http://flink (direct)",
        reason="ReadTimeout: timed out",
        request_sent=True,
    )
    odd = unexpected_answer(
        method="GET", path="/overview", endpoint="http://flink (direct)", status=200, problem="x"
    )

    assert str(error) == "Flink REST POST /jars/x/run: no answer from http://flink (direct): " + (
        "ReadTimeout: timed out"
    )
    assert error.status is None and error.request_sent is True
    assert str(odd) == "Flink REST GET /overview at http://flink (direct): unexpected answer: x"
    assert odd.status == 200


@pytest.mark.parametrize(
    "error",
    [
        _error(503, {"errors": ["x"]}, {"retry-after": "2"}),
        _error(404, {"errors": ["gone"]}),
        unavailable(method="GET", path="/", endpoint="e", reason="r", request_sent=True),
    ],
)
def test_errors_survive_pickling(error: FlinkRestError) -> None:
    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is type(error)
    assert vars(copy) == vars(error)
    assert str(copy) == str(error)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (404, 'endpoints "orders-rest" not found'),
        (404, 'services "orders-rest" not found'),
        (503, 'no endpoints available for service "orders-rest"'),
        (503, "error trying to reach service: dial tcp 10.244.0.7:8081: connect: refused"),
    ],
)
def test_a_kubernetes_status_from_the_proxy_means_flink_was_not_reached(
    status: int, message: str
) -> None:
    body = {"kind": "Status", "status": "Failure", "message": message, "code": status}

    error = _error(status, body)

    assert type(error) is FlinkRestUnavailable
    assert error.request_sent is False
    assert error.errors == (message,)


def test_a_forbidden_proxy_call_stays_a_plain_rest_error() -> None:
    message = 'services "orders-rest" is forbidden: cannot get resource "services/proxy"'
    error = _error(403, {"kind": "Status", "message": message, "code": 403})

    assert type(error) is FlinkRestError
    assert error.errors == (message,)
