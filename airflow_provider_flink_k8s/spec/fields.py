"""Reusable field types and name rules for the spec models.

Each type validates and normalises one kind of value so the models stay declarative:
memory sizes keep the text the user wrote (Flink's syntax or a Kubernetes quantity),
CPU amounts become floats, names must satisfy the Kubernetes rule that the objects
derived from them will meet.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from airflow_provider_flink_k8s.units import MEBIBYTE, QuantityError, parse_cpu, parse_memory

__all__ = [
    "CLUSTER_NAME_MAX_LENGTH",
    "Cpu",
    "Dns1123Label",
    "Dns1123Subdomain",
    "FlinkVersion",
    "LabelMap",
    "Memory",
    "SUPPORTED_FLINK_VERSIONS",
    "check_dns1035_label",
    "check_dns1123_label",
    "configuration_value",
    "flatten_configuration",
    "normalize_flink_version",
]

# Flink versions the Flink Kubernetes Operator's CRD still accepts and that ship
# ``config.yaml`` (1.19+); older ones read only ``flink-conf.yaml``.
SUPPORTED_FLINK_VERSIONS = ("1.19", "1.20", "2.0", "2.1", "2.2", "2.3", "2.4")

# The operator refuses longer cluster ids (its native resources append suffixes and the
# HA ConfigMaps are prefixed with it); the standalone objects append "-taskmanager".
CLUSTER_NAME_MAX_LENGTH = 45

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def _check_label(
    value: str, pattern: re.Pattern[str], name: str, rule: str, max_length: int
) -> str:
    if len(value) > max_length:
        raise ValueError(f"must be at most {max_length} characters (got {len(value)})")
    if not pattern.match(value):
        raise ValueError(
            f"{value!r} is not a {name}: use lower-case letters, digits and '-', {rule}"
        )
    return value


def check_dns1123_label(value: str, max_length: int = 63) -> str:
    """Refuse what is not an RFC 1123 label (lower-case alphanumerics and '-')."""
    return _check_label(
        value,
        _DNS1123_LABEL,
        "DNS-1123 label",
        "starting and ending with a letter or digit",
        max_length,
    )


def check_dns1035_label(value: str, max_length: int = 63) -> str:
    """Refuse what is not an RFC 1035 label (as RFC 1123, but starting with a letter).

    Service names must be RFC 1035 labels, and a cluster's Services are named after it.
    """
    return _check_label(
        value,
        _DNS1035_LABEL,
        "DNS-1035 label",
        "starting with a letter and ending with a letter or digit",
        max_length,
    )


def _check_subdomain(value: str) -> str:
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 subdomain: lower-case alphanumeric labels "
            "separated by '.', at most 253 characters"
        )
    return value


def _check_label_key(key: str) -> None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        raise ValueError(
            f"label key {key!r} has an invalid prefix {prefix!r}: it must be a DNS-1123 "
            "subdomain (lower-case alphanumeric labels separated by '.')"
        )
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        raise ValueError(
            f"label key {key!r} is not a qualified name: an optional DNS prefix and '/', "
            "then at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
        )


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        _check_label_key(key)
        if len(value) > 63 or not _LABEL_VALUE.match(value):
            raise ValueError(
                f"label {key!r} has an invalid value {value!r}: at most 63 alphanumerics, "
                "'-', '_' or '.', starting and ending alphanumeric"
            )
    return labels


def _check_memory(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{value!r} is not a memory size; use e.g. '1600m', '4g' or '2Gi'")
    try:
        size = parse_memory(value)
    except QuantityError as exc:
        raise ValueError(str(exc)) from None
    text = str(value).strip()
    # A bare number is bytes in Flink and Kubernetes alike; below 1 MiB it is almost
    # surely a size meant in MiB, which the memory model would refuse far less clearly.
    if text.isdigit() and size < MEBIBYTE:
        raise ValueError(
            f"{text} is read as {text} bytes (a bare number is bytes), less than 1 MiB; "
            f"add a unit, e.g. '{text}m' for {text} MiB"
        )
    return text


def _check_cpu(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{value!r} is not a CPU amount; use e.g. 1, 0.5 or '500m'")
    try:
        cores = parse_cpu(value)
    except QuantityError as exc:
        raise ValueError(f"cpu must be > 0: {exc}") from None
    if cores < 0.001:
        raise ValueError(
            f"cpu must be at least 0.001 (1m), the smallest Kubernetes unit; got {value!r}"
        )
    return cores


def configuration_value(value: Any) -> str:
    """A Flink configuration value as the string Flink reads (YAML scalars and lists).

    Booleans become ``true``/``false`` and lists Flink's ``;``-separated form, as Flink's
    (and the operator's) own YAML reading does.

    :raises ValueError: for ``null``, which sets nothing.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(part) for part in value)
    if value is None:
        raise ValueError("has no value")
    return str(value)


def flatten_configuration(value: Any, prefix: str = "") -> dict[str, str]:
    """Flatten nested YAML (``{"taskmanager": {"numberOfTaskSlots": 2}}``) to Flink keys.

    :raises ValueError: when it is not a mapping or a key has no value.
    """
    if not isinstance(value, dict):
        raise ValueError("flink_configuration must be a mapping of Flink keys to values")
    flat: dict[str, str] = {}
    for key, item in value.items():
        full = f"{prefix}{key}"
        if isinstance(item, dict):
            flat.update(flatten_configuration(item, f"{full}."))
            continue
        try:
            flat[full] = configuration_value(item)
        except ValueError:
            raise ValueError(f"flink_configuration[{full!r}] has no value") from None
    return flat


def normalize_flink_version(value: Any) -> str:
    """Accept ``"2.3"``, ``"v2_3"``, ``2.3`` or ``"2.3.0"`` and return ``"2.3"``."""
    text = str(value).strip().lower()
    if text.startswith("v"):
        text = text[1:].replace("_", ".")
    parts = text.split(".")
    if len(parts) == 3 and parts[2].isdigit():
        text = ".".join(parts[:2])
    if text not in SUPPORTED_FLINK_VERSIONS:
        raise ValueError(
            f"{value!r} is not a supported Flink version; supported: "
            + ", ".join(SUPPORTED_FLINK_VERSIONS)
        )
    return text


Memory = Annotated[str, BeforeValidator(_check_memory)]
"""A memory size in Flink's syntax (``"1600m"`` = 1600 MiB, ``"4g"``) or a Kubernetes
quantity (``"2Gi"``); the text is kept as written."""

Cpu = Annotated[float, BeforeValidator(_check_cpu)]
"""A CPU amount in cores (``1``, ``0.5``) or a Kubernetes quantity (``"500m"``)."""

Dns1123Label = Annotated[str, AfterValidator(check_dns1123_label)]
Dns1123Subdomain = Annotated[str, AfterValidator(_check_subdomain)]
FlinkVersion = Annotated[str, BeforeValidator(normalize_flink_version)]
LabelMap = Annotated[dict[str, str], AfterValidator(_check_labels)]
