"""When to repeat a failed REST call, and how long to wait first (pure decisions).

The hooks hand these to tenacity; nothing here sleeps. The policy:

========================================  ==============  ==================
failure                                   idempotent      not idempotent
========================================  ==============  ==================
no connection (refused, connect timeout)  retry           retry
no answer after sending (read timeout)    retry           never
proxy: no Service or Endpoints (404)      retry           retry
429, 503 (refused before processing)      retry           retry
500, 502, 504                             retry           never
anything else (400, 403, 404, 409, 422)   never           never
========================================  ==============  ==================

A call is idempotent when sending it twice has the effect of sending it once: reads,
``PUT`` of resource requirements, cancel, jar deletion, and the savepoint and
stop-with-savepoint triggers (they carry a ``triggerId``, which Flink registers once).
Jar uploads and runs are not: a repeat would store another jar or submit another job.

Waits double from ``initial_delay`` up to ``max_delay``; a ``Retry-After`` on 429/503 is
honoured when longer (up to ``max_retry_after``: a server asking for more ends the
retries). No try is scheduled to start later than ``max_elapsed`` seconds after the
first, and at most ``attempts`` are made. The field names match
:class:`airflow_provider_flink_k8s.kube.retry.RetryPolicy`.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_flink_k8s.exceptions import FlinkRestError, FlinkRestUnavailable

__all__ = ["ALWAYS_RETRIED_STATUSES", "IDEMPOTENT_RETRIED_STATUSES", "RetryPolicy"]

ALWAYS_RETRIED_STATUSES = frozenset({429, 503})
"""Statuses that say the request was refused before it was processed."""
IDEMPOTENT_RETRIED_STATUSES = frozenset({500, 502, 504})
"""Statuses after which the request may or may not have taken effect."""


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential back-off for Flink REST calls.

    :param attempts: tries in all, the first included (1 = never retry).
    :param initial_delay: seconds before the second try; doubled for each further one.
    :param max_delay: the longest computed wait.
    :param max_elapsed: no try starts once this many seconds have passed since the first.
    :param max_retry_after: the longest ``Retry-After`` honoured; a server asking for more
        gets its error raised at once (with ``retry_after`` set).
    """

    attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 10.0
    max_elapsed: float = 60.0
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")
        delays = (self.initial_delay, self.max_delay, self.max_elapsed, self.max_retry_after)
        if min(delays) < 0:
            raise ValueError("delays must not be negative")

    @classmethod
    def never(cls) -> RetryPolicy:
        """One try per call."""
        return cls(attempts=1)

    def should_retry(self, error: BaseException, *, idempotent: bool) -> bool:
        """Whether a call that failed with ``error`` may be sent again (the module's table)."""
        if not isinstance(error, FlinkRestError):
            return False
        if error.retry_after is not None and error.retry_after > self.max_retry_after:
            return False
        if isinstance(error, FlinkRestUnavailable):
            if not error.request_sent:
                return True  # Flink never saw it
            if error.status is None:
                return idempotent
        if error.status in ALWAYS_RETRIED_STATUSES:
            return True
        return idempotent and error.status in IDEMPOTENT_RETRIED_STATUSES

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based).

        :param retry_after: what the server asked for, if anything; honoured when longer.
        """
        backoff = min(self.max_delay, self.initial_delay * 2.0 ** max(attempt - 1, 0))
        return max(backoff, retry_after or 0.0)

    def delay_after(self, attempt: int, error: BaseException | None) -> float:
        """:meth:`delay` for ``error``, honouring its ``retry_after``."""
        retry_after = error.retry_after if isinstance(error, FlinkRestError) else None
        return self.delay(attempt, retry_after)
