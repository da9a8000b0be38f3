"""Java's number printing: JDK 17's ``Double.toString``, ``%.3f`` and ``BigDecimal.valueOf``.

A port of JDK 17's ``FloatingDecimal.BinaryToASCIIBuffer.dtoa`` (its ``int`` and ``long``
loops with their two's-complement wrap-around, and its ``FDBigInteger`` loop) and of
``FormattedFloatingDecimal``. Before JDK 19, ``Double.toString`` is not the shortest
round-trip string Python's ``repr`` prints (``2.0**62`` is ``4.6116860184273879E18``,
``1e23`` is ``9.999999999999999E22``); ``BigDecimal.valueOf(double)`` parses that string,
so a different string would be a different ``MemorySize.multiply`` product. ``%.3f`` rounds
half-up on those digits (``1.0005`` gives ``1.001`` where C's ``printf`` gives ``1.000``).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from decimal import Decimal

from airflow_provider_flink_k8s.resources.memory.errors import JavaError

__all__ = ["big_decimal", "double_to_string", "format_fixed"]


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


def _first_digit(
    q: int, dec_exp: int, low: bool, high: bool, compat: bool
) -> tuple[list[int], int, bool, bool]:
    """dtoa's first digit, shared by its loops: (digits, decExp, low, high).

    A leading zero is not kept (the exponent drops by one instead) unless rounding up is due;
    the first digit may end the number only in ``Double.toString``'s plain range.
    """
    digits: list[int] = []
    if q == 0 and not high:
        dec_exp -= 1
    else:
        digits.append(q)
    if not compat or dec_exp < -3 or dec_exp >= 8:
        high = low = False
    return digits, dec_exp, low, high


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
    digits, dec_exp, low, high = _first_digit(q, dec_exp, b < m, w(b + m) > tens, compat)
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
    digits, dec_exp, low, high = _first_digit(q, dec_exp, b < m, b + m >= ten_s, compat)
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


def double_to_string(value: float) -> str:
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


def format_fixed(value: float, precision: int) -> str:
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


def big_decimal(value: float) -> Decimal:
    """``BigDecimal.valueOf(double)``: the decimal Java's ``Double.toString`` prints."""
    text = double_to_string(value)
    if not math.isfinite(value):
        raise JavaError(
            f"Character {text[0]} is neither a decimal digit number, decimal point, "
            'nor "e" notation exponential mark.'
        )
    return Decimal(text)
