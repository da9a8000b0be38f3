"""The declared Airflow floor is the tested floor.

``pyproject.toml`` gives lower bounds for Airflow and the packages the provider builds on;
``constraints-floor.txt`` pins exactly those versions; ``.ci/airflow_floor.sh`` (``make
test-floor``, run by ``.ci/run`` after ``make test``) installs from it and runs the DAG-level
tests there. These tests keep the three from drifting apart.
"""

from __future__ import annotations

import os
import re
from importlib.metadata import version
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / ".ci" / "airflow_floor.sh"
FLOOR_PACKAGES = frozenset(
    {
        "apache-airflow",
        "apache-airflow-providers-cncf-kubernetes",
        "apache-airflow-providers-common-compat",
        "kubernetes",
        "kubernetes-asyncio",
    }
)
CNCF = "apache-airflow-providers-cncf-kubernetes"
COMPAT = "apache-airflow-providers-common-compat"


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared_floors() -> dict[str, str]:
    """``{package: lower bound}`` of pyproject's dependencies written ``name>=version``."""
    with (REPO / "pyproject.toml").open("rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]
    floors = {}
    for requirement in dependencies:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)", requirement.strip())
        if match:
            floors[_name(match[1])] = match[2]
    return floors


def _floor_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints-floor.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, pinned = line.split("==")
            pins[_name(name)] = pinned.strip()
    return pins


def test_pyproject_declares_a_floor_for_each_airflow_side_package() -> None:
    assert set(_declared_floors()) >= FLOOR_PACKAGES
    assert _declared_floors()["apache-airflow"].startswith("3.")


def test_constraints_floor_pins_exactly_the_declared_floors() -> None:
    floors, pins = _declared_floors(), _floor_pins()
    assert {name: pins.get(name) for name in FLOOR_PACKAGES} == {
        name: floors[name] for name in FLOOR_PACKAGES
    }


def test_the_floor_script_installs_from_constraints_floor_and_ci_runs_it() -> None:
    script = SCRIPT.read_text()
    assert '-c constraints-floor.txt -e ./sandbox -e ".[dev]"' in script
    listed = re.search(r'FLOOR_PACKAGES="([^"]*)"', script)
    assert listed is not None
    assert {_name(name) for name in listed[1].replace("\\\n", " ").split()} == FLOOR_PACKAGES
    assert '-m "airflow and not flink and not kill"' in script
    steps = [
        line.strip()
        for line in (REPO / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert steps.index("make test") < steps.index("bash .ci/airflow_floor.sh")


def test_the_readme_states_the_declared_floors() -> None:
    readme = " ".join((REPO / "README.md").read_text().split())
    floors = _declared_floors()
    assert f"Airflow {floors['apache-airflow']} or later" in readme
    assert f"`apache-airflow-providers-cncf-kubernetes` {floors[CNCF]} or later" in readme
    assert f"`common.compat` {floors[COMPAT]} or later" in readme
    assert "`make test-floor`" in readme


@pytest.mark.skipif(
    os.environ.get("FLINK_K8S_AIRFLOW_FLOOR") != "1",
    reason="checks the floor venv: runs under .ci/airflow_floor.sh (make test-floor)",
)
def test_the_installed_versions_are_the_declared_floor() -> None:
    floors = _declared_floors()
    assert {name: version(name) for name in FLOOR_PACKAGES} == {
        name: floors[name] for name in FLOOR_PACKAGES
    }
