"""The kube package imports no Airflow, no Kubernetes client and no asyncio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = (
    "airflow",
    "kubernetes",
    "kubernetes_asyncio",
    "urllib3",
    "aiohttp",
    "tenacity",
    "asyncio",
)
MODULES = [
    "airflow_provider_flink_k8s.kube",
    "airflow_provider_flink_k8s.kube.apply",
    "airflow_provider_flink_k8s.kube.errors",
    "airflow_provider_flink_k8s.kube.observe",
    "airflow_provider_flink_k8s.kube.requests",
    "airflow_provider_flink_k8s.kube.resources",
    "airflow_provider_flink_k8s.kube.retry",
    "airflow_provider_flink_k8s.kube.teardown",
    "airflow_provider_flink_k8s.kube.watching",
]


@pytest.mark.parametrize("module", MODULES)
def test_pure(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{FORBIDDEN!r})\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("module", MODULES)
def test_all_is_sorted_and_complete(module: str) -> None:
    imported = __import__(module, fromlist=["__all__"])
    exported = list(imported.__all__)
    assert exported == sorted(exported)
    assert all(hasattr(imported, name) for name in exported)
