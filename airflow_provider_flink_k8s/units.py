"""Memory and CPU quantities in Flink's and in Kubernetes' notations.

The two notations collide on purpose-built traps: in Flink ``"1600m"`` is 1600 MiB, in
Kubernetes ``"1600m"`` is 1.6 *bytes* (milli). Every conversion in this package goes
through the functions below so the two can never be mixed:

* :func:`parse_flink_memory` is Flink's ``MemorySize.parse`` (base 1024, units
  ``b k m g t`` and their long forms, case-insensitive, whole numbers only).
* :func:`parse_k8s_quantity` is Kubernetes' ``resource.Quantity`` grammar
  (binary ``Ki Mi Gi Ti Pi Ei``, decimal ``n u m k M G T P E``, exponents).
* :func:`parse_memory` is what a spec accepts: Flink's syntax first, then a Kubernetes
  quantity -- how the Flink Kubernetes Operator reads every memory value of a
  FlinkDeployment (``resource.memory`` and ``resources.requests/limits.memory``).
* :func:`decimal_memory_hint` says how Flink reads memory a Kubernetes user may have
  meant in decimal units (``"2G"``).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

__all__ = [
    "JAVA_LONG_MAX",
    "MEBIBYTE",
    "QuantityError",
    "decimal_memory_hint",
    "format_cpu",
    "format_flink_memory",
    "format_k8s_memory",
    "format_memory_for_display",
    "java_trim",
    "operator_memory_value",
    "parse_cpu",
    "parse_flink_memory",
    "parse_k8s_quantity",
    "parse_memory",
]

JAVA_LONG_MAX = 2**63 - 1
MEBIBYTE = 2**20

_FLINK_UNITS: dict[str, int] = {}
for _names, _multiplier in (
    (("b", "bytes"), 1),
    (("k", "kb", "kibibytes"), 1024),
    (("m", "mb", "mebibytes"), 1024**2),
    (("g", "gb", "gibibytes"), 1024**3),
    (("t", "tb", "tebibytes"), 1024**4),
):
    for _name in _names:
        _FLINK_UNITS[_name] = _multiplier

_K8S_SUFFIXES: dict[str, Decimal] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
# Kubernetes' quantity grammar: sign, digits with an optional fraction, then either a
# suffix or a decimal exponent (``1e3``, ``1E3``).
_K8S_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?:(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE](?P<exponent>[+-]?\d+))?$"
)


def java_trim(text: str) -> str:
    """Java's ``String.trim()``: strip every character up to U+0020, and nothing else.

    Python's :meth:`str.strip` removes a different set (e.g. U+00A0, but not U+0001), and
    Flink trims the Java way.
    """
    start, end = 0, len(text)
    while start < end and text[start] <= " ":
        start += 1
    while end > start and text[end - 1] <= " ":
        end -= 1
    return text[start:end]


class QuantityError(ValueError):
    """Raised when a memory or CPU value does not parse; the message says why."""


def parse_flink_memory(text: str) -> int:
    """Parse a memory size exactly as Flink's ``MemorySize.parse`` does.

    :param text: e.g. ``"1728m"``, ``"4 gb"``, ``"1024"`` (bytes).
    :raises QuantityError: with Flink's own wording when Flink would refuse the text.
    :return: the size in bytes.
    """
    trimmed = java_trim(text)
    if not trimmed:
        raise QuantityError("argument is an empty- or whitespace-only string")
    pos = 0
    while pos < len(trimmed) and "0" <= trimmed[pos] <= "9":
        pos += 1
    number, unit = trimmed[:pos], java_trim(trimmed[pos:]).lower()
    if not number:
        raise QuantityError("text does not start with a number")
    value = int(number)
    if value > JAVA_LONG_MAX:
        raise QuantityError(
            f"The value '{number}' cannot be re represented as 64bit number (numeric overflow)."
        )
    if unit and unit not in _FLINK_UNITS:
        raise QuantityError(
            f"Memory size unit '{unit}' does not match any of the recognized units: "
            "(b | bytes) / (k | kb | kibibytes) / (m | mb | mebibytes) / "
            "(g | gb | gibibytes) / (t | tb | tebibytes)"
        )
    result = value * _FLINK_UNITS.get(unit, 1)
    if result > JAVA_LONG_MAX:
        raise QuantityError(
            f"The value '{text}' cannot be re represented as 64bit number of bytes "
            "(numeric overflow)."
        )
    return result


def parse_k8s_quantity(text: str | int | float) -> Decimal:
    """Parse a Kubernetes ``resource.Quantity`` (``"2Gi"``, ``"500m"``, ``"1e9"``, ``2``).

    :raises QuantityError: when the text is not a quantity.
    :return: the exact value as a :class:`~decimal.Decimal` (``"500m"`` -> ``0.5``).
    """
    if isinstance(text, bool):
        raise QuantityError(f"{text!r} is not a quantity")
    if isinstance(text, (int, float)):
        if isinstance(text, float) and not math.isfinite(text):
            raise QuantityError(f"{text!r} is not a finite quantity")
        return Decimal(str(text))
    match = _K8S_QUANTITY.match(text.strip())
    if not match:
        raise QuantityError(
            f"{text!r} is not a Kubernetes quantity (expected e.g. '2Gi', '500m', '1.5')"
        )
    try:
        number = Decimal(match["number"])
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
        raise QuantityError(f"{text!r} is not a Kubernetes quantity") from exc
    if match["exponent"] is not None:
        return number.scaleb(int(match["exponent"]))
    return number * _K8S_SUFFIXES[match["suffix"] or ""]


def _operator_quantity_text(text: str) -> str:
    """The Kubernetes quantity the Flink Kubernetes Operator makes of memory text Flink
    refused: no whitespace, upper case, a trailing ``B`` dropped and a trailing ``I``
    lowered again (``"2048mi"`` -> ``"2048Mi"``, ``"1.5gb"`` -> ``"1.5G"``), so its
    ``m`` is never milli."""
    quantity = re.sub(r"\s", "", text).upper()
    quantity = quantity.removesuffix("B")
    if quantity.endswith("I"):
        quantity = quantity[:-1] + "i"
    return quantity


def operator_memory_value(text: str | int) -> str:
    """What the Flink Kubernetes Operator writes into Flink's configuration for a
    FlinkDeployment's memory value (``ResourceConfigUtils.parseResourceMemoryString``).

    Text Flink reads stays Flink's (returned as is); other text becomes the Kubernetes
    quantity's amount in bytes as Java's ``BigDecimal`` prints it, fraction digits and
    all: ``"2Gi"`` -> ``"2147483648"``, ``"1.5Gi"`` -> ``"1610612736.0"`` -- which Flink's
    ``MemorySize`` then refuses.

    :raises QuantityError: when neither notation accepts the text.
    """
    if isinstance(text, int):
        return str(text)
    try:
        parse_flink_memory(text)
        return text
    except QuantityError:
        pass
    match = _K8S_QUANTITY.match(_operator_quantity_text(text))
    if match is None or match["exponent"] is not None:
        # An exponent's printing is left to parse_memory's own rounding.
        return str(parse_memory(text))
    # Upper-cased, the suffixes are all whole multiples (no milli): BigDecimal keeps the
    # amount's fraction digits, as Decimal does.
    return str(Decimal(match["number"]) * int(_K8S_SUFFIXES[match["suffix"] or ""]))


def parse_memory(text: str | int) -> int:
    """Parse a memory value as the Flink Kubernetes Operator reads a FlinkDeployment's.

    Flink's syntax wins (``"1600m"`` is 1600 MiB, never 1.6 bytes; ``"2G"`` is 2 GiB);
    only text Flink refuses is read as a Kubernetes quantity (``"2Gi"``, ``"1.5G"``),
    after the operator's normalisation: whitespace removed, the unit upper-cased and a
    trailing ``B`` dropped (``"2048mi"`` is 2048 MiB, ``"1.5gb"`` 1.5e9 bytes). A plain
    integer is a number of bytes in both notations.

    :raises QuantityError: when neither notation accepts the value, or it is not positive.
    :return: the size in bytes (a fractional byte count is rounded up, as Kubernetes does).
    """
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise QuantityError(f"{text!r} is not a memory size")
    if isinstance(text, int):
        value = text
    else:
        try:
            value = parse_flink_memory(text)
        except QuantityError as flink_error:
            try:
                value = math.ceil(parse_k8s_quantity(_operator_quantity_text(text)))
            except QuantityError:
                raise QuantityError(
                    f"{text!r} is neither a Flink memory size ({flink_error}) nor a Kubernetes "
                    "quantity; use e.g. '1600m' (MiB), '4g' or '2Gi'"
                ) from None
    if value <= 0:
        raise QuantityError(f"{text!r} must be a positive memory size")
    if value > JAVA_LONG_MAX:
        raise QuantityError(f"{text!r} does not fit in 64 bits")
    return value


# Units Flink reads in binary multiples that Kubernetes (M, G, T) or common usage (MB,
# GB, TB) read as decimal ones: a sign the author may have meant 10^6, not 2^20.
_DECIMAL_LOOKING_UNITS = {"M": "MB", "MB": "MB", "G": "GB", "GB": "GB", "T": "TB", "TB": "TB"}
_BINARY_NAMES = {"m": "MiB", "g": "GiB", "t": "TiB"}
_DECIMAL_MULTIPLIERS = {"MB": 10**6, "GB": 10**9, "TB": 10**12}


def decimal_memory_hint(text: str | int) -> str | None:
    """How Flink reads memory written in a unit a Kubernetes user reads as decimal.

    ``"2G"``, ``"2GB"`` and ``"2000M"`` are accepted by Flink (and the operator) as 2 GiB
    and 2000 MiB, where Kubernetes' ``2G`` is 2e9 bytes. For such a value this returns a
    sentence saying how it is read and what to write for the decimal size; for any other
    value (``"2g"``, ``"2048m"``, ``"2Gi"``, bytes) ``None``.
    """
    if not isinstance(text, str):
        return None
    match = re.fullmatch(r"(\d+)\s*([A-Za-z]+)", java_trim(text))
    if match is None or match[2] not in _DECIMAL_LOOKING_UNITS:
        return None
    number, decimal_unit = int(match[1]), _DECIMAL_LOOKING_UNITS[match[2]]
    try:
        size = parse_flink_memory(text)
    except QuantityError:
        return None
    binary_unit = _BINARY_NAMES[match[2][0].lower()]
    decimal_size = number * _DECIMAL_MULTIPLIERS[decimal_unit]
    forms = []
    if decimal_size >= MEBIBYTE:
        forms.append(f'"{decimal_size}" (bytes)')
    mebibytes, rest = divmod(decimal_size, MEBIBYTE)
    if mebibytes:
        forms.append(f'"{mebibytes}m" (MiB{", rounded down" if rest else ""})')
    else:
        forms.append(f'"{decimal_size // 1024}k" (KiB, rounded down)')
    return (
        f'"{java_trim(text)}" is read as Flink\'s MemorySize: {number} {binary_unit} '
        f"({size} bytes), not {number} {decimal_unit}; if you meant {number} {decimal_unit} "
        f"(decimal) write {' or '.join(forms)}"
    )


def parse_cpu(value: str | int | float) -> float:
    """Parse a CPU amount: a number of cores (``1.5``) or a Kubernetes quantity (``"500m"``).

    :raises QuantityError: when it does not parse or is not positive.
    """
    cores = parse_k8s_quantity(value)
    if cores <= 0:
        raise QuantityError(f"{value!r} must be greater than 0")
    return float(cores)


def format_k8s_memory(size: int) -> str:
    """Render bytes as the shortest exact Kubernetes quantity (``"1600Mi"``, ``"1536Ki"``)."""
    for suffix, multiplier in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if size % multiplier == 0:
            return f"{size // multiplier}{suffix}"
    return str(size)


def format_memory_for_display(size: int) -> str:
    """Render bytes for people: the exact Kubernetes quantity when it is a whole number of
    MiB or GiB (or under 1 MiB), else MiB with one decimal (``"1228.8Mi"``) -- for tables and logs,
    never for a manifest (use :func:`format_k8s_memory` there)."""
    exact = format_k8s_memory(size)
    if exact.endswith(("Mi", "Gi")) or size < 2**20:
        return exact
    return f"{size / 2**20:.1f}Mi"


def format_flink_memory(size: int) -> str:
    """Render bytes in Flink's syntax, exactly (``"1600m"``, ``"4g"``, ``"1811939329b"``)."""
    for suffix, multiplier in (("g", 2**30), ("m", 2**20), ("k", 2**10)):
        if size % multiplier == 0:
            return f"{size // multiplier}{suffix}"
    return f"{size}b"


def format_cpu(cores: float) -> str:
    """Render cores as a Kubernetes CPU quantity in whole millicores (``"2"``, ``"500m"``).

    Kubernetes cannot express less than 1m; a fraction of a millicore is rounded up,
    as the API server does.
    """
    millis = math.ceil(round(cores * 1000, 6))
    if millis % 1000 == 0:
        return str(millis // 1000)
    return f"{millis}m"
