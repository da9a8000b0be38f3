"""Airflow operators: deploy, submit, rescale, savepoint and tear down Flink clusters."""

from __future__ import annotations

from airflow_provider_flink_k8s.operators.base import FlinkWebUILink
from airflow_provider_flink_k8s.operators.deploy import FlinkDeployOperator

__all__ = ["FlinkDeployOperator", "FlinkWebUILink"]
