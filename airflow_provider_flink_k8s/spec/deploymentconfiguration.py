"""A FlinkDeployment's ``flinkConfiguration``: the keys a spec field owns move into it.

The rest stays ``flink_configuration``, flattened (the source's own form is kept in
``operator.spelling``). A key the operator would override with another field's value
(``parallelism.default``, a process size, the cluster id) is kept only where it agrees
with that field, since rendering writes the field's value under it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.spec.deploymentroles import read_memory
from airflow_provider_flink_k8s.spec.fields import configuration_value
from airflow_provider_flink_k8s.spec.manifestreading import item_path
from airflow_provider_flink_k8s.spec.ownedkeys import (
    CHECKPOINT_DIR_KEYS,
    CLUSTER_ID_KEY,
    HA_STORAGE_KEY,
    HA_TYPE_KEYS,
    KUBERNETES_HA_TYPES,
    MAX_PARALLELISM_KEY,
    PARALLELISM_KEY,
    PROCESS_SIZE_KEYS,
    SAVEPOINT_DIR_KEYS,
    SLOTS_KEY,
)
from airflow_provider_flink_k8s.units import parse_memory

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.spec.manifestreading import ManifestReader

__all__ = ["read_flink_configuration"]


def _path(key: str) -> str:
    return item_path("spec.flinkConfiguration", key)


def read_flink_configuration(
    reader: ManifestReader,
    document: dict[str, Any],
    cluster: dict[str, Any],
    job: dict[str, Any] | None,
    limit_factors: Mapping[str, tuple[float, str]],
) -> dict[str, Any]:
    """Cluster fields from ``spec.flinkConfiguration`` (already a mapping).

    :param cluster: the cluster fields read so far; the keys owned by ``jobmanager``/
        ``taskmanager`` fields (slots, memory) are set in those mappings.
    :param job: the job's fields (application mode), which get the keys the job owns.
    :param limit_factors: factors the roles' ``resources`` limits imply.
    :return: ``flink_configuration`` and the cluster-level fields that own keys
        (``savepoint_dir``, ``checkpoint_dir``, ``high_availability``).
    """
    flat = _flatten(reader, document, "")
    out: dict[str, Any] = {}
    taskmanager, jobmanager = cluster["taskmanager"], cluster["jobmanager"]
    if SLOTS_KEY in flat:
        slots = _count(reader, flat.pop(SLOTS_KEY), _path(SLOTS_KEY))
        if slots is not None:
            taskmanager["slots"] = slots
    for field, keys in (
        ("savepoint_dir", SAVEPOINT_DIR_KEYS),
        ("checkpoint_dir", CHECKPOINT_DIR_KEYS),
    ):
        directory = _aliases(reader, flat, keys)
        if directory is not None:
            out[field], reader.origins[field] = directory
    _high_availability(reader, flat, out)
    if job is not None:
        _parallelism(reader, flat, job, taskmanager)
    for role, node in (("jobmanager", jobmanager), ("taskmanager", taskmanager)):
        _process_size(reader, flat, role, node)
    if CLUSTER_ID_KEY in flat and flat.pop(CLUSTER_ID_KEY) != cluster.get("name"):
        reader.problem(
            _path(CLUSTER_ID_KEY),
            "must be the deployment's name (metadata.name), which the operator uses as "
            "the cluster id anyway; remove it",
        )
    for key, (factor, origin) in limit_factors.items():
        if key not in flat:
            flat[key] = repr(factor)
        elif _float(flat[key]) != factor:
            reader.problem(
                _path(key),
                f"is {flat[key]!r}, but {origin} sets the factor to {factor!r}; give one of them",
            )
    out["flink_configuration"] = flat
    return out


def _flatten(reader: ManifestReader, document: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """Flink keys -> values, refusing what Flink could not read unambiguously."""
    flat: dict[str, str] = {}
    for key, item in document.items():
        full = f"{prefix}{key}"
        if isinstance(item, Mapping) and item:
            nested = _flatten(reader, item, f"{full}.")
            for repeated in sorted(nested.keys() & flat.keys()):
                reader.problem(_path(repeated), "is given twice (flat and nested)")
            flat.update(nested)
        elif isinstance(item, Mapping) or item is None:
            reader.problem(_path(full), "has no value")
        elif full in flat:
            reader.problem(_path(full), "is given twice (flat and nested)")
        else:
            flat[full] = configuration_value(item)
    return flat


def _count(reader: ManifestReader, text: str, path: str) -> int | None:
    stripped = text.strip()
    if stripped.isascii() and stripped.isdigit() and int(stripped) >= 1:
        return int(stripped)
    reader.problem(path, f"must be a whole number >= 1, not {text!r}")
    return None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _aliases(
    reader: ManifestReader, flat: dict[str, str], keys: tuple[str, ...]
) -> tuple[str, str] | None:
    """The value of a key Flink reads under several names, and where it came from."""
    present = {key: flat.pop(key) for key in keys if key in flat}
    if not present:
        return None
    first, *others = present
    if len(set(present.values())) > 1:
        names = " and ".join(repr(key) for key in others)
        reader.problem(_path(first), f"and {names} name the same setting but disagree; keep one")
        return None
    return present[first], _path(first)


def _high_availability(reader: ManifestReader, flat: dict[str, str], out: dict[str, Any]) -> None:
    """Kubernetes HA with a storage directory becomes ``high_availability``; other HA
    (ZooKeeper, or Kubernetes without storage) stays configuration."""
    types = {key: flat[key] for key in HA_TYPE_KEYS if key in flat}
    storage = flat.get(HA_STORAGE_KEY)
    kubernetes = types and all(v.strip().lower() in KUBERNETES_HA_TYPES for v in types.values())
    if not (kubernetes and storage):
        return
    for key in (*types, HA_STORAGE_KEY):
        flat.pop(key)
    out["high_availability"] = {"enabled": True, "storage_dir": storage}
    reader.origins["high_availability"] = _path(next(iter(types)))
    reader.origins["high_availability.storage_dir"] = _path(HA_STORAGE_KEY)


def _parallelism(
    reader: ManifestReader, flat: dict[str, str], job: dict[str, Any], taskmanager: dict[str, Any]
) -> None:
    """``pipeline.max-parallelism`` and ``parallelism.default`` of an application.

    The operator sets ``parallelism.default`` itself (from ``job.parallelism``, or
    TaskManager replicas x slots), so a value of its own is kept only where it agrees; a
    job without a parallelism takes it.
    """
    if MAX_PARALLELISM_KEY in flat:
        maximum = _count(reader, flat.pop(MAX_PARALLELISM_KEY), _path(MAX_PARALLELISM_KEY))
        if maximum is not None:
            job["max_parallelism"] = maximum
    if PARALLELISM_KEY not in flat:
        return
    path = _path(PARALLELISM_KEY)
    default = _count(reader, flat.pop(PARALLELISM_KEY), path)
    replicas = taskmanager.get("replicas")
    effective = job.get("parallelism") or (
        replicas * taskmanager.get("slots", 1) if replicas else None
    )
    if default is None:
        return
    if effective is None:
        job["parallelism"] = default
        reader.origins["job.parallelism"] = path
    elif default != effective:
        reader.problem(
            path,
            f"is {default}, but the operator runs the job with parallelism {effective} "
            "(spec.job.parallelism, or taskManager.replicas x slots); remove it",
        )


def _process_size(
    reader: ManifestReader, flat: dict[str, str], role: str, node: dict[str, Any]
) -> None:
    """A process size in the configuration sizes the role when its resource does not;
    otherwise it must agree with it (the operator uses the resource's)."""
    key = PROCESS_SIZE_KEYS[role]
    if key not in flat:
        return
    text, path = flat.pop(key), _path(key)
    size = read_memory(reader, text, path)
    if size is None:
        return
    if "memory" not in node:
        node["memory"] = text
        reader.origins[f"{role}.memory"] = path
    elif parse_memory(node["memory"]) != size:
        reader.problem(
            path,
            f"is {text!r}, but {reader.origins[f'{role}.memory']} sizes the process "
            f"({node['memory']!r}) and the operator uses that; remove it",
        )
