"""Flink's ``MemorySize`` arithmetic: ``add``, ``subtract``, ``multiply``, human-readable form.

Sizes are Python ints standing for Java ``long`` byte counts. Each operation fails where
Flink's does (``Math.addExact``'s ``long overflow``, ``new MemorySize``'s ``bytes must be
>= 0``), so a derivation stops at the same step, with the same message, as Flink's.
"""

from __future__ import annotations

import math
from fractions import Fraction

from airflow_provider_flink_k8s.resources.memory.errors import JavaError
from airflow_provider_flink_k8s.resources.memory.java_format import big_decimal, format_fixed
from airflow_provider_flink_k8s.units import JAVA_LONG_MAX

__all__ = ["add", "human", "multiply", "subtract"]


_LONG_OVERFLOW = "long overflow"


def add(*sizes: int) -> int:
    """``MemorySize.add`` chained left to right: ``Math.addExact`` on non-negative longs."""
    total = 0
    for size in sizes:
        total += size
        if total > JAVA_LONG_MAX:
            raise JavaError(_LONG_OVERFLOW)
    return total


def subtract(size: int, other: int) -> int:
    """``MemorySize.subtract``: a negative result is refused by ``new MemorySize``."""
    if size < other:
        raise JavaError("bytes must be >= 0")
    return size - other


def multiply(size: int, multiplier: float) -> int:
    """``MemorySize.multiply(double)``."""
    if multiplier < 0:
        raise JavaError("multiplier must be >= 0")
    product = Fraction(size) * Fraction(big_decimal(multiplier))
    if product > JAVA_LONG_MAX:
        raise JavaError(_LONG_OVERFLOW)
    return math.trunc(product)


_UNITS = ((1, "bytes"), (1 << 10, "kb"), (1 << 20, "mb"), (1 << 30, "gb"), (1 << 40, "tb"))


def human(size: int) -> str:
    """``MemorySize.toHumanReadableString``: ``%.3f<unit> (%d bytes)``."""
    multiplier, unit = max(
        ((m, u) for m, u in _UNITS if size > m), default=_UNITS[0], key=lambda mu: mu[0]
    )
    if multiplier == 1:
        return f"{size} bytes"
    return f"{format_fixed(float(size) / float(multiplier), 3)}{unit} ({size} bytes)"
