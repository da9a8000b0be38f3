"""Java's number parsing, as Flink's ``Configuration`` applies it to option values.

* ``Float.parseFloat`` and ``Double.parseDouble`` (JDK 17's ``readJavaFormatString``):
  Java's ``trim``, an optional sign, ``NaN``/``Infinity``, decimal digits with one point
  and an exponent (huge exponents clamped as Java clamps them), hexadecimal (``0x1p-2``),
  a trailing ``f``/``d``; the exact value rounded to binary32 or binary64, ties to even.
* ``Integer.parseInt``: an optional sign and the decimal digits of any script in the BMP,
  no blanks, 32 bits.
* Flink's ``convertToBoolean``: ``true``/``false`` in any case.

Each refusal raises :class:`~.errors.NumberFormat`; Flink replaces its message by its own.
"""

from __future__ import annotations

import math
import re
import unicodedata
from fractions import Fraction

from airflow_provider_flink_k8s.resources.memory.errors import NumberFormat
from airflow_provider_flink_k8s.units import java_trim

__all__ = ["BINARY32", "BINARY64", "parse_java_boolean", "parse_java_float", "parse_java_int"]


_HEX_FLOAT = re.compile(
    r"([-+])?0[xX](?:([0-9a-fA-F]+)\.?|([0-9a-fA-F]*)\.([0-9a-fA-F]+))[pP]([-+])?([0-9]+)[fFdD]?"
)
# (mantissa bits incl. the hidden one, minimum normal exponent, maximum exponent)
BINARY32 = (24, -126, 127)
BINARY64 = (53, -1022, 1023)


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
        raise NumberFormat(text)
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
                raise NumberFormat(text)
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
        raise NumberFormat(text)
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
        raise NumberFormat(text)
    limit = 324 + n_digits
    if not overflow and value <= limit:
        return dec_exp + sign * value, pos
    if not overflow and sign == 1 and dec_exp < 0 and value + dec_exp < limit:
        return dec_exp + value, pos
    return sign * limit, pos


def parse_java_float(text: str, fmt: tuple[int, int, int]) -> float:
    """``Float.parseFloat`` (binary32, widened) or ``Double.parseDouble`` (binary64)."""
    text = java_trim(text)
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
        raise NumberFormat(text)
    if pos < len(text) and text[pos] in "eE":
        dec_exp, pos = _scan_exponent(text, pos, n_digits, dec_exp)
    if pos < len(text) and (pos != len(text) - 1 or text[pos] not in "fFdD"):
        raise NumberFormat(text)
    if not digits or dec_exp < -400:
        magnitude = 0.0
    elif dec_exp > 400:
        magnitude = math.inf
    else:
        exact = Fraction(int(digits)) * Fraction(10) ** (dec_exp - len(digits))
        magnitude = _round_to_binary(exact, fmt)
    return -magnitude if negative else magnitude


def parse_java_int(text: str) -> int:
    """``Integer.parseInt``: optional sign, BMP decimal digits of any script, 32 bits."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body:
        raise NumberFormat(text)
    value = 0
    for char in body:
        digit = unicodedata.decimal(char, -1) if ord(char) <= 0xFFFF else -1
        if digit < 0:
            raise NumberFormat(text)
        value = value * 10 + digit
    value = -value if text[0] == "-" else value
    if not -(2**31) <= value < 2**31:
        raise NumberFormat(text)
    return value


def parse_java_boolean(text: str) -> bool:
    """Flink's ``convertToBoolean``: ``true``/``false`` in any case."""
    upper = text.upper()
    if upper not in ("TRUE", "FALSE"):
        raise NumberFormat(text)
    return upper == "TRUE"
