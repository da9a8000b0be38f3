"""Kubernetes ``resource.Quantity`` values, read the way the API server reads them (pure).

The scheduler sums requests against node capacity and the downward API divides limits
by a divisor: both need a quantity's exact value. The grammar is apimachinery's
(``k8s.io/apimachinery/pkg/api/resource/quantity.go``): a signed decimal number, then a
binary suffix (``Ki`` .. ``Ei``), a decimal suffix (``n`` .. ``E``) or a decimal exponent
(``1e3``).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

__all__ = ["QuantityError", "parse_quantity"]

_SUFFIXES: dict[str, Decimal] = {
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
    **{f"{prefix}i": Decimal(2 ** (10 * power)) for power, prefix in enumerate("KMGTPE", 1)},
}
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?:(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE](?P<exponent>[+-]?\d+))?$"
)


class QuantityError(ValueError):
    """Raised for a value that is not a Kubernetes quantity."""


def parse_quantity(value: str | int | float) -> Decimal:
    """The exact value of a quantity: ``"2Gi"`` -> 2147483648, ``"500m"`` -> 0.5.

    :raises QuantityError: for anything the API server would refuse as a quantity.
    """
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a quantity")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise QuantityError(f"{value!r} is not a finite quantity")
        return Decimal(str(value))
    match = _QUANTITY.match(value.strip())
    if match is None:
        raise QuantityError(f"{value!r} is not a Kubernetes quantity (e.g. '2Gi', '500m')")
    number = Decimal(match["number"])
    if match["exponent"] is not None:
        return number.scaleb(int(match["exponent"]))
    return number * _SUFFIXES[match["suffix"] or ""]
