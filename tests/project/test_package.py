"""Package-level contracts: pure core modules, public surfaces, provider registration."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_provider_flink_k8s
from airflow_provider_flink_k8s.get_provider_info import get_provider_info

REPO = Path(__file__).resolve().parents[2]

PURE_MODULES = [
    "airflow_provider_flink_k8s.units",
    "airflow_provider_flink_k8s.exceptions",
    "airflow_provider_flink_k8s.spec",
    "airflow_provider_flink_k8s.resources",
    "airflow_provider_flink_k8s.manifests",
    "airflow_provider_flink_k8s.observation",
    "airflow_provider_flink_k8s.flinkrest",
    "airflow_provider_flink_k8s.kube",
    "airflow_provider_flink_k8s.targets",
]

PACKAGES = [
    "airflow_provider_flink_k8s",
    "airflow_provider_flink_k8s.spec",
    "airflow_provider_flink_k8s.resources",
    "airflow_provider_flink_k8s.resources.sizing",
    "airflow_provider_flink_k8s.manifests",
    "airflow_provider_flink_k8s.observation",
    "airflow_provider_flink_k8s.hooks",
    "airflow_provider_flink_k8s.operators",
    "airflow_provider_flink_k8s.sensors",
    "airflow_provider_flink_k8s.triggers",
]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_core_module_imports_no_airflow_and_no_kubernetes_client(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('airflow', 'kubernetes', 'kubernetes_asyncio', 'httpx', 'asyncio', 'requests'))\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_sorted_and_complete(package: str) -> None:
    module = importlib.import_module(package)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    for name in exported:
        assert hasattr(module, name), name


def test_provider_info_names_the_distribution() -> None:
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-flink-k8s"
    assert info["versions"] == [airflow_provider_flink_k8s.__version__]


def test_airflow_lists_the_provider(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), "providers", "list", "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"airflow-provider-flink-k8s"' in result.stdout
