"""A FlinkDeployment's ``jobManager``/``taskManager``: count, pod template and size.

The operator takes a role's size in two forms. The deprecated ``resource`` block has
``cpu`` (cores) and ``memory``, which it parses as Flink's ``MemorySize`` first (``2048m``
is 2048 MiB) and as a Kubernetes quantity only when that fails -- as the spec's own
memory fields do. The newer ``resources`` block is a Kubernetes ``ResourceRequirements``:
the request (else the limit) is the size, and a limit over the request is Flink's limit
factor (``kubernetes.<role>.<cpu|memory>.limit-factor``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.spec.manifestreading import item_path
from airflow_provider_flink_k8s.spec.ownedkeys import limit_factor_key
from airflow_provider_flink_k8s.units import (
    QuantityError,
    format_flink_memory,
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


def read_memory(reader: ManifestReader, text: str, path: str) -> int | None:
    """A memory size as the operator reads ``resource.memory`` (Flink's syntax first)."""
    try:
        return parse_memory(text)
    except QuantityError as exc:
        reader.problem(path, str(exc))
        return None


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
            section: _quantity(reader, item, f"{path}.{section}.{resource}", resource)
            for section, item in written.items()
        }
        sizes = {section: amount for section, amount in amounts.items() if amount is not None}
        if not sizes or len(sizes) < len(amounts):
            continue
        # The request is the size; without one, Kubernetes requests the limit.
        section = "requests" if "requests" in sizes else "limits"
        reader.origins[f"{role}.{resource}"] = f"{path}.{section}.{resource}"
        literal = written[section]
        reading.fields[resource] = (
            literal if resource == "cpu" else _memory_text(literal, sizes[section])
        )
        request, limit = sizes.get("requests"), sizes.get("limits")
        if request is not None and limit is not None and limit != request:
            key = limit_factor_key(role, resource)
            reading.limit_factors[key] = (float(limit / request), f"{path}.limits.{resource}")
            reader.origins[item_path("flink_configuration", key)] = f"{path}.limits.{resource}"


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


def _memory_text(literal: Any, size: Decimal) -> str:
    """A spec memory value for a Kubernetes quantity: the text itself when the spec reads
    it the same (``"2Gi"``), else Flink's exact form (``4G`` -> ``"3906250k"``, as Flink
    would read ``4G`` as 4 GiB)."""
    text = str(literal).strip()
    try:
        if parse_memory(text) == int(size):
            return text
    except QuantityError:
        pass
    return format_flink_memory(int(size))
