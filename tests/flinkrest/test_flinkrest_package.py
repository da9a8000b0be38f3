"""The pure half of the REST client imports no transport, Airflow or Kubernetes client,
and every module's public surface is sorted and complete."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_provider_flink_k8s.flinkrest as flinkrest

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(
    f"{flinkrest.__name__}.{info.name}"
    for info in pkgutil.iter_modules(flinkrest.__path__)
    if not info.name.startswith("_")
)
HOOK_MODULES = [
    "airflow_provider_flink_k8s.hooks.flink_rest",
    "airflow_provider_flink_k8s.hooks.flink_rest_async",
]


@pytest.mark.parametrize("module", [flinkrest.__name__, *MODULES])
def test_imports_no_transport_no_airflow_no_kubernetes_client(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('airflow', 'kubernetes', 'kubernetes_asyncio', 'httpx', 'asyncio', 'requests',"
        " 'aiohttp', 'tenacity'))\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("module", [flinkrest.__name__, *MODULES, *HOOK_MODULES])
def test_all_is_sorted_and_complete(module: str) -> None:
    loaded = importlib.import_module(module)
    exported = list(loaded.__all__)
    assert exported == sorted(exported)
    assert all(hasattr(loaded, name) for name in exported)


def test_the_package_reexports_every_model() -> None:
    models = importlib.import_module(f"{flinkrest.__name__}.models")
    assert set(models.__all__) <= set(flinkrest.__all__)


def test_hook_modules_do_not_import_the_kubernetes_clients_until_needed() -> None:
    code = (
        "import sys, airflow_provider_flink_k8s.hooks.flink_rest\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('kubernetes', 'kubernetes_asyncio'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == ""
