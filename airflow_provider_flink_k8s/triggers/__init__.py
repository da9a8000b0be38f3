"""Async triggers: deferred tasks wait here, in the triggerer, by watching the cluster."""

from __future__ import annotations

from airflow_provider_flink_k8s.triggers.cluster import FlinkClusterTrigger

__all__ = ["FlinkClusterTrigger"]
