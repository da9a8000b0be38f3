"""Aligning a parallelism to key groups or source partitions (Flink's ``ParallelismAligner``)."""

from __future__ import annotations

from airflow_provider_flink_k8s.resources.sizing.model import AlignmentMode

__all__ = ["align_parallelism"]


def align_parallelism(
    *,
    current: int,
    target: int,
    key_groups_or_partitions: int,
    upper_bound: int,
    mode: AlignmentMode,
) -> int:
    """Align a bounded ``target`` to ``N`` key groups or partitions (``ParallelismAligner``).

    The search runs upward from ``target`` to ``min(N, upper_bound)`` on a scale-up and to
    ``min(current, N, upper_bound)`` otherwise, so it never crosses the current parallelism;
    only the cap can move the result below ``target`` (even below ``current``).

    ===================  ==========================================  ====================
    mode                 accepts the first ``q`` in the region with  when none is accepted
    ===================  ==========================================  ====================
    ``BALANCED``         ``N % q == 0`` or ``N // q < N // target``  ``min(target, cap)``
    ``EVENLY_SPREAD``    ``N % q == 0``                              ``min(target, cap)``
    ``OFF``              (no search)                                 ``target``
    ===================  ==========================================  ====================

    ``cap = min(N, upper_bound)``: a source never keeps more subtasks than partitions.

    :param upper_bound: ``min(max parallelism, parallelism upper limit)``.
    :raises ValueError: if ``target`` or ``key_groups_or_partitions`` is below 1.
    """
    if target < 1 or key_groups_or_partitions < 1:
        raise ValueError("target and key_groups_or_partitions must both be >= 1")
    if mode is AlignmentMode.OFF:
        return target
    n = key_groups_or_partitions
    cap = min(n, upper_bound)
    end = cap if target > current else min(current, cap)
    for q in range(target, end + 1):
        if n % q == 0 or (mode is AlignmentMode.BALANCED and n // q < n // target):
            return q
    return min(target, cap)
