"""Airflow operators: deploy, submit, rescale, savepoint and tear down Flink clusters.

See docs/airflow.md for the tasks, what they return and how they wait.
"""

from __future__ import annotations

from airflow_provider_flink_k8s.operators.base import FlinkWebUILink
from airflow_provider_flink_k8s.operators.deploy import FlinkDeployOperator
from airflow_provider_flink_k8s.operators.job import FlinkSubmitJobOperator
from airflow_provider_flink_k8s.operators.rescale import FlinkRescaleOperator
from airflow_provider_flink_k8s.operators.savepoint import FlinkSavepointOperator
from airflow_provider_flink_k8s.operators.teardown import FlinkTeardownOperator

__all__ = [
    "FlinkDeployOperator",
    "FlinkRescaleOperator",
    "FlinkSavepointOperator",
    "FlinkSubmitJobOperator",
    "FlinkTeardownOperator",
    "FlinkWebUILink",
]
