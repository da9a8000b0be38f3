"""Keys of a FlinkDeployment's ``flinkConfiguration`` that a spec field owns.

Flink reads several of them under more than one name (the new name first below), and a
FlinkDeployment may write them flat or nested, quoted or not. Reading moves each into
its field; rendering for the operator writes it back under the name the source used
(:mod:`airflow_provider_flink_k8s.manifests.spelling`), keeping the source's literal
while :func:`equivalent_configuration_value` says it still holds.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flink_k8s.resources.configuration import (
    CHECKPOINT_DIR_KEYS,
    CLUSTER_ID_KEY,
    HA_STORAGE_KEY,
    HA_TYPE_KEYS,
    MAX_PARALLELISM_KEY,
    PARALLELISM_KEY,
    PROCESS_SIZE_KEYS,
    SAVEPOINT_DIR_KEYS,
    SLOTS_KEY,
)
from airflow_provider_flink_k8s.spec.fields import configuration_value
from airflow_provider_flink_k8s.units import QuantityError, parse_memory

__all__ = [
    "CHECKPOINT_DIR_KEYS",
    "CLUSTER_ID_KEY",
    "HA_STORAGE_KEY",
    "HA_TYPE_KEYS",
    "KUBERNETES_HA_TYPES",
    "MAX_PARALLELISM_KEY",
    "PARALLELISM_KEY",
    "PROCESS_SIZE_KEYS",
    "SAVEPOINT_DIR_KEYS",
    "SLOTS_KEY",
    "equivalent_configuration_value",
    "limit_factor_key",
]

KUBERNETES_HA_TYPES = (
    "kubernetes",
    "org.apache.flink.kubernetes.highavailability.kuberneteshaservicesfactory",
)
"""Values (lower-cased) of the HA type keys that select Flink's Kubernetes HA services."""


def limit_factor_key(role: str, resource: str) -> str:
    """Flink's limit-factor key of a role's cpu or memory (limit = request x factor)."""
    return f"kubernetes.{role}.{resource}.limit-factor"


def equivalent_configuration_value(key: str, written: Any, value: str) -> bool:
    """Whether a ``flinkConfiguration`` value as written means the same as ``value``.

    Same text once read as Flink reads YAML (``2`` and ``"2"``), the same size for a
    process size, either spelling of Kubernetes HA for the HA type.
    """
    try:
        text = configuration_value(written)
    except ValueError:
        return False
    if text == value:
        return True
    if key in HA_TYPE_KEYS:
        return {text.strip().lower(), value.strip().lower()} <= set(KUBERNETES_HA_TYPES)
    if key in PROCESS_SIZE_KEYS.values():
        try:
            return parse_memory(text) == parse_memory(value)
        except QuantityError:
            return False
    return False
