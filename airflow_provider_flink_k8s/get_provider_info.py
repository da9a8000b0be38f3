"""Airflow's provider registration: what ``airflow providers list`` shows.

Airflow discovers this through the ``apache_airflow_provider`` entry point. Keep it
import-light: it runs in every Airflow process that lists providers.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flink_k8s import __version__

__all__ = ["get_provider_info"]

_INTEGRATION = "Apache Flink on Kubernetes"

_FLINK_CONNECTION: dict[str, Any] = {
    "connection-type": "flink",
    "hook-class-name": "airflow_provider_flink_k8s.hooks.flink_rest.FlinkRestHook",
    "hook-name": "Apache Flink (REST)",
    "conn-fields": {
        "verify_ssl": {
            "label": "Verify TLS certificate",
            "description": "Check the server's certificate on https (default: yes).",
            "schema": {"type": ["boolean", "null"], "default": True},
        },
        "ca_bundle": {
            "label": "CA bundle path",
            "description": "A PEM file of CA certificates to verify the server against.",
            "schema": {"type": ["string", "null"]},
        },
        "rest_path_prefix": {
            "label": "REST path prefix",
            "description": "The path an ingress serves Flink's REST API under.",
            "schema": {"type": ["string", "null"]},
        },
        "headers": {
            "label": "Extra headers (JSON object)",
            "description": 'Sent with every call, e.g. {"Authorization": "Bearer ..."}.',
            "schema": {"type": ["string", "null"], "format": "password"},
        },
        "timeout": {
            "label": "Timeout (seconds)",
            "description": "Wait this long for a connection and for each answer (default 60).",
            "schema": {"type": ["number", "null"], "minimum": 0},
        },
    },
    "ui-field-behaviour": {
        "hidden-fields": [],
        "relabeling": {
            "host": "Host or URL",
            "schema": "Scheme (http or https)",
            "login": "Username (basic auth)",
            "password": "Password (basic auth)",
        },
        "placeholders": {
            "host": "flink.example.com or https://flink.example.com/orders",
            "port": "8081",
            "schema": "http",
            "rest_path_prefix": "/flink/orders",
            "timeout": "60",
        },
    },
}


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
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://nightlies.apache.org/flink/flink-docs-stable/",
                "tags": ["apache", "kubernetes"],
            }
        ],
        "hooks": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    "airflow_provider_flink_k8s.hooks.flink_rest",
                    "airflow_provider_flink_k8s.hooks.flink_rest_async",
                    "airflow_provider_flink_k8s.hooks.kubernetes",
                    "airflow_provider_flink_k8s.hooks.kubernetes_async",
                ],
            }
        ],
        "operators": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    "airflow_provider_flink_k8s.operators.deploy",
                    "airflow_provider_flink_k8s.operators.job",
                    "airflow_provider_flink_k8s.operators.rescale",
                    "airflow_provider_flink_k8s.operators.savepoint",
                    "airflow_provider_flink_k8s.operators.teardown",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": ["airflow_provider_flink_k8s.sensors.cluster"],
            }
        ],
        "triggers": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": ["airflow_provider_flink_k8s.triggers.cluster"],
            }
        ],
        "extra-links": ["airflow_provider_flink_k8s.operators.base.FlinkWebUILink"],
        # Only the provider's own connection type: "kubernetes" belongs to cncf.kubernetes.
        "connection-types": [_FLINK_CONNECTION],
    }
