"""The retry policy as a table: what may be repeated, and how long to wait first."""

from __future__ import annotations

import pytest

from airflow_provider_flink_k8s.exceptions import (
    FlinkRestError,
    FlinkRestNotFound,
    FlinkRestUnavailable,
    SavepointFailed,
)
from airflow_provider_flink_k8s.flinkrest import RetryPolicy

POLICY = RetryPolicy()


def _status(status: int, retry_after: float | None = None) -> FlinkRestError:
    cls = {404: FlinkRestNotFound, 502: FlinkRestUnavailable, 503: FlinkRestUnavailable}.get(
        status, FlinkRestError
    )
    return cls("x", status=status, retry_after=retry_after)


@pytest.mark.parametrize(
    ("error", "idempotent", "not_idempotent"),
    [
        (FlinkRestUnavailable("refused", request_sent=False), True, True),
        (FlinkRestUnavailable("read timeout", request_sent=True), True, False),
        (_status(429), True, True),
        (_status(503), True, True),
        (_status(429, retry_after=30), True, True),
        (_status(429, retry_after=31), False, False),
        (_status(500), True, False),
        (_status(502), True, False),
        (_status(504), True, False),
        (_status(400), False, False),
        (_status(401), False, False),
        (_status(403), False, False),
        (_status(404), False, False),
        (_status(409), False, False),
        (_status(422), False, False),
        (FlinkRestError("odd protocol"), False, False),
        (SavepointFailed("j", "t", "c"), False, False),
        (ValueError("bug"), False, False),
    ],
    ids=lambda value: value if isinstance(value, bool) else repr(value),
)
def test_what_may_be_repeated(error: BaseException, idempotent: bool, not_idempotent: bool) -> None:
    assert POLICY.should_retry(error, idempotent=True) is idempotent
    assert POLICY.should_retry(error, idempotent=False) is not_idempotent


@pytest.mark.parametrize(
    ("attempt", "retry_after", "delay"),
    [
        (1, None, 0.5),
        (2, None, 1.0),
        (3, None, 2.0),
        (5, None, 8.0),
        (6, None, 10.0),
        (9, None, 10.0),
        (1, 3.0, 3.0),
        (4, 1.0, 4.0),
        (1, 25.0, 25.0),
        (0, None, 0.5),
    ],
)
def test_delays_double_to_the_cap_and_honour_a_longer_retry_after(
    attempt: int, retry_after: float | None, delay: float
) -> None:
    assert POLICY.delay(attempt, retry_after) == delay


def test_delay_after_reads_the_errors_retry_after() -> None:
    assert POLICY.delay_after(1, _status(503, retry_after=2.5)) == 2.5
    assert POLICY.delay_after(2, ValueError()) == 1.0
    assert POLICY.delay_after(1, None) == 0.5


@pytest.mark.parametrize("fields", [{"attempts": 0}, {"initial_delay": -1}, {"max_elapsed": -0.1}])
def test_a_policy_refuses_nonsense(fields: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**fields)  # type: ignore[arg-type]


def test_never_is_one_try() -> None:
    assert RetryPolicy.never().attempts == 1


@pytest.mark.parametrize("status", [404, 500, 503])
def test_a_proxy_failure_never_reached_flink_so_it_is_repeated(status: int) -> None:
    error = FlinkRestUnavailable("no endpoints", status=status, request_sent=False)
    assert POLICY.should_retry(error, idempotent=False)
