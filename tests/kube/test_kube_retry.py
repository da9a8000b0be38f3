"""The retry policy: what is transient, how long to wait."""

from __future__ import annotations

import pytest

from airflow_provider_flink_k8s.exceptions import (
    KubernetesApiError,
    KubernetesUnavailable,
    ResourceConflict,
    ResourceNotFound,
    SpecError,
)
from airflow_provider_flink_k8s.kube.retry import RetryPolicy, is_transient


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses(status: int) -> None:
    assert is_transient(KubernetesApiError(status, "R", "m"))


@pytest.mark.parametrize("status", [400, 401, 403, 405, 410, 415, 422])
def test_final_statuses(status: int) -> None:
    assert not is_transient(KubernetesApiError(status, "R", "m"))


def test_final_and_transient_classes() -> None:
    assert is_transient(KubernetesUnavailable(None, "MaxRetryError", "refused"))
    assert not is_transient(ResourceNotFound(404, "NotFound", "m"))
    assert not is_transient(ResourceConflict(409, "Conflict", "m"))
    assert not is_transient(SpecError([]))
    assert not is_transient(ValueError("x"))


def test_exponential_back_off_is_capped() -> None:
    policy = RetryPolicy(attempts=6, initial_delay=0.5, max_delay=3.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_retry_after_is_honoured_within_the_cap() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=10.0)
    assert policy.delay(1, retry_after=4.0) == 4.0
    assert policy.delay(4, retry_after=1.0) == 4.0
    assert policy.delay(1, retry_after=60.0) == 10.0
    error = KubernetesApiError(429, "TooManyRequests", "m", retry_after=2.0)
    assert policy.delay_after(1, error) == 2.0
    assert policy.delay_after(1, ValueError()) == 0.5


@pytest.mark.parametrize(
    "kwargs", [{"attempts": 0}, {"initial_delay": -1.0}, {"max_delay": -1.0}, {"max_elapsed": -1.0}]
)
def test_policy_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
