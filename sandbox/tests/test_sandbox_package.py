"""The sandbox distribution's contracts: pure modules, public surfaces, its package data."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml

from flink_k8s_sandbox.flinkoperator.crds import (
    CRD_FILES,
    PACKAGED_CRD_DIR,
    load_operator_crds,
)

PROJECT = Path(__file__).resolve().parents[1]
"""``sandbox/``: the distribution's own folder (its pyproject.toml, NOTICE, package)."""

PURE_MODULES = [
    "flink_k8s_sandbox.errors",
    "flink_k8s_sandbox.resources",
    "flink_k8s_sandbox.selectors",
    "flink_k8s_sandbox.patching",
    "flink_k8s_sandbox.fieldmanager",
    "flink_k8s_sandbox.auth.rbac",
    "flink_k8s_sandbox.auth.reviews",
    "flink_k8s_sandbox.auth.users",
    "flink_k8s_sandbox.workloads.status",
    "flink_k8s_sandbox.workloads.rollout",
    "flink_k8s_sandbox.podstatus",
    "flink_k8s_sandbox.podgrace",
    "flink_k8s_sandbox.podfaults",
    "flink_k8s_sandbox.protobuf",
]

PACKAGES = [
    "flink_k8s_sandbox",
    "flink_k8s_sandbox.flink",
    "flink_k8s_sandbox.flinkstandin",
    "flink_k8s_sandbox.protobuf",
    "flink_k8s_sandbox.runtime",
    "flink_k8s_sandbox.workloads",
]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_asyncio_server_or_client(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('airflow', 'kubernetes', 'kubernetes_asyncio', 'asyncio', 'aiohttp'))\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_sorted_and_complete(package: str) -> None:
    module = importlib.import_module(package)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    for name in exported:
        assert hasattr(module, name), name


def test_the_operator_crds_ship_as_package_data_with_their_notice() -> None:
    assert PACKAGED_CRD_DIR.is_relative_to(PROJECT / "flink_k8s_sandbox")
    names = sorted(crd["spec"]["names"]["plural"] for crd in load_operator_crds())
    assert names == sorted(CRD_FILES)
    notice = (PACKAGED_CRD_DIR / "NOTICE").read_text()
    assert "6e9caeb4" in notice and "Apache License, Version 2.0" in notice
    assert "helm/flink-kubernetes-operator/crds/" in notice
    for filename in CRD_FILES.values():
        assert filename in notice
        crd = yaml.safe_load((PACKAGED_CRD_DIR / filename).read_text())
        assert crd["kind"] == "CustomResourceDefinition"
    assert "operator_crds" in (PROJECT / "NOTICE").read_text()


def test_package_data_globs_take_every_data_file() -> None:
    """setuptools ships only what ``package-data`` names: the CRDs (``.yml``), their
    NOTICE, the SQL runner's Java sources and SQL, the default logging configuration."""
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    globs = project["tool"]["setuptools"]["package-data"]["flink_k8s_sandbox"]
    package = PROJECT / "flink_k8s_sandbox"
    data = [
        path.relative_to(package)
        for path in package.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"}
    ]
    assert len(data) > 4
    for name in data:
        assert any(name.match(glob) or Path(name.name).match(glob) for glob in globs), name
