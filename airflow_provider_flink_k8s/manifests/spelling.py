"""Writing a FlinkDeployment the way the one a spec was read from wrote it.

A spec read by :meth:`~airflow_provider_flink_k8s.spec.FlinkCluster.from_flink_deployment`
carries ``operator.spelling``. Rendering it back, each value the spec holds is written:

* in ``flinkConfiguration``, under the key name the source used (``state.savepoints.dir``
  rather than ``execution.checkpointing.savepoint-dir``), at the source's nesting, and as
  the source's literal (``2``, ``true``, ``2048m``) while it still means the same; keys
  the source did not have are added flat after the source's;
* for a role the source sized with ``resources``, as ``requests``/``limits`` entries --
  the quantity as written while unchanged (read as the operator reads it: ``2048m`` is
  2048 MiB), else as a Kubernetes quantity (``3Gi``) -- with limits from the limit
  factors the reader derived from them (those factors then stay out of
  ``flinkConfiguration``); a memory request and limit are kept in one unit, as the
  operator takes the factor from their Kubernetes quantities.

Finally ``operator.overrides`` is laid over the rendered ``spec``.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.spec.ownedkeys import (
    CHECKPOINT_DIR_KEYS,
    CLUSTER_ID_KEY,
    HA_TYPE_KEYS,
    PROCESS_SIZE_KEYS,
    SAVEPOINT_DIR_KEYS,
    equivalent_configuration_value,
    limit_factor_key,
)
from airflow_provider_flink_k8s.units import (
    QuantityError,
    format_cpu,
    format_k8s_memory,
    parse_k8s_quantity,
    parse_memory,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_flink_k8s.spec.cluster import FlinkCluster, FlinkDeploymentSpelling

__all__ = [
    "limit_factors",
    "merge_overrides",
    "spell_flink_configuration",
    "spell_resources",
]

_SIZED = ("cpu", "memory")


def limit_factors(cluster: FlinkCluster, role: str) -> dict[str, float]:
    """A role's cpu and memory limit factors (limit = request x factor; default 1.0)."""
    return {
        resource: float(cluster.flink_configuration.get(limit_factor_key(role, resource), "1.0"))
        for resource in _SIZED
    }


def _written_keys(document: Mapping[str, Any], prefix: str = "") -> set[str]:
    """The Flink keys of a ``flinkConfiguration`` as written (flat or nested)."""
    keys: set[str] = set()
    for key, item in document.items():
        if isinstance(item, dict) and item:
            keys |= _written_keys(item, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def _owned_values(cluster: FlinkCluster) -> list[tuple[tuple[str, ...], str | None]]:
    """Keys a spec field owns that the source may have written under another name (or
    that the operator target leaves out unless the source had them), with their value."""
    return [
        (SAVEPOINT_DIR_KEYS, cluster.savepoint_dir),
        (CHECKPOINT_DIR_KEYS, cluster.checkpoint_dir),
        (HA_TYPE_KEYS, "kubernetes" if cluster.high_availability.enabled else None),
        ((PROCESS_SIZE_KEYS["jobmanager"],), cluster.jobmanager.memory),
        ((PROCESS_SIZE_KEYS["taskmanager"],), cluster.taskmanager.memory),
        ((CLUSTER_ID_KEY,), cluster.name),
    ]


def _derived_limit_factors(spelling: FlinkDeploymentSpelling, written: set[str]) -> set[str]:
    """Limit-factor keys that stand for a ``resources`` limit of the source."""
    derived = set()
    for role in ("jobmanager", "taskmanager"):
        resources = getattr(spelling, f"{role}_resources") or {}
        for resource in _SIZED:
            key = limit_factor_key(role, resource)
            in_both = all(
                resource in (resources.get(part) or {}) for part in ("requests", "limits")
            )
            if in_both and key not in written:
                derived.add(key)
    return derived


def _fold(
    written: Mapping[str, Any], configuration: dict[str, str], prefix: str = ""
) -> dict[str, Any]:
    """The source's document with each key's current value (popped from
    ``configuration``); keys no longer configured are left out."""
    folded: dict[str, Any] = {}
    for key, item in written.items():
        full = f"{prefix}{key}"
        if isinstance(item, dict) and item:
            nested = _fold(item, configuration, f"{full}.")
            if nested:
                folded[key] = nested
        elif full in configuration:
            value = configuration.pop(full)
            same = equivalent_configuration_value(full, item, value)
            folded[key] = copy.deepcopy(item) if same else value
    return folded


def spell_flink_configuration(
    cluster: FlinkCluster, spelling: FlinkDeploymentSpelling, configuration: Mapping[str, str]
) -> dict[str, Any]:
    """``spec.flinkConfiguration`` in the source's form (see the module docstring).

    :param cluster: the spec (for the values of the keys its fields own).
    :param spelling: its ``operator.spelling``.
    :param configuration: the flat configuration the operator target renders.
    """
    written = spelling.flink_configuration
    keys = _written_keys(written)
    remaining = dict(configuration)
    for aliases, value in _owned_values(cluster):
        used = [key for key in aliases if key in keys]
        if value is None or not used:
            continue
        for key in aliases:
            remaining.pop(key, None)
        for key in used:
            remaining[key] = value
    for key in _derived_limit_factors(spelling, keys):
        remaining.pop(key, None)
    folded = _fold(written, remaining)
    folded.update(sorted(remaining.items()))
    return folded


def _means(resource: str, written: Any, amount: float) -> bool:
    """Whether a written quantity is ``amount`` (bytes or cores), up to the rounding of a
    limit factor. Memory is read as the operator reads it: Flink's syntax first
    (``2048m`` is 2048 MiB)."""
    try:
        if isinstance(written, bool) or not isinstance(written, (str, int, float)):
            return False
        if resource == "memory":
            return not isinstance(written, float) and abs(parse_memory(written) - amount) < 1
        value = parse_k8s_quantity(written)
    except QuantityError:
        return False
    return abs(float(value) - amount) <= 1e-9 * max(1.0, amount)


def _operator_factor_holds(request: Any, limit: Any) -> bool:
    """Whether the operator's memory limit factor -- limit / request as Kubernetes
    quantities -- is the ratio of the sizes it reads them as (Flink's syntax first):
    not for ``2048m`` with ``3Gi``, where Kubernetes reads ``2048m`` as 2.048 bytes."""
    try:
        quantity_ratio = parse_k8s_quantity(limit) / parse_k8s_quantity(request)
        size_ratio = Decimal(parse_memory(limit)) / Decimal(parse_memory(request))
    except (QuantityError, TypeError):
        return False
    return abs(quantity_ratio - size_ratio) <= Decimal("1e-6") * size_ratio


def _quantity(resource: str, written: Any, amount: float) -> Any:
    if written is not None and _means(resource, written, amount):
        return copy.deepcopy(written)
    return format_cpu(amount) if resource == "cpu" else format_k8s_memory(int(amount))


def spell_resources(
    written: Mapping[str, Any], cpu: float, memory: str, factors: Mapping[str, float]
) -> dict[str, Any]:
    """A role's ``resources`` (Kubernetes ``ResourceRequirements``) in the source's form.

    Each of cpu and memory goes where the source had it: a request (and then a limit of
    request x factor, if the source had one), or only a limit when the source gave only
    that (Kubernetes then requests the limit). A value the source did not give at all
    becomes a request.

    :param written: the source's cpu/memory entries (``FlinkDeploymentSpelling``).
    :param cpu: the spec's cores; :param memory: the spec's memory text.
    :param factors: limit factors by resource (:func:`limit_factors`).
    """
    requests, limits = written.get("requests") or {}, written.get("limits") or {}
    amounts = {"cpu": float(cpu), "memory": float(parse_memory(memory))}
    rendered: dict[str, dict[str, Any]] = {}
    for resource in _SIZED:
        request, limit, amount = requests.get(resource), limits.get(resource), amounts[resource]
        if request is None and limit is not None:
            rendered.setdefault("limits", {})[resource] = _quantity(resource, limit, amount)
            continue
        rendered.setdefault("requests", {})[resource] = _quantity(resource, request, amount)
        if limit is not None:
            # As Flink computes a limit: request x factor in doubles.
            limited = amount * factors.get(resource, 1.0)
            rendered.setdefault("limits", {})[resource] = _quantity(resource, limit, limited)
            if resource == "memory" and not _operator_factor_holds(
                rendered["requests"][resource], rendered["limits"][resource]
            ):
                # One kept as written (2048m), the other changed (3Gi): both in one unit.
                rendered["requests"][resource] = format_k8s_memory(int(amount))
                rendered["limits"][resource] = format_k8s_memory(int(limited))
    return rendered


def merge_overrides(spec: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``spec`` with ``overrides`` laid over it: mappings merge key by key, anything else
    is replaced; neither argument is modified."""
    merged = copy.deepcopy(dict(spec))
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_overrides(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
