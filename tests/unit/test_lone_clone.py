"""A lone clone stands alone: no code, test, script or doc command reads a path outside
the repository (the project's notes and reference data live beside the checkout on the
developers' machines only, never beside a user's clone or an installed wheel)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from airflow_provider_flink_k8s.sandbox.flinkoperator.crds import (
    CRD_FILES,
    PACKAGED_CRD_DIR,
    load_operator_crds,
)

REPO = Path(__file__).resolve().parents[2]
_SUFFIXES = {".py", ".sh", ".toml", ".cfg", ".ini", ".md", ".yaml", ".yml", ".java"}
_SIBLING = "sha" + "red"  # spelt in two parts so this file does not match itself
_OUTSIDE = [
    re.compile(rf"\.\./{_SIBLING}\b"),
    re.compile(rf"\.parent\s*/\s*[\"']{_SIBLING}[\"']"),
    re.compile(rf"[\"']{_SIBLING}[\"']\s*/\s*[\"']reference[\"']"),
]


def _project_files() -> list[Path]:
    skip = {".git", ".venv", ".cache", "node_modules", "build", "dist", "out"}
    files = [
        path
        for path in REPO.rglob("*")
        if path.is_file()
        and not skip.intersection(path.relative_to(REPO).parts)
        and (path.suffix in _SUFFIXES or path.name in {"Makefile", "run"})
    ]
    assert len(files) > 100, "the scan found too few files: is REPO right?"
    return files


def test_no_file_reads_a_path_beside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in _project_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if any(pattern.search(line) for pattern in _OUTSIDE)
    ]
    assert offenders == []


def test_the_operator_crds_ship_as_package_data_with_their_notice() -> None:
    assert PACKAGED_CRD_DIR.is_relative_to(REPO / "airflow_provider_flink_k8s")
    names = sorted(crd["spec"]["names"]["plural"] for crd in load_operator_crds())
    assert names == sorted(CRD_FILES)
    notice = (PACKAGED_CRD_DIR / "NOTICE").read_text()
    assert "6e9caeb4" in notice and "Apache License, Version 2.0" in notice
    assert "helm/flink-kubernetes-operator/crds/" in notice
    for filename in CRD_FILES.values():
        assert filename in notice
        crd = yaml.safe_load((PACKAGED_CRD_DIR / filename).read_text())
        assert crd["kind"] == "CustomResourceDefinition"
    assert "operator_crds" in (REPO / "NOTICE").read_text()


def test_package_data_globs_take_the_crds_and_their_notice() -> None:
    """setuptools ships only what ``package-data`` names: the CRDs are ``.yml``."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = project["tool"]["setuptools"]["package-data"]["airflow_provider_flink_k8s"]
    shipped = PACKAGED_CRD_DIR.relative_to(REPO / "airflow_provider_flink_k8s")
    for name in [*CRD_FILES.values(), "NOTICE"]:
        assert any((shipped / name).match(glob) or Path(name).match(glob) for glob in globs), name
