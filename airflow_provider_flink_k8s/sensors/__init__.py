"""Sensors: wait until a Flink cluster is ready, or until one of its jobs reaches a state."""

from __future__ import annotations

from airflow_provider_flink_k8s.sensors.cluster import FlinkClusterReadySensor, FlinkJobSensor

__all__ = ["FlinkClusterReadySensor", "FlinkJobSensor"]
