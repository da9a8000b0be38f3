"""When to try a Kubernetes request again, and how long to wait first: a policy as a value.

Transient (retried): no answer at all (:class:`KubernetesUnavailable`: refused, reset,
timed out), 429 Too Many Requests, and 500/502/503/504. Everything else is final -- 400,
401, 403, 404, 405, 409, 410, 415 and 422 cannot succeed by asking again.

The wait doubles from ``initial_delay`` up to ``max_delay``; a server's ``Retry-After``
(header or ``details.retryAfterSeconds``) is honoured when longer, still capped at
``max_delay``. The hooks give the policy to tenacity; nothing here sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_flink_k8s.exceptions import KubernetesApiError, KubernetesUnavailable

__all__ = ["RetryPolicy", "TRANSIENT_STATUSES", "is_transient"]

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
"""HTTP statuses worth another try."""


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` may go away by asking again (see the module's table)."""
    if isinstance(error, KubernetesUnavailable):
        return True
    return isinstance(error, KubernetesApiError) and error.status in TRANSIENT_STATUSES


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry transient failures.

    :param attempts: tries in all, the first included (1 = never retry).
    :param initial_delay: seconds before the second try; doubled for each further one.
    :param max_delay: the longest single wait, ``Retry-After`` included.
    :param max_elapsed: stop retrying once this many seconds have passed since the first try.
    """

    attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 30.0
    max_elapsed: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")
        if self.initial_delay < 0 or self.max_delay < 0 or self.max_elapsed < 0:
            raise ValueError("delays must not be negative")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based).

        :param attempt: the try that just failed.
        :param retry_after: what the server asked for, if anything.
        """
        backoff = self.initial_delay * 2.0 ** max(attempt - 1, 0)
        return min(max(backoff, retry_after or 0.0), self.max_delay)

    def delay_after(self, attempt: int, error: BaseException | None) -> float:
        """:meth:`delay` for ``error``, honouring its ``retry_after``."""
        retry_after = error.retry_after if isinstance(error, KubernetesApiError) else None
        return self.delay(attempt, retry_after)
