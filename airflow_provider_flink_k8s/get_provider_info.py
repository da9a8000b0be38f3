"""Airflow's provider registration: what ``airflow providers list`` shows.

Airflow discovers this through the ``apache_airflow_provider`` entry point. Keep it
import-light: it runs in every Airflow process that lists providers.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flink_k8s import __version__

__all__ = ["get_provider_info"]


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata in the shape Airflow's ProvidersManager expects."""
    return {
        "package-name": "airflow-provider-flink-k8s",
        "name": "Apache Flink on Kubernetes",
        "description": (
            "Deploy, size, scale, savepoint and tear down Apache Flink clusters on Kubernetes "
            "(native Deployments or the Flink Kubernetes Operator) from Airflow tasks."
        ),
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Apache Flink on Kubernetes",
                "external-doc-url": "https://nightlies.apache.org/flink/flink-docs-stable/",
                "tags": ["apache", "kubernetes"],
            }
        ],
    }
