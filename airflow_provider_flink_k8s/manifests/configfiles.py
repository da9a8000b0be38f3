"""The files a standalone cluster mounts at ``/opt/flink/conf``, and their checksum.

Flink 1.19 introduced the standard-YAML ``config.yaml`` and Flink 2 reads nothing else,
so every supported version gets ``config.yaml``. The ConfigMap mount hides the image's
own ``conf/`` directory, so the logging configuration the processes need
(``log4j-console.properties``, chosen by the image's start scripts) ships alongside.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_flink_k8s.spec.cluster import FlinkCluster

__all__ = [
    "CONFIG_FILE",
    "LOG4J_CONSOLE_FILE",
    "config_checksum",
    "config_files",
    "config_yaml",
    "default_log_configuration",
    "log_configuration_files",
]

CONFIG_FILE = "config.yaml"
"""Flink's configuration file name (FLIP-366 standard YAML; Flink >= 1.19)."""

LOG4J_CONSOLE_FILE = "log4j-console.properties"
"""The logging file ``jobmanager.sh``/``taskmanager.sh`` use in the foreground (containers)."""

_PACKAGE = "airflow_provider_flink_k8s.manifests"

# Wide enough that PyYAML never folds a long value (JVM options, classpaths) over lines.
_NO_WRAP = 1 << 20


def config_yaml(configuration: Mapping[str, str]) -> str:
    """Render a flat Flink configuration as ``config.yaml`` text, keys sorted.

    Values stay strings (PyYAML quotes those that would read as numbers or booleans);
    Flink converts a string to an option's type, so quoting never changes the meaning.
    """
    return yaml.safe_dump(
        dict(sorted(configuration.items())),
        default_flow_style=False,
        sort_keys=True,
        allow_unicode=True,
        width=_NO_WRAP,
    )


@cache
def _packaged_log4j_console() -> str:
    return (files(_PACKAGE) / LOG4J_CONSOLE_FILE).read_text(encoding="utf-8")


def default_log_configuration() -> dict[str, str]:
    """Flink's default console logging: INFO to stdout and to the web UI's log file."""
    return {LOG4J_CONSOLE_FILE: _packaged_log4j_console()}


def log_configuration_files(cluster: FlinkCluster) -> dict[str, str]:
    """The logging files of a standalone cluster: Flink's defaults, then the spec's
    ``log_configuration`` (a file of the same name replaces the default, others are
    added, e.g. ``logback-console.xml``)."""
    return {**default_log_configuration(), **(cluster.log_configuration or {})}


def config_files(cluster: FlinkCluster, configuration: Mapping[str, str]) -> dict[str, str]:
    """Every file of the cluster's ConfigMap, by name, sorted.

    :param cluster: the spec (for its logging files).
    :param configuration: the full Flink configuration (``ClusterPlan.flink_configuration``).
    :return: ``config.yaml`` and the logging files; ``config.yaml`` is always the
        provider's, even if ``log_configuration`` names a file so.
    """
    rendered = {**log_configuration_files(cluster), CONFIG_FILE: config_yaml(configuration)}
    return dict(sorted(rendered.items()))


def config_checksum(config_files: Mapping[str, str]) -> str:
    """A SHA-256 hex digest of the configuration files, independent of their order.

    Stamped on the pod templates, it changes exactly when a file's name or content does.
    """
    canonical = json.dumps(sorted(config_files.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
