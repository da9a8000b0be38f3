"""Flink's and Kubernetes' quantity notations, and the trap between them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_flink_k8s.units import (
    QuantityError,
    decimal_memory_hint,
    format_cpu,
    format_flink_memory,
    format_k8s_memory,
    operator_memory_value,
    parse_cpu,
    parse_flink_memory,
    parse_k8s_quantity,
    parse_memory,
)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1600m", 1600 * 2**20),
        ("1600 MB", 1600 * 2**20),
        ("4g", 4 * 2**30),
        ("4 gibibytes", 4 * 2**30),
        ("12k", 12 * 1024),
        ("1t", 2**40),
        ("100", 100),
        ("100 bytes", 100),
        ("  64b ", 64),
    ],
)
def test_parse_flink_memory(text: str, size: int) -> None:
    assert parse_flink_memory(text) == size


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "argument is an empty- or whitespace-only string"),
        ("m", "text does not start with a number"),
        ("1.5g", "Memory size unit '.5g' does not match any of the recognized units"),
        ("2Gi", "Memory size unit 'gi' does not match"),
        ("99999999999999999999", "cannot be re represented as 64bit number (numeric overflow)"),
        ("9999999999t", "cannot be re represented as 64bit number of bytes"),
    ],
)
def test_parse_flink_memory_refuses_like_flink(text: str, message: str) -> None:
    with pytest.raises(QuantityError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_flink_memory(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2Gi", Decimal(2 * 2**30)),
        ("500m", Decimal("0.5")),
        ("1.5", Decimal("1.5")),
        ("1e3", Decimal(1000)),
        ("1E-3", Decimal("0.001")),
        ("100M", Decimal(100_000_000)),
        (".5", Decimal("0.5")),
        (3, Decimal(3)),
        (0.25, Decimal("0.25")),
    ],
)
def test_parse_k8s_quantity(text: str | int | float, value: Decimal) -> None:
    assert parse_k8s_quantity(text) == value


@pytest.mark.parametrize("text", ["", "Gi", "1 Gi", "1gi", "1.2.3", "1Kib", float("nan"), True])
def test_parse_k8s_quantity_refuses(text: object) -> None:
    with pytest.raises(QuantityError):
        parse_k8s_quantity(text)  # type: ignore[arg-type]


def test_flink_m_is_mebibytes_never_milli() -> None:
    # The trap: as a Kubernetes quantity "1600m" is 1.6 bytes.
    assert parse_k8s_quantity("1600m") == Decimal("1.6")
    assert parse_memory("1600m") == 1600 * 2**20
    assert parse_memory("2Gi") == 2 * 2**30
    assert parse_memory("1.5G") == 1_500_000_000


@pytest.mark.parametrize(
    ("text", "size"),
    [
        # Flink's MemorySize reads these, case-insensitively: G is GiB, M is MiB.
        ("2G", 2 * 2**30),
        ("2000M", 2000 * 2**20),
        # Flink refuses these; the operator removes whitespace, upper-cases the unit,
        # drops a trailing B and lowers a trailing I before reading a Kubernetes quantity.
        ("2048mi", 2048 * 2**20),
        ("2GI", 2 * 2**30),
        ("2 GiB", 2 * 2**30),
        ("1.5gi", 1536 * 2**20),
        ("1.5gb", 1_500_000_000),
        # ... so an m is never milli, even when Flink refuses it.
        ("1.5m", 1_500_000),
    ],
)
def test_memory_is_read_as_the_operator_reads_it(text: str, size: int) -> None:
    assert parse_memory(text) == size


@pytest.mark.parametrize(
    ("text", "handed"),
    [
        ("2048m", "2048m"),
        ("2Gi", "2147483648"),
        ("2048mi", "2147483648"),
        (2147483648, "2147483648"),
        # Java's BigDecimal keeps the amount's fraction digits; Flink refuses the result.
        ("1.5Gi", "1610612736.0"),
        ("1.5G", "1500000000.0"),
    ],
)
def test_what_the_operator_hands_flink(text: str | int, handed: str) -> None:
    assert operator_memory_value(text) == handed


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        (
            "2G",
            '"2G" is read as Flink\'s MemorySize: 2 GiB (2147483648 bytes), not 2 GB; if you '
            'meant 2 GB (decimal) write "2000000000" (bytes) or "1907m" (MiB, rounded down)',
        ),
        (
            "1M",
            '"1M" is read as Flink\'s MemorySize: 1 MiB (1048576 bytes), not 1 MB; if you '
            'meant 1 MB (decimal) write "976k" (KiB, rounded down)',
        ),
        ("2g", None),
        ("2gb", None),
        ("2048m", None),
        ("2Gi", None),
        ("1.5G", None),  # not Flink's: read as the decimal quantity it looks like
        (2147483648, None),
    ],
)
def test_decimal_memory_hint(text: str | int, hint: str | None) -> None:
    assert decimal_memory_hint(text) == hint


def test_cpu_m_is_milli() -> None:
    assert parse_cpu("500m") == 0.5
    assert parse_cpu(2) == 2.0
    with pytest.raises(QuantityError, match="must be greater than 0"):
        parse_cpu("0")


@pytest.mark.parametrize(
    ("cores", "text"),
    [(2.0, "2"), (0.5, "500m"), (1.25, "1250m"), (0.0001, "1m"), (3.0005, "3001m")],
)
def test_format_cpu(cores: float, text: str) -> None:
    assert format_cpu(cores) == text


@given(st.integers(min_value=1, max_value=2**50))
def test_memory_formats_round_trip(size: int) -> None:
    assert parse_memory(format_k8s_memory(size)) == size
    assert parse_memory(format_flink_memory(size)) == size
    assert parse_flink_memory(format_flink_memory(size)) == size


@pytest.mark.parametrize(
    ("text", "size"), [("\x011g", 2**30), ("128\x01m", 128 * 2**20), ("\t64 mb\n", 64 * 2**20)]
)
def test_flink_memory_trims_like_java(text: str, size: int) -> None:
    assert parse_flink_memory(text) == size


def test_non_breaking_space_is_not_trimmed_by_java() -> None:
    with pytest.raises(QuantityError, match="does not match any of the recognized units"):
        parse_flink_memory("1g\u00a0")
