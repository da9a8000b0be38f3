"""The observation package is pure and has an explicit, sorted public surface."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_provider_flink_k8s.observation as observation

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(
    f"{observation.__name__}.{info.name}"
    for info in pkgutil.iter_modules(observation.__path__)
    if not info.name.startswith("_")
)


@pytest.mark.parametrize("module", [observation.__name__, *MODULES])
def test_imports_no_airflow_no_kubernetes_client_no_io(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('airflow', 'kubernetes', 'kubernetes_asyncio', 'httpx', 'asyncio', 'requests',"
        " 'aiohttp'))\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("module", [observation.__name__, *MODULES])
def test_all_is_sorted_and_complete(module: str) -> None:
    loaded = importlib.import_module(module)
    exported = list(loaded.__all__)
    assert exported == sorted(exported)
    for name in exported:
        assert hasattr(loaded, name), name


def test_the_package_exports_every_classifier() -> None:
    assert {
        "classify_cluster",
        "classify_cluster_job",
        "classify_flink_deployment",
        "classify_job",
        "classify_operator_deployment",
        "classify_tasks_running",
        "classify_savepoint",
        "classify_operator_savepoint",
        "classify_suspend",
        "classify_deletion",
        "deployment_rolled_out",
        "ClusterSnapshot",
        "Lifecycle",
        "Outcome",
        "Verdict",
    } <= set(observation.__all__)
