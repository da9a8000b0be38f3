"""Flink's memory model, computed exactly as Flink 2.3 computes it.

:func:`taskmanager_memory` and :func:`jobmanager_memory` take a Flink configuration (keys to
string values, as Flink receives them from ``-D key=value`` or ``flinkConfiguration``) and
return every memory component in bytes, the JVM options Flink's scripts pass
(``-Xmx``/``-Xms``/``-XX:Max...``) and the ``-D`` properties BashJavaUtils hands the process.
Each refused configuration raises :class:`FlinkConfigurationError` with the message Flink
dies with, word for word.

What "exactly" covers (all of it checked byte for byte against Flink's own BashJavaUtils by
``tests/unit/resources/test_memory_oracle.py``):

* The derivation order of ``ProcessMemoryUtils``, ``TaskExecutorFlinkMemoryUtils`` and
  ``JobManagerFlinkMemoryUtils``: fine-grained sizes (TM task heap + managed size, JM heap)
  win over the total Flink size, which wins over the total process size; fractions with
  min/max for network, managed and JVM overhead memory; Flink's defaults; every range and
  consistency check, in the order Flink makes them, so the first failure reported is
  Flink's.
* Deprecated keys Flink 2.3 still reads as fallbacks: ``taskmanager.memory.size`` (managed
  size) and ``taskmanager.network.memory.{min,max,fraction}``. The pre-1.10 keys
  ``taskmanager.heap.size`` and ``jobmanager.heap.size`` are *not* read by Flink 2.3 (the
  legacy mapping was removed), so they are ignored here too.
* Value parsing: memory sizes with ``MemorySize.parse``, fractions with
  ``Float.parseFloat`` (``"4e-1"``, ``"0x1p-2"``, ``"0.4f"``, ``" 0.4 "`` are accepted,
  ``"inf"`` or ``"1_0"`` are not), CPU cores with ``Double.parseDouble``, slots with
  ``Integer.parseInt`` (no surrounding blanks), booleans case-insensitively.
* Arithmetic: fractions are Java floats widened to double; ``MemorySize.multiply`` is
  ``BigDecimal.valueOf(bytes) * BigDecimal.valueOf(double)`` truncated toward zero, where
  ``BigDecimal.valueOf(double)`` goes through ``Double.toString``. Long overflow fails like
  Flink's ``Math.addExact`` (``"long overflow"``).

``Double.toString`` on JDK 17 (the Java Flink 2.3 targets) is not Python's ``repr``: before
JDK 19 it sometimes prints more digits than the shortest round-trip string (``2.0**62`` is
``4.6116860184273879E18``, ``1e23`` is ``9.999999999999999E22``), and a different string is
a different ``BigDecimal``, so a product could differ by a byte. Sampling found no fraction
(a float widened to double) and no inverse ratio ``f / (1 - f)`` where JDK 17 and ``repr``
disagree, but sampling is no proof and ``taskmanager.cpu.cores`` takes any double, so this
module ports JDK 17's ``FloatingDecimal.dtoa`` (``int``/``long`` wrap-around included) and
``FormattedFloatingDecimal``: every double is printed as the JVM running Flink prints it,
including the ``%.3f`` of ``MemorySize.toHumanReadableString``, which rounds half-up on
those digits (``1.0005`` gives ``1.001`` where C's ``printf`` gives ``1.000``).

Messages: the TaskManager path prefixes Flink's own checks with ``TaskManager memory
configuration failed: ``; the JobManager path of Flink 2.3 has no such prefix, so
JobManager messages carry none either. Parse errors of non-memory options (``Could not
parse value ...``) and ``long overflow`` are never prefixed, as in Flink.

Not modelled: external resources (``external-resources``; the ``-D`` line always carries
``external-resources=none``) and YAML typing of values in a ``config.yaml`` file (a value
here is always the string Flink's ``Configuration`` holds).
"""

from __future__ import annotations

import math
import re
import struct
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext
from fractions import Fraction
from typing import TYPE_CHECKING, TypeVar

from airflow_provider_flink_k8s.exceptions import FlinkConfigurationError
from airflow_provider_flink_k8s.units import JAVA_LONG_MAX, QuantityError, parse_flink_memory

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

_T = TypeVar("_T")

__all__ = [
    "FlinkConfigurationError",
    "JobManagerMemory",
    "TaskManagerMemory",
    "jobmanager_memory",
    "taskmanager_memory",
]


# ---------------------------------------------------------------------------------------
# Java exceptions, as far as the messages go
# ---------------------------------------------------------------------------------------


class _JavaError(Exception):
    """A Java exception other than IllegalConfigurationException (passes wrappers untouched)."""


class _IllegalConfiguration(_JavaError):
    """Flink's IllegalConfigurationException: the one the TaskManager path prefixes."""


_LONG_OVERFLOW = "long overflow"


def _add(*sizes: int) -> int:
    """``MemorySize.add`` chained left to right: ``Math.addExact`` on non-negative longs."""
    total = 0
    for size in sizes:
        total += size
        if total > JAVA_LONG_MAX:
            raise _JavaError(_LONG_OVERFLOW)
    return total


def _subtract(size: int, other: int) -> int:
    """``MemorySize.subtract``: a negative result is refused by ``new MemorySize``."""
    if size < other:
        raise _JavaError("bytes must be >= 0")
    return size - other


# ---------------------------------------------------------------------------------------
# Java's number parsing (Float.parseFloat, Double.parseDouble, Integer.parseInt, Boolean)
# ---------------------------------------------------------------------------------------

# String.trim() removes every char <= U+0020, not Python's notion of whitespace.
_JAVA_BLANKS = "".join(chr(code) for code in range(0x21))
_HEX_FLOAT = re.compile(
    r"([-+])?0[xX](?:([0-9a-fA-F]+)\.?|([0-9a-fA-F]*)\.([0-9a-fA-F]+))[pP]([-+])?([0-9]+)[fFdD]?"
)
# (mantissa bits incl. the hidden one, minimum normal exponent, maximum exponent)
_BINARY32 = (24, -126, 127)
_BINARY64 = (53, -1022, 1023)


class _NumberFormat(Exception):
    """Java's NumberFormatException; Flink replaces its message with its own."""


def _java_trim(text: str) -> str:
    return text.strip(_JAVA_BLANKS)


def _round_to_binary(value: Fraction, fmt: tuple[int, int, int]) -> float:
    """Round a non-negative exact value to the nearest binary32/64, ties to even."""
    mantissa_bits, min_exp, max_exp = fmt
    if value == 0:
        return 0.0
    exponent = value.numerator.bit_length() - value.denominator.bit_length()
    if Fraction(2) ** exponent > value:
        exponent -= 1
    quantum = Fraction(2) ** (max(exponent, min_exp) - mantissa_bits + 1)
    units = value / quantum
    whole = units.numerator // units.denominator
    rest = units - whole
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and whole % 2 == 1):
        whole += 1
    result = whole * quantum
    if result >= Fraction(2) ** (max_exp + 1):
        return math.inf
    return float(result)


def _parse_hex_float(text: str, fmt: tuple[int, int, int]) -> float:
    match = _HEX_FLOAT.fullmatch(text)
    if match is None:
        raise _NumberFormat(text)
    sign, whole, int_part, frac_part, exp_sign, exp_digits = match.groups()
    digits = whole if whole is not None else (int_part or "") + frac_part
    shift = 0 if whole is not None else 4 * len(frac_part)
    negative = sign == "-"
    significand = int(digits, 16)
    if significand == 0:
        return -0.0 if negative else 0.0
    exponent = int(exp_digits) * (-1 if exp_sign == "-" else 1) - shift
    if abs(exponent) > 1 << 16:  # far beyond both formats: Flink gets infinity or zero
        magnitude = math.inf if exponent > 0 else 0.0
    else:
        magnitude = _round_to_binary(Fraction(significand) * Fraction(2) ** exponent, fmt)
    return -magnitude if negative else magnitude


def _scan_decimal(text: str, start: int) -> tuple[str, int, int, int]:
    """Scan digits and one point as readJavaFormatString does.

    :return: (significant digits, decimal exponent of ``0.<digits>``, digits seen after the
        leading zeros, index after the scan); the digit count is -1 when no digit was seen.
    """
    digits: list[str] = []
    leading = trailing = 0
    point: int | None = None
    pos = start
    while pos < len(text) and (text[pos] in "0123456789" or text[pos] == "."):
        char = text[pos]
        if char == ".":
            if point is not None:
                raise _NumberFormat(text)
            point = len(digits) + leading
        elif char == "0" and not digits:
            leading += 1
        else:
            digits.append(char)
            trailing = trailing + 1 if char == "0" else 0
        pos += 1
    significant = "".join(digits[: len(digits) - trailing])
    dec_exp = (point - leading) if point is not None else len(digits)
    seen = len(digits) if digits or leading else -1
    return significant, dec_exp, seen, pos


def _scan_exponent(text: str, pos: int, n_digits: int, dec_exp: int) -> tuple[int, int]:
    """Apply ``e[+-]digits`` exactly as readJavaFormatString, huge exponents included."""
    pos += 1
    if pos >= len(text):
        raise _NumberFormat(text)
    sign = 1
    if text[pos] in "+-":
        sign = -1 if text[pos] == "-" else 1
        pos += 1
    start, value, overflow = pos, 0, False
    while pos < len(text):
        # Java flags overflow before looking at the next char, digit or not.
        overflow = overflow or value >= (2**31 - 1) // 10
        if text[pos] not in "0123456789":
            break
        value = value * 10 + int(text[pos])
        pos += 1
    if pos == start:
        raise _NumberFormat(text)
    limit = 324 + n_digits
    if not overflow and value <= limit:
        return dec_exp + sign * value, pos
    if not overflow and sign == 1 and dec_exp < 0 and value + dec_exp < limit:
        return dec_exp + value, pos
    return sign * limit, pos


def _parse_java_float(text: str, fmt: tuple[int, int, int]) -> float:
    """``Float.parseFloat`` (binary32, widened) or ``Double.parseDouble`` (binary64)."""
    text = _java_trim(text)
    pos, negative = 0, False
    if text[:1] in ("+", "-"):
        negative, pos = text[0] == "-", 1
    rest = text[pos:]
    if rest in ("NaN", "Infinity"):
        return math.nan if rest == "NaN" else (-math.inf if negative else math.inf)
    if rest[:2] in ("0x", "0X"):
        return _parse_hex_float(text, fmt)
    digits, dec_exp, n_digits, pos = _scan_decimal(text, pos)
    if n_digits < 0:
        raise _NumberFormat(text)
    if pos < len(text) and text[pos] in "eE":
        dec_exp, pos = _scan_exponent(text, pos, n_digits, dec_exp)
    if pos < len(text) and (pos != len(text) - 1 or text[pos] not in "fFdD"):
        raise _NumberFormat(text)
    if not digits or dec_exp < -400:
        magnitude = 0.0
    elif dec_exp > 400:
        magnitude = math.inf
    else:
        exact = Fraction(int(digits)) * Fraction(10) ** (dec_exp - len(digits))
        magnitude = _round_to_binary(exact, fmt)
    return -magnitude if negative else magnitude


def _parse_java_int(text: str) -> int:
    """``Integer.parseInt``: optional sign, BMP decimal digits of any script, 32 bits."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body:
        raise _NumberFormat(text)
    value = 0
    for char in body:
        digit = unicodedata.decimal(char, -1) if ord(char) <= 0xFFFF else -1
        if digit < 0:
            raise _NumberFormat(text)
        value = value * 10 + digit
    value = -value if text[0] == "-" else value
    if not -(2**31) <= value < 2**31:
        raise _NumberFormat(text)
    return value


def _parse_java_boolean(text: str) -> bool:
    """Flink's ``convertToBoolean``: ``true``/``false`` in any case."""
    upper = text.upper()
    if upper not in ("TRUE", "FALSE"):
        raise _NumberFormat(text)
    return upper == "TRUE"


def _parse_memory_size(text: str) -> int:
    """``MemorySize.parse`` with Java's ``trim`` around the number and around the unit.

    :func:`parse_flink_memory` strips Python whitespace, which is not the set Java's
    ``String.trim`` removes; the text is normalised so both agree on what they accept.
    """
    trimmed = _java_trim(text)
    pos = 0
    while pos < len(trimmed) and trimmed[pos] in "0123456789":
        pos += 1
    unit = _java_trim(trimmed[pos:])
    if pos == 0 or unit != unit.strip():
        raise QuantityError(text)
    return parse_flink_memory(trimmed[:pos] + unit)


# ---------------------------------------------------------------------------------------
# Java's number printing: JDK 17 FloatingDecimal / FormattedFloatingDecimal
# ---------------------------------------------------------------------------------------

_N_5_BITS: tuple[int, ...] = (
    0, 3, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28, 31, 33, 35, 38, 40, 42, 45, 47, 49, 52, 54,
    56, 59, 61,
)  # fmt: skip
# insignificantDigitsForPow2(p) == number of decimal digits of 2**p that do not matter
_INSIGNIFICANT_DIGITS: tuple[int, ...] = (
    0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9,
    9, 9, 9, 10, 10, 10, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15, 15, 16,
    16, 16, 17, 17, 17, 18, 18, 18, 19,
)  # fmt: skip


def _wrap(value: int, bits: int) -> int:
    """Two's-complement wrap-around of Java ``int`` (32) or ``long`` (64) arithmetic."""
    half = 1 << (bits - 1)
    return (value + half) % (1 << bits) - half


def _java_div(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


@dataclass
class _Digits:
    """The state of ``BinaryToASCIIBuffer``: digit chars and the decimal exponent."""

    digits: list[int]
    dec_exponent: int

    def round_up(self) -> None:
        position = len(self.digits) - 1
        while self.digits[position] == 9 and position > 0:
            self.digits[position] = 0
            position -= 1
        if self.digits[position] == 9:  # carry out: "1" and the zeros already written
            self.dec_exponent += 1
            self.digits[0] = 1
            return
        self.digits[position] += 1


def _develop_long_digits(value: int, insignificant: int) -> _Digits:
    dec_exponent = 0
    if insignificant:
        pow10 = 10**insignificant
        residue = value % pow10
        value //= pow10
        dec_exponent += insignificant
        if residue >= pow10 >> 1:
            value += 1
    text = str(value)
    return _Digits([int(c) for c in text.rstrip("0")], dec_exponent + len(text))


def _estimate_dec_exp(fract_bits: int, bin_exp: int) -> int:
    bits = (1023 << 52) | (fract_bits & (2**52 - 1))
    mantissa: float = struct.unpack(">d", struct.pack(">Q", bits))[0]
    d = (mantissa - 1.5) * 0.289529654 + 0.176091259 + float(bin_exp) * 0.301029995663981
    return math.floor(d)


def _fixed_width_digits(
    width: int, fract: int, scale: tuple[int, int, int, int, int, int], dec_exp: int, compat: bool
) -> tuple[list[int], int, int, bool, bool]:
    """dtoa's ``int``/``long`` loop, wrap-around included: (digits, decExp, lowDiff, hi, lo)."""
    b5, b2, s5, s2, m5, m2 = scale
    shift = width - 1  # Java masks shift distances

    def w(value: int) -> int:
        return _wrap(value, width)

    b = w(w(fract * 5**b5) << (b2 & shift))
    s = w(5**s5 << (s2 & shift))
    m = w(5**m5 << (m2 & shift))
    tens = w(s * 10)
    q, b, m = _java_div(b, s), w(10 * (b - s * _java_div(b, s))), w(m * 10)
    low, high = b < m, w(b + m) > tens
    digits: list[int] = []
    if q == 0 and not high:
        dec_exp -= 1
    else:
        digits.append(q)
    if not compat or dec_exp < -3 or dec_exp >= 8:
        high = low = False
    while not low and not high:
        q, b, m = _java_div(b, s), w(10 * (b - s * _java_div(b, s))), w(m * 10)
        low, high = (b < m, w(b + m) > tens) if m > 0 else (True, True)
        digits.append(q)
    return digits, dec_exp, w(w(b << 1) - tens), high, low


def _big_digits(
    fract: int, scale: tuple[int, int, int, int, int, int], dec_exp: int, compat: bool
) -> tuple[list[int], int, int, bool, bool]:
    """dtoa's FDBigInteger loop; note ``high`` is ``>=`` here where the small loops use ``>``."""
    b5, b2, s5, s2, m5, m2 = scale
    s = 5**s5 << s2
    b = (fract * 5**b5) << b2
    m = 10 * (5**m5 << m2)
    ten_s = 10 * s
    q, b = divmod(b, s)
    b *= 10
    low, high = b < m, b + m >= ten_s
    digits: list[int] = []
    if q == 0 and not high:
        dec_exp -= 1
    else:
        digits.append(q)
    if not compat or dec_exp < -3 or dec_exp >= 8:
        high = low = False
    while not low and not high:
        q, b = divmod(b, s)
        b *= 10
        m *= 10
        low, high = b < m, b + m >= ten_s
        digits.append(q)
    low_diff = ((2 * b > ten_s) - (2 * b < ten_s)) if (high and low) else 0
    return digits, dec_exp, low_diff, high, low


def _dtoa(bin_exp: int, fract_bits: int, n_significant: int, compat: bool) -> _Digits:
    """``FloatingDecimal.BinaryToASCIIBuffer.dtoa`` of JDK 8-18."""
    tail_zeros = (fract_bits & -fract_bits).bit_length() - 1
    n_fract_bits = 53 - tail_zeros
    n_tiny_bits = max(0, n_fract_bits - bin_exp - 1)
    small = -21 <= bin_exp <= 62 and n_tiny_bits < 27
    if small and n_fract_bits + _N_5_BITS[n_tiny_bits] < 64 and n_tiny_bits == 0:
        p2 = bin_exp - n_significant - 1
        insignificant = _INSIGNIFICANT_DIGITS[p2] if 1 < p2 < len(_INSIGNIFICANT_DIGITS) else 0
        value = fract_bits << (bin_exp - 52) if bin_exp >= 52 else fract_bits >> (52 - bin_exp)
        return _develop_long_digits(value, insignificant)
    dec_exp = _estimate_dec_exp(fract_bits, bin_exp)
    b5 = max(0, -dec_exp)
    b2 = b5 + n_tiny_bits + bin_exp - (n_fract_bits - 1)
    s5 = max(0, dec_exp)
    s2 = s5 + n_tiny_bits
    m2 = b5 + n_tiny_bits + bin_exp - n_significant
    common = min(b2, s2)
    b2, s2, m2 = b2 - common, s2 - common, m2 - common
    if n_fract_bits == 1:
        m2 -= 1
    if m2 < 0:
        b2, s2, m2 = b2 - m2, s2 - m2, 0
    fract = fract_bits >> tail_zeros
    scale = (b5, b2, s5, s2, b5, m2)
    b_bits = n_fract_bits + b2 + (_N_5_BITS[b5] if b5 < len(_N_5_BITS) else b5 * 3)
    ten_s_bits = s2 + 1 + (_N_5_BITS[s5 + 1] if s5 + 1 < len(_N_5_BITS) else (s5 + 1) * 3)
    if b_bits < 64 and ten_s_bits < 64:
        width = 32 if b_bits < 32 and ten_s_bits < 32 else 64
        found = _fixed_width_digits(width, fract, scale, dec_exp, compat)
    else:
        found = _big_digits(fract, scale, dec_exp, compat)
    return _round_last_digit(*found)


def _round_last_digit(
    digits: list[int], dec_exp: int, low_diff: int, high: bool, low: bool
) -> _Digits:
    result = _Digits(digits, dec_exp + 1)
    if high and (not low or low_diff > 0 or (low_diff == 0 and digits[-1] % 2 == 1)):
        result.round_up()
    return result


def _binary_to_ascii(value: float, compat: bool) -> tuple[bool, _Digits]:
    """``FloatingDecimal.getBinaryToASCIIConverter`` for a finite double: (negative, digits)."""
    bits: int = struct.unpack(">Q", struct.pack(">d", value))[0]
    negative = bool(bits >> 63)
    fract_bits = bits & (2**52 - 1)
    bin_exp = (bits >> 52) & 0x7FF
    if bin_exp == 0 and fract_bits == 0:
        return negative, _Digits([0], 0)
    if bin_exp == 0:
        shift = 53 - fract_bits.bit_length()
        fract_bits <<= shift
        bin_exp, n_significant = 1 - shift, fract_bits.bit_length() - shift
    else:
        fract_bits |= 1 << 52
        n_significant = 53
    return negative, _dtoa(bin_exp - 1023, fract_bits, n_significant, compat)


def _java_double_to_string(value: float) -> str:
    """``Double.toString`` as JDK 17 prints it."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    negative, found = _binary_to_ascii(value, compat=True)
    digits = "".join(str(d) for d in found.digits)
    exp = found.dec_exponent
    if 0 < exp < 8:
        head = digits[:exp]
        if len(head) < exp:
            text = head + "0" * (exp - len(head)) + ".0"
        else:
            text = head + "." + (digits[exp:] or "0")
    elif -3 < exp <= 0:
        text = "0." + "0" * -exp + digits
    else:
        exponent = f"-{-exp + 1}" if exp <= 0 else str(exp - 1)
        text = f"{digits[0]}.{digits[1:] or '0'}E{exponent}"
    return "-" + text if negative else text


def _apply_precision(dec_exp: int, digits: list[int], prec: int) -> int:
    """``FormattedFloatingDecimal.applyPrecision``: half-up on the decimal digits."""
    count = len(digits)
    if prec >= count or prec < 0:
        return dec_exp
    if prec == 0:
        up = digits[0] >= 5
        digits[:] = [1] + [0] * (count - 1) if up else [0] * count
        return dec_exp + 1 if up else dec_exp
    if digits[prec] < 5:
        digits[prec:] = [0] * (count - prec)
        return dec_exp
    position = prec - 1
    while digits[position] == 9 and position > 0:
        position -= 1
    if digits[position] == 9:
        digits[:] = [1] + [0] * (count - 1)
        return dec_exp + 1
    digits[position] += 1
    digits[position + 1 :] = [0] * (count - position - 1)
    return dec_exp


def _java_format_fixed(value: float, precision: int) -> str:
    """``String.format(Locale.ROOT, "%.<precision>f", value)`` for a finite value."""
    negative, found = _binary_to_ascii(value, compat=False)
    digits = list(found.digits)
    exp = _apply_precision(found.dec_exponent, digits, found.dec_exponent + precision)
    text = "".join(str(d) for d in digits)
    if exp > 0:
        fraction = text[exp : exp + precision] if len(text) > exp else ""
        whole = text[:exp] + "0" * max(0, exp - len(text))
    else:
        zeros = max(0, min(-exp, precision))
        whole, fraction = "0", "0" * zeros + text[: max(0, min(len(text), precision + exp))]
    text = whole + "." + fraction.ljust(precision, "0") if precision else whole
    return "-" + text if negative else text


def _big_decimal(value: float) -> Decimal:
    """``BigDecimal.valueOf(double)``: the decimal Java's ``Double.toString`` prints."""
    text = _java_double_to_string(value)
    if not math.isfinite(value):
        raise _JavaError(
            f"Character {text[0]} is neither a decimal digit number, decimal point, "
            'nor "e" notation exponential mark.'
        )
    return Decimal(text)


def _multiply(size: int, multiplier: float) -> int:
    """``MemorySize.multiply(double)``."""
    if multiplier < 0:
        raise _JavaError("multiplier must be >= 0")
    product = Fraction(size) * Fraction(_big_decimal(multiplier))
    if product > JAVA_LONG_MAX:
        raise _JavaError(_LONG_OVERFLOW)
    return math.trunc(product)


_UNITS = ((1, "bytes"), (1 << 10, "kb"), (1 << 20, "mb"), (1 << 30, "gb"), (1 << 40, "tb"))


def _human(size: int) -> str:
    """``MemorySize.toHumanReadableString``: ``%.3f<unit> (%d bytes)``."""
    multiplier, unit = max(
        ((m, u) for m, u in _UNITS if size > m), default=_UNITS[0], key=lambda mu: mu[0]
    )
    if multiplier == 1:
        return f"{size} bytes"
    return f"{_java_format_fixed(float(size) / float(multiplier), 3)}{unit} ({size} bytes)"


# ---------------------------------------------------------------------------------------
# Flink's configuration options and how Configuration reads them
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Option:
    """A ConfigOption: key, deprecated fallback keys, default (as Java prints it)."""

    key: str
    default: str | None = None
    deprecated: tuple[str, ...] = ()

    def __str__(self) -> str:
        """``ConfigOption.toString``, which Flink puts into some messages."""
        keys = ", ".join(f"{{key={key}, isDeprecated=true}}" for key in self.deprecated)
        default = "null" if self.default is None else self.default
        return f"Key: '{self.key}' , default: {default} (fallback keys: [{keys}])"


_TM_PROCESS = _Option("taskmanager.memory.process.size")
_TM_FLINK = _Option("taskmanager.memory.flink.size")
_TM_FRAMEWORK_HEAP = _Option("taskmanager.memory.framework.heap.size", "128m")
_TM_FRAMEWORK_OFF_HEAP = _Option("taskmanager.memory.framework.off-heap.size", "128m")
_TM_TASK_HEAP = _Option("taskmanager.memory.task.heap.size")
_TM_TASK_OFF_HEAP = _Option("taskmanager.memory.task.off-heap.size", "0b")
_TM_MANAGED = _Option("taskmanager.memory.managed.size", deprecated=("taskmanager.memory.size",))
_TM_MANAGED_FRACTION = _Option("taskmanager.memory.managed.fraction", "0.4")
_TM_NETWORK_MIN = _Option(
    "taskmanager.memory.network.min", "64m", ("taskmanager.network.memory.min",)
)
_TM_NETWORK_MAX = _Option(
    "taskmanager.memory.network.max", str(JAVA_LONG_MAX), ("taskmanager.network.memory.max",)
)
_TM_NETWORK_FRACTION = _Option(
    "taskmanager.memory.network.fraction", "0.1", ("taskmanager.network.memory.fraction",)
)
_TM_METASPACE = _Option("taskmanager.memory.jvm-metaspace.size", "256m")
_TM_OVERHEAD_MIN = _Option("taskmanager.memory.jvm-overhead.min", "192m")
_TM_OVERHEAD_MAX = _Option("taskmanager.memory.jvm-overhead.max", "1g")
_TM_OVERHEAD_FRACTION = _Option("taskmanager.memory.jvm-overhead.fraction", "0.1")
_TM_CPU_CORES = _Option("taskmanager.cpu.cores")
_TM_SLOTS = _Option("taskmanager.numberOfTaskSlots", "1")

_JM_PROCESS = _Option("jobmanager.memory.process.size")
_JM_FLINK = _Option("jobmanager.memory.flink.size")
_JM_HEAP = _Option("jobmanager.memory.heap.size")
_JM_OFF_HEAP = _Option("jobmanager.memory.off-heap.size", "128m")
_JM_METASPACE = _Option("jobmanager.memory.jvm-metaspace.size", "256m")
_JM_OVERHEAD_MIN = _Option("jobmanager.memory.jvm-overhead.min", "192m")
_JM_OVERHEAD_MAX = _Option("jobmanager.memory.jvm-overhead.max", "1g")
_JM_OVERHEAD_FRACTION = _Option("jobmanager.memory.jvm-overhead.fraction", "0.1")
_JM_DIRECT_LIMIT = _Option("jobmanager.memory.enable-jvm-direct-memory-limit", "false")


class _Config:
    """Flink's ``Configuration`` over string values: key first, then deprecated keys."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def contains(self, option: _Option) -> bool:
        return self._raw(option) is not None

    def _raw(self, option: _Option) -> str | None:
        for key in (option.key, *option.deprecated):
            if key in self._values:
                return str(self._values[key])
        return None

    def _typed(self, option: _Option, parse: Callable[[str], _T]) -> _T | None:
        raw = self._raw(option)
        if raw is None:
            return None if option.default is None else parse(option.default)
        try:
            return parse(raw)
        except (_NumberFormat, QuantityError, ValueError):
            raise _JavaError(f"Could not parse value '{raw}' for key '{option.key}'.") from None

    def _required(self, option: _Option, parse: Callable[[str], _T]) -> _T:
        value = self._typed(option, parse)
        if value is None:  # only options with a default are read this way
            raise _JavaError(f"No value for '{option.key}'.")
        return value

    def memory(self, option: _Option) -> int:
        """``ProcessMemoryUtils.getMemorySizeFromConfig``: any failure is this one message."""
        try:
            value = self._typed(option, _parse_memory_size)
        except _JavaError:
            value = None
        if value is None:
            raise _IllegalConfiguration(
                f"Cannot read memory size from config option '{option.key}'."
            )
        return value

    def fraction(self, option: _Option) -> float:
        """A float option, widened to double."""
        return self._required(option, lambda text: _parse_java_float(text, _BINARY32))

    def double(self, option: _Option) -> float:
        return self._required(option, lambda text: _parse_java_float(text, _BINARY64))

    def integer(self, option: _Option) -> int:
        return self._required(option, _parse_java_int)

    def boolean(self, option: _Option) -> bool:
        return self._required(option, _parse_java_boolean)


# ---------------------------------------------------------------------------------------
# ProcessMemoryUtils: fractions, JVM metaspace and overhead, the three derivation routes
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RangeFraction:
    min: int
    max: int
    fraction: float


@dataclass(frozen=True)
class _ProcessOptions:
    """``ProcessMemoryOptions``: which keys a process (TM or JM) reads."""

    fine_grained: tuple[_Option, ...]
    total_flink: _Option
    total_process: _Option
    metaspace: _Option
    overhead_min: _Option
    overhead_max: _Option
    overhead_fraction: _Option


_TM_OPTIONS = _ProcessOptions(
    (_TM_TASK_HEAP, _TM_MANAGED),
    _TM_FLINK,
    _TM_PROCESS,
    _TM_METASPACE,
    _TM_OVERHEAD_MIN,
    _TM_OVERHEAD_MAX,
    _TM_OVERHEAD_FRACTION,
)
_JM_OPTIONS = _ProcessOptions(
    (_JM_HEAP,),
    _JM_FLINK,
    _JM_PROCESS,
    _JM_METASPACE,
    _JM_OVERHEAD_MIN,
    _JM_OVERHEAD_MAX,
    _JM_OVERHEAD_FRACTION,
)


def _range_fraction(config: _Config, minimum: int, maximum: int, option: _Option) -> _RangeFraction:
    """``ProcessMemoryUtils.getRangeFraction``: a float in [0, 1) and min <= max."""
    fraction = config.fraction(option)
    if not (minimum <= maximum and 0 <= fraction < 1):
        raise _IllegalConfiguration(
            f"Inconsistently configured {option} ({_java_double_to_string(fraction)}) and "
            f"its min ({_human(minimum)}), max ({_human(maximum)}) value"
        )
    return _RangeFraction(minimum, maximum, fraction)


def _cap(size: int, rf: _RangeFraction) -> int:
    if size > rf.max:
        return rf.max
    return max(size, rf.min)


def _derive_with_fraction(base: int, rf: _RangeFraction) -> int:
    return _cap(_multiply(base, rf.fraction), rf)


def _derive_with_inverse_fraction(base: int, rf: _RangeFraction) -> int:
    # Java computes the ratio in double arithmetic first, exactly like this.
    return _cap(_multiply(base, rf.fraction / (1 - rf.fraction)), rf)


def _overhead_range(config: _Config, options: _ProcessOptions) -> _RangeFraction:
    minimum = config.memory(options.overhead_min)
    maximum = config.memory(options.overhead_max)
    return _range_fraction(config, minimum, maximum, options.overhead_fraction)


def _jvm_from_total_process(
    config: _Config, options: _ProcessOptions, process: int
) -> tuple[int, int]:
    """(metaspace, overhead) when only the total process size is given."""
    metaspace = config.memory(options.metaspace)
    overhead = _derive_with_fraction(process, _overhead_range(config, options))
    if _add(metaspace, overhead) > process:
        raise _IllegalConfiguration(
            f"Sum of configured JVM Metaspace ({_human(metaspace)}) and JVM Overhead "
            f"({_human(overhead)}) exceed configured Total Process Memory ({_human(process)})."
        )
    return metaspace, overhead


def _jvm_from_total_flink(config: _Config, options: _ProcessOptions, flink: int) -> tuple[int, int]:
    """(metaspace, overhead) around a known total Flink size."""
    metaspace = config.memory(options.metaspace)
    flink_and_metaspace = _add(flink, metaspace)
    if not config.contains(options.total_process):
        overhead = _derive_with_inverse_fraction(
            flink_and_metaspace, _overhead_range(config, options)
        )
        _add(flink, metaspace, overhead)  # Flink sums these for a check that cannot fail
        return metaspace, overhead
    process = config.memory(options.total_process)
    flink_and_metaspace = _add(flink, config.memory(options.metaspace))
    if process < flink_and_metaspace:
        raise _IllegalConfiguration(
            f"The configured Total Process Memory size ({_human(process)}) is less than the "
            f"sum of the derived Total Flink Memory size ({_human(flink)}) and the configured "
            f"or default JVM Metaspace size  ({_human(metaspace)})."
        )
    overhead = _subtract(process, flink_and_metaspace)
    rf = _overhead_range(config, options)
    if overhead > rf.max or overhead < rf.min:
        raise _IllegalConfiguration(
            f"Derived JVM Overhead size ({_human(overhead)}) is not in configured JVM Overhead "
            f"range [{_human(rf.min)}, {_human(rf.max)}]."
        )
    return metaspace, overhead


def _missing_sizes(options: _ProcessOptions) -> _IllegalConfiguration:
    fine_grained = " and ".join(option.key for option in options.fine_grained)
    return _IllegalConfiguration(
        f"Either required fine-grained memory ({fine_grained}), or Total Flink Memory size "
        f"({options.total_flink}), or Total Process Memory size ({options.total_process}) "
        "need to be configured explicitly."
    )


# ---------------------------------------------------------------------------------------
# TaskExecutorFlinkMemoryUtils
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TaskExecutorFlinkMemory:
    framework_heap: int
    framework_off_heap: int
    task_heap: int
    task_off_heap: int
    network: int
    managed: int

    def total(self) -> int:
        return _add(
            self.framework_heap,
            self.framework_off_heap,
            self.task_heap,
            self.task_off_heap,
            self.network,
            self.managed,
        )


def _network_range(config: _Config) -> _RangeFraction:
    minimum = config.memory(_TM_NETWORK_MIN)
    maximum = config.memory(_TM_NETWORK_MAX)
    return _range_fraction(config, minimum, maximum, _TM_NETWORK_FRACTION)


def _managed(config: _Config, flink: int) -> int:
    if config.contains(_TM_MANAGED):
        return config.memory(_TM_MANAGED)
    rf = _range_fraction(config, 0, JAVA_LONG_MAX, _TM_MANAGED_FRACTION)
    return _derive_with_fraction(flink, rf)


def _sum_with_task_heap_exceeds(parts: tuple[int, ...], flink: int) -> _IllegalConfiguration:
    fh, fo, th, to, managed = (_human(part) for part in parts)
    return _IllegalConfiguration(
        f"Sum of configured Framework Heap Memory ({fh}), Framework Off-Heap Memory ({fo}), "
        f"Task Heap Memory ({th}), Task Off-Heap Memory ({to}) and Managed Memory ({managed}) "
        f"exceed configured Total Flink Memory ({_human(flink)})."
    )


def _network_as_rest(config: _Config, parts: tuple[int, ...], flink: int) -> int:
    """Network memory when the total Flink size and the task heap are both given."""
    if _add(*parts) > flink:
        raise _sum_with_task_heap_exceeds(parts, flink)
    network = _subtract(flink, _add(*parts))
    try:
        rf = _network_range(config)
        if network > rf.max or network < rf.min:
            raise _IllegalConfiguration("out of range")
    except _IllegalConfiguration:
        raise _IllegalConfiguration(
            "If Total Flink, Task Heap and (or) Managed Memory sizes are explicitly configured "
            "then the Network Memory size is the rest of the Total Flink memory after "
            "subtracting all other configured types of memory, but the derived Network Memory "
            "is inconsistent with its configuration."
        ) from None
    return network


def _check_total_flink(config: _Config, memory: _TaskExecutorFlinkMemory) -> None:
    if not config.contains(_TM_FLINK):
        return
    configured = config.memory(_TM_FLINK)
    if configured != memory.total():
        sizes = (
            ("Framework Heap Memory", memory.framework_heap),
            ("Framework Off-Heap Memory", memory.framework_off_heap),
            ("Task Heap Memory", memory.task_heap),
            ("Task Off-Heap Memory", memory.task_off_heap),
            ("Network Memory", memory.network),
            ("Managed Memory", memory.managed),
        )
        listed = ", ".join(f"{name} ({_human(size)})" for name, size in sizes)
        raise _IllegalConfiguration(
            f"Configured and Derived Flink internal memory sizes (total "
            f"{_human(memory.total())}) do not add up to the configured Total Flink Memory "
            f"size ({_human(configured)}). Configured and Derived Flink internal memory sizes "
            f"are: {listed}."
        )


def _tm_from_fine_grained(config: _Config) -> _TaskExecutorFlinkMemory:
    task_heap = config.memory(_TM_TASK_HEAP)
    managed = config.memory(_TM_MANAGED)
    framework_heap = config.memory(_TM_FRAMEWORK_HEAP)
    framework_off_heap = config.memory(_TM_FRAMEWORK_OFF_HEAP)
    task_off_heap = config.memory(_TM_TASK_OFF_HEAP)
    parts = (framework_heap, framework_off_heap, task_heap, task_off_heap, managed)
    if config.contains(_TM_FLINK):
        network = _network_as_rest(config, parts, config.memory(_TM_FLINK))
    else:
        network = _derive_with_inverse_fraction(_add(*parts), _network_range(config))
    memory = _TaskExecutorFlinkMemory(
        framework_heap, framework_off_heap, task_heap, task_off_heap, network, managed
    )
    _check_total_flink(config, memory)
    return memory


def _tm_from_total_flink(config: _Config, flink: int) -> _TaskExecutorFlinkMemory:
    framework_heap = config.memory(_TM_FRAMEWORK_HEAP)
    framework_off_heap = config.memory(_TM_FRAMEWORK_OFF_HEAP)
    task_off_heap = config.memory(_TM_TASK_OFF_HEAP)
    if config.contains(_TM_TASK_HEAP):
        task_heap = config.memory(_TM_TASK_HEAP)
        managed = _managed(config, flink)
        parts = (framework_heap, framework_off_heap, task_heap, task_off_heap, managed)
        network = _network_as_rest(config, parts, flink)
    else:
        managed = _managed(config, flink)
        network = _derive_with_fraction(flink, _network_range(config))
        others = _add(framework_heap, framework_off_heap, task_off_heap, managed, network)
        if others > flink:
            fh, fo, to, mg, net = map(
                _human, (framework_heap, framework_off_heap, task_off_heap, managed, network)
            )
            raise _IllegalConfiguration(
                f"Sum of configured Framework Heap Memory ({fh}), Framework Off-Heap Memory "
                f"({fo}), Task Off-Heap Memory ({to}), Managed Memory ({mg}) and Network "
                f"Memory ({net}) exceed configured Total Flink Memory ({_human(flink)})."
            )
        task_heap = _subtract(flink, others)
    memory = _TaskExecutorFlinkMemory(
        framework_heap, framework_off_heap, task_heap, task_off_heap, network, managed
    )
    _check_total_flink(config, memory)
    return memory


def _tm_process(config: _Config) -> tuple[_TaskExecutorFlinkMemory, int, int]:
    """``ProcessMemoryUtils.memoryProcessSpecFromConfig`` for a TaskExecutor."""
    if all(config.contains(option) for option in _TM_OPTIONS.fine_grained):
        flink_memory = _tm_from_fine_grained(config)
        jvm = _jvm_from_total_flink(config, _TM_OPTIONS, flink_memory.total())
    elif config.contains(_TM_FLINK):
        flink = config.memory(_TM_FLINK)
        flink_memory = _tm_from_total_flink(config, flink)
        jvm = _jvm_from_total_flink(config, _TM_OPTIONS, flink)
    elif config.contains(_TM_PROCESS):
        process = config.memory(_TM_PROCESS)
        jvm = _jvm_from_total_process(config, _TM_OPTIONS, process)
        flink_memory = _tm_from_total_flink(config, _subtract(process, _add(*jvm)))
    else:
        raise _missing_sizes(_TM_OPTIONS)
    return flink_memory, jvm[0], jvm[1]


def _cpu_cores(config: _Config) -> float:
    """``TaskExecutorProcessUtils.getCpuCoresWithFallback(config, -1.0)`` as a CPUResource."""
    if config.contains(_TM_CPU_CORES):
        cores = config.double(_TM_CPU_CORES)
    else:
        cores = float(config.integer(_TM_SLOTS))
    if cores <= 0:  # NaN passes this check, as in Java, and fails in BigDecimal below
        raise _IllegalConfiguration(
            "TaskExecutors need to be started with a positive number of CPU cores. Please "
            f"configure {_TM_CPU_CORES.key} accordingly."
        )
    with localcontext() as context:
        context.prec = 1000
        value = _big_decimal(cores).quantize(Decimal("1e-8"), rounding=ROUND_DOWN)
    return float(value)


# ---------------------------------------------------------------------------------------
# JobManagerFlinkMemoryUtils
# ---------------------------------------------------------------------------------------


def _jm_from_fine_grained(config: _Config) -> tuple[int, int]:
    """(heap, off-heap) when the JVM heap is given."""
    heap = config.memory(_JM_HEAP)
    off_heap = config.memory(_JM_OFF_HEAP)
    if not config.contains(_JM_FLINK):
        return heap, off_heap
    flink = config.memory(_JM_FLINK)
    if config.contains(_JM_OFF_HEAP):
        if _add(heap, off_heap) != flink:
            raise _IllegalConfiguration(
                f"Sum of the configured JVM Heap Memory ({_human(heap)}) and the configured "
                f"Off-heap Memory ({_human(off_heap)}) does not match the configured Total "
                f"Flink Memory ({_human(flink)}). Please, make the configuration consistent "
                "or configure only one option: either JVM Heap or Total Flink Memory."
            )
        return heap, off_heap
    if flink < heap:
        raise _IllegalConfiguration(
            f"The configured JVM Heap Memory ({_human(heap)}) exceeds the configured Total "
            f"Flink Memory ({_human(flink)}). Please, make the configuration consistent or "
            "configure only one option: either JVM Heap or Total Flink Memory."
        )
    return heap, _subtract(flink, heap)


def _jm_from_total_flink(config: _Config, flink: int) -> tuple[int, int]:
    off_heap = config.memory(_JM_OFF_HEAP)
    if flink <= off_heap:
        raise _IllegalConfiguration(
            f"The configured Total Flink Memory ({_human(flink)}) is less than the configured "
            f"Off-heap Memory ({_human(off_heap)})."
        )
    return _subtract(flink, off_heap), off_heap


def _jm_process(config: _Config) -> tuple[int, int, int, int]:
    """(heap, off-heap, metaspace, overhead) for a JobManager."""
    if config.contains(_JM_HEAP):
        heap, off_heap = _jm_from_fine_grained(config)
        jvm = _jvm_from_total_flink(config, _JM_OPTIONS, _add(heap, off_heap))
    elif config.contains(_JM_FLINK):
        flink = config.memory(_JM_FLINK)
        heap, off_heap = _jm_from_total_flink(config, flink)
        jvm = _jvm_from_total_flink(config, _JM_OPTIONS, flink)
    elif config.contains(_JM_PROCESS):
        process = config.memory(_JM_PROCESS)
        jvm = _jvm_from_total_process(config, _JM_OPTIONS, process)
        heap, off_heap = _jm_from_total_flink(config, _subtract(process, _add(*jvm)))
    else:
        raise _missing_sizes(_JM_OPTIONS)
    return heap, off_heap, jvm[0], jvm[1]


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskManagerMemory:
    """A TaskManager's memory, as Flink derives it (every size in bytes).

    ``total_flink`` is the sum of the six Flink components; ``total_process`` adds JVM
    metaspace and overhead and is what the container needs. ``cpu_cores`` and ``slots`` are
    the values BashJavaUtils hands the TaskManager.
    """

    framework_heap: int
    task_heap: int
    framework_off_heap: int
    task_off_heap: int
    network: int
    managed: int
    jvm_metaspace: int
    jvm_overhead: int
    total_flink: int
    total_process: int
    cpu_cores: float
    slots: int

    @property
    def heap(self) -> int:
        """JVM heap (``-Xmx`` and ``-Xms``): framework heap + task heap."""
        return self.framework_heap + self.task_heap

    @property
    def direct(self) -> int:
        """JVM direct memory limit: framework off-heap + task off-heap + network."""
        return self.framework_off_heap + self.task_off_heap + self.network

    def jvm_args(self) -> str:
        """The JVM options Flink's ``taskmanager.sh`` passes (BashJavaUtils' first line)."""
        return (
            f"-Xmx{self.heap} -Xms{self.heap} -XX:MaxDirectMemorySize={self.direct} "
            f"-XX:MaxMetaspaceSize={self.jvm_metaspace}"
        )

    def dynamic_properties(self) -> dict[str, str]:
        """The ``-D key=value`` pairs of BashJavaUtils' second line."""
        return {
            _TM_CPU_CORES.key: _java_double_to_string(self.cpu_cores),
            _TM_FRAMEWORK_HEAP.key: f"{self.framework_heap}b",
            _TM_FRAMEWORK_OFF_HEAP.key: f"{self.framework_off_heap}b",
            _TM_TASK_HEAP.key: f"{self.task_heap}b",
            _TM_TASK_OFF_HEAP.key: f"{self.task_off_heap}b",
            _TM_NETWORK_MIN.key: f"{self.network}b",
            _TM_NETWORK_MAX.key: f"{self.network}b",
            _TM_MANAGED.key: f"{self.managed}b",
            _TM_METASPACE.key: f"{self.jvm_metaspace}b",
            _TM_OVERHEAD_MIN.key: f"{self.jvm_overhead}b",
            _TM_OVERHEAD_MAX.key: f"{self.jvm_overhead}b",
            _TM_SLOTS.key: str(self.slots),
            "external-resources": "none",
        }


@dataclass(frozen=True)
class JobManagerMemory:
    """A JobManager's memory, as Flink derives it (every size in bytes).

    ``direct_memory_limit`` is ``jobmanager.memory.enable-jvm-direct-memory-limit``: whether
    ``-XX:MaxDirectMemorySize`` (= ``off_heap``) is part of the JVM options.
    """

    heap: int
    off_heap: int
    jvm_metaspace: int
    jvm_overhead: int
    total_flink: int
    total_process: int
    direct_memory_limit: bool = False

    def jvm_args(self) -> str:
        """The JVM options Flink's ``jobmanager.sh`` passes (BashJavaUtils' first line)."""
        direct = f" -XX:MaxDirectMemorySize={self.off_heap}" if self.direct_memory_limit else ""
        return f"-Xmx{self.heap} -Xms{self.heap}{direct} -XX:MaxMetaspaceSize={self.jvm_metaspace}"

    def dynamic_properties(self) -> dict[str, str]:
        """The ``-D key=value`` pairs of BashJavaUtils' second line."""
        return {
            _JM_HEAP.key: f"{self.heap}b",
            _JM_OFF_HEAP.key: f"{self.off_heap}b",
            _JM_METASPACE.key: f"{self.jvm_metaspace}b",
            _JM_OVERHEAD_MIN.key: f"{self.jvm_overhead}b",
            _JM_OVERHEAD_MAX.key: f"{self.jvm_overhead}b",
        }


def _taskmanager_memory(config: _Config) -> TaskManagerMemory:
    try:
        flink, metaspace, overhead = _tm_process(config)
        cpu_cores = _cpu_cores(config)
        slots = config.integer(_TM_SLOTS)
    except _IllegalConfiguration as exc:
        raise _IllegalConfiguration(f"TaskManager memory configuration failed: {exc}") from None
    total_flink = flink.total()
    return TaskManagerMemory(
        framework_heap=flink.framework_heap,
        task_heap=flink.task_heap,
        framework_off_heap=flink.framework_off_heap,
        task_off_heap=flink.task_off_heap,
        network=flink.network,
        managed=flink.managed,
        jvm_metaspace=metaspace,
        jvm_overhead=overhead,
        total_flink=total_flink,
        total_process=_add(total_flink, metaspace, overhead),
        cpu_cores=cpu_cores,
        slots=slots,
    )


def taskmanager_memory(config: Mapping[str, str]) -> TaskManagerMemory:
    """Derive a TaskManager's memory from a Flink configuration, as Flink 2.3 does.

    :param config: Flink keys to string values, e.g.
        ``{"taskmanager.memory.process.size": "4096m"}``; unrelated keys are ignored.
    :raises FlinkConfigurationError: when Flink would refuse the configuration; the message
        is Flink's (``TaskManager memory configuration failed: ...`` for its checks).
    :return: every component in bytes, plus CPU cores and slots as BashJavaUtils passes them.
    """
    try:
        return _taskmanager_memory(_Config(config))
    except _JavaError as exc:
        raise FlinkConfigurationError(str(exc)) from None


def jobmanager_memory(config: Mapping[str, str]) -> JobManagerMemory:
    """Derive a JobManager's memory from a Flink configuration, as Flink 2.3 does.

    Flink 2.3 reports JobManager failures without a prefix (the TaskManager path has
    ``TaskManager memory configuration failed: ``); so does this function.

    :param config: Flink keys to string values, e.g.
        ``{"jobmanager.memory.process.size": "1600m"}``; unrelated keys are ignored.
    :raises FlinkConfigurationError: when Flink would refuse the configuration, with
        Flink's message.
    :return: every component in bytes.
    """
    view = _Config(config)
    try:
        heap, off_heap, metaspace, overhead = _jm_process(view)
        direct_limit = view.boolean(_JM_DIRECT_LIMIT)
    except _JavaError as exc:
        raise FlinkConfigurationError(str(exc)) from None
    total_flink = heap + off_heap
    return JobManagerMemory(
        heap=heap,
        off_heap=off_heap,
        jvm_metaspace=metaspace,
        jvm_overhead=overhead,
        total_flink=total_flink,
        total_process=total_flink + metaspace + overhead,
        direct_memory_limit=direct_limit,
    )
