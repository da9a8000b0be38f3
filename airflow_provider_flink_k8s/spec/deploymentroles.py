"""A FlinkDeployment's ``jobManager``/``taskManager``: count, pod template and size.

The operator takes a role's size in two forms: the deprecated ``resource`` block (``cpu``
in cores, ``memory``) and the newer ``resources`` block, a Kubernetes
``ResourceRequirements`` whose request (else limit) is the size. It reads every memory
value in both the same way (``ResourceConfigUtils.parseResourceMemoryString``): as Flink's
``MemorySize`` first (``2048m`` is 2048 MiB, ``2G`` 2 GiB) and as a Kubernetes quantity
only when Flink refuses it (``2Gi``) -- as the spec's own memory fields do
(:func:`~airflow_provider_flink_k8s.units.parse_memory`).

A fraction Flink refuses (``1.5Gi``) is refused here: the operator hands Flink the
quantity's bytes with their fraction digit (``1610612736.0``), which Flink cannot read.

When a role gives both a request and a limit, the limit over the request is Flink's
limit factor (``kubernetes.<role>.<cpu|memory>.limit-factor``), which the operator
computes from the Kubernetes quantities -- for memory too. Where that differs from the
ratio of the sizes it gives Flink (``2048m`` with ``3Gi``: Kubernetes reads ``2048m`` as
2.048 bytes) the FlinkDeployment is refused, naming the limit.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.exceptions import SpecWarning
from airflow_provider_flink_k8s.spec.manifestreading import item_path
from airflow_provider_flink_k8s.spec.ownedkeys import limit_factor_key
from airflow_provider_flink_k8s.units import (
    QuantityError,
    decimal_memory_hint,
    format_flink_memory,
    format_k8s_memory,
    operator_memory_value,
    parse_flink_memory,
    parse_k8s_quantity,
    parse_memory,
)

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.spec.manifestreading import ManifestReader

__all__ = ["RoleReading", "read_memory", "read_role"]

_ROLE_FIELDS = frozenset({"replicas", "resource", "resources", "podTemplate"})
_RESOURCE_FIELDS = frozenset({"cpu", "memory", "ephemeralStorage"})
_RESOURCES_FIELDS = frozenset({"requests", "limits", "claims"})
_SIZED = ("cpu", "memory")


@dataclass
class RoleReading:
    """What one role of a FlinkDeployment says, sorted by where the spec keeps it."""

    fields: dict[str, Any] = field(default_factory=dict)
    """``JobManagerSpec``/``TaskManagerSpec`` fields: replicas, pod_template, cpu, memory."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Kept verbatim: ``resource.ephemeralStorage``, extra ``resources`` entries."""
    written_resources: dict[str, Any] | None = None
    """The cpu/memory entries of ``resources`` as written, when the role used it."""
    limit_factors: dict[str, tuple[float, str]] = field(default_factory=dict)
    """Limit-factor key -> (factor, the manifest field of the limit)."""


def read_role(reader: ManifestReader, value: Any, crd: str, role: str) -> RoleReading:
    """Read ``spec.<crd>`` (``jobManager``) for the spec role ``role`` (``jobmanager``)."""
    path = f"spec.{crd}"
    node = reader.mapping(value, path, _ROLE_FIELDS)
    reading = RoleReading()
    replicas = reader.typed(node.get("replicas"), f"{path}.replicas", int)
    if replicas is not None:
        reading.fields["replicas"] = replicas
    if node.get("podTemplate") is not None:
        reading.fields["pod_template"] = reader.mapping(node["podTemplate"], f"{path}.podTemplate")
    if node.get("resource") is not None and node.get("resources") is not None:
        reader.problem(path, "give either resource or resources, not both")
    elif node.get("resource") is not None:
        _resource(reader, node["resource"], f"{path}.resource", reading)
    elif node.get("resources") is not None:
        _resources(reader, node["resources"], role, f"{path}.resources", reading)
    return reading


def read_memory(reader: ManifestReader, value: Any, path: str) -> int | None:
    """A memory size as the operator reads one (Flink's syntax first), in bytes; warns
    (:class:`~airflow_provider_flink_k8s.exceptions.SpecWarning`, naming ``path``) when it
    is written in units a Kubernetes user reads as decimal (``2G``)."""
    size = None
    try:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise QuantityError(f"{value!r} is not a memory size; use e.g. '2048m' or '2Gi'")
        size = parse_memory(value)
        handed = operator_memory_value(value)
        parse_flink_memory(handed)
    except QuantityError as exc:
        if size is None:
            reader.problem(path, str(exc))
        else:
            reader.problem(
                path,
                f"{value!r} is no size in Flink's syntax (whole numbers only), and as a "
                f"Kubernetes quantity the operator hands it to Flink as {handed!r}, which "
                f"Flink refuses; write a whole number, e.g. {format_k8s_memory(size)!r}",
            )
        return None
    hint = decimal_memory_hint(value)
    if hint is not None:
        warnings.warn(f"{path}: {hint}", SpecWarning, stacklevel=2)
    return size


def _resource(reader: ManifestReader, value: Any, path: str, reading: RoleReading) -> None:
    resource = reader.mapping(value, path, _RESOURCE_FIELDS)
    cpu = resource.get("cpu")
    if cpu is not None:
        if isinstance(cpu, bool) or not isinstance(cpu, (int, float)):
            reader.problem(f"{path}.cpu", f"must be a number of cores, not {cpu!r}")
        elif _quantity(reader, cpu, f"{path}.cpu", "cpu") is not None:
            reading.fields["cpu"] = cpu
    memory = reader.typed(resource.get("memory"), f"{path}.memory", str)
    if memory is not None and read_memory(reader, memory, f"{path}.memory") is not None:
        reading.fields["memory"] = memory
    storage = reader.typed(resource.get("ephemeralStorage"), f"{path}.ephemeralStorage", str)
    if storage is not None:
        reading.overrides["resource"] = {"ephemeralStorage": storage}


def _resources(
    reader: ManifestReader, value: Any, role: str, path: str, reading: RoleReading
) -> None:
    resources = reader.mapping(value, path, _RESOURCES_FIELDS)
    sections: dict[str, dict[str, Any]] = {}
    extras: dict[str, Any] = {}
    for section in ("requests", "limits"):
        if resources.get(section) is None:
            continue
        entries = reader.mapping(resources[section], f"{path}.{section}")
        sections[section] = {k: entries[k] for k in _SIZED if entries.get(k) is not None}
        rest = {k: v for k, v in entries.items() if k not in _SIZED}
        if rest:
            extras[section] = rest
    if resources.get("claims") is not None:
        extras["claims"] = resources["claims"]
    if extras:
        reading.overrides["resources"] = extras
    reading.written_resources = sections
    for resource in _SIZED:
        written = {s: entries[resource] for s, entries in sections.items() if resource in entries}
        amounts = {
            section: (
                _quantity(reader, item, f"{path}.{section}.{resource}", resource)
                if resource == "cpu"
                else read_memory(reader, item, f"{path}.{section}.{resource}")
            )
            for section, item in written.items()
        }
        sizes = {section: amount for section, amount in amounts.items() if amount is not None}
        if not sizes or len(sizes) < len(amounts):
            continue
        # The request is the size; without one, Kubernetes requests the limit.
        section = "requests" if "requests" in sizes else "limits"
        reader.origins[f"{role}.{resource}"] = f"{path}.{section}.{resource}"
        literal = written[section]
        reading.fields[resource] = literal if resource == "cpu" else str(literal).strip()
        if len(sizes) < 2:
            continue  # the operator derives a factor only from a request and a limit
        factor = (
            _memory_limit_factor(reader, written, sizes, path)
            if resource == "memory"
            else Decimal(sizes["limits"]) / Decimal(sizes["requests"])
        )
        if factor is not None and factor != 1:
            key = limit_factor_key(role, resource)
            reading.limit_factors[key] = (float(factor), f"{path}.limits.{resource}")
            reader.origins[item_path("flink_configuration", key)] = f"{path}.limits.{resource}"


def _memory_limit_factor(
    reader: ManifestReader, written: dict[str, Any], sizes: dict[str, Any], path: str
) -> Decimal | None:
    """The memory limit factor as the operator computes it: limit / request, both read as
    Kubernetes quantities; refused where that is not the ratio of the sizes it gives
    Flink (which it reads as Flink's MemorySize first). ``path`` is the ``resources``."""
    request, limit = written["requests"], written["limits"]
    quantities = {}
    for text, where in ((request, f"{path}.requests.memory"), (limit, f"{path}.limits.memory")):
        try:
            quantities[where] = parse_k8s_quantity(text)
        except QuantityError:
            reader.problem(
                where,
                f"{text!r} is not a Kubernetes quantity, and the operator computes the "
                "memory limit factor from the request's and the limit's quantities; write "
                f"e.g. {format_k8s_memory(parse_memory(text))!r}",
            )
            return None
    k8s_request, k8s_limit = quantities.values()
    operator_factor = k8s_limit / k8s_request
    flink_factor = Decimal(sizes["limits"]) / Decimal(sizes["requests"])
    if abs(operator_factor - flink_factor) <= Decimal("1e-9") * flink_factor:
        return flink_factor
    misread = " and ".join(
        f"{text} as {_plain(amount)} bytes"
        for text, amount in ((request, k8s_request), (limit, k8s_limit))
        if math.ceil(amount) != parse_memory(text)
    )
    reader.problem(
        f"{path}.limits.memory",
        f"the operator sizes Flink with {request} = {format_flink_memory(sizes['requests'])} "
        f"but takes the limit factor from Kubernetes quantities ({limit} / {request} = "
        f"{_plain(operator_factor)}, as Kubernetes reads {misread}); write the request and "
        f"the limit in the same unit, e.g. {format_k8s_memory(sizes['requests'])!r} and "
        f"{format_k8s_memory(sizes['limits'])!r}",
    )
    return None


def _plain(amount: Decimal) -> str:
    """A quantity without exponent or trailing zeros (``2.048``, ``1572864000``)."""
    text = f"{amount.quantize(Decimal('1e-6')) if amount < 10**6 else round(amount):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _quantity(reader: ManifestReader, value: Any, path: str, resource: str) -> Decimal | None:
    """A Kubernetes quantity > 0: cores for cpu, bytes (rounded up) for memory."""
    try:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise QuantityError(f"{value!r} is not a quantity")
        amount = parse_k8s_quantity(value)
    except QuantityError as exc:
        reader.problem(path, str(exc))
        return None
    if resource == "memory":
        amount = Decimal(math.ceil(amount))
    if amount <= 0:
        reader.problem(path, f"{value!r} must be greater than 0")
        return None
    return amount
