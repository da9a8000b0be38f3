"""Provider registration: what ``get_provider_info`` lists imports, and Airflow's
ProvidersManager finds the extra link, the trigger and the ``flink`` connection type."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_flink_k8s.get_provider_info import get_provider_info

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "airflow-provider-flink-k8s"
LINK = "airflow_provider_flink_k8s.operators.base.FlinkWebUILink"
TRIGGER_MODULE = "airflow_provider_flink_k8s.triggers.cluster"

PENDING: frozenset[str] = frozenset()
"""Listed modules not on main yet (another change is adding them); every other listed
module must import. Empty now: every listed module exists."""


def _modules(section: str) -> list[str]:
    return [module for entry in get_provider_info()[section] for module in entry["python-modules"]]


LISTED = [
    module
    for section in ("hooks", "operators", "sensors", "triggers")
    for module in _modules(section)
]


def test_every_section_is_listed_under_the_integration() -> None:
    info = get_provider_info()
    names = {integration["integration-name"] for integration in info["integrations"]}
    for section in ("hooks", "operators", "sensors", "triggers"):
        assert info[section], section
        assert {entry["integration-name"] for entry in info[section]} <= names, section
    assert set(_modules("operators")) == {
        f"airflow_provider_flink_k8s.operators.{name}"
        for name in ("deploy", "job", "rescale", "savepoint", "teardown")
    }
    assert _modules("sensors") == ["airflow_provider_flink_k8s.sensors.cluster"]
    assert _modules("triggers") == [TRIGGER_MODULE]
    assert info["extra-links"] == [LINK]
    # The kubernetes connection type is cncf.kubernetes' own; only "flink" is ours.
    assert [c["connection-type"] for c in info["connection-types"]] == ["flink"]


@pytest.mark.parametrize("module", sorted(set(LISTED) - PENDING))
def test_every_listed_module_imports(module: str) -> None:
    importlib.import_module(module)


def test_the_sensors_and_link_named_in_the_issue_are_where_the_info_says() -> None:
    sensors = importlib.import_module("airflow_provider_flink_k8s.sensors.cluster")
    assert {"FlinkClusterReadySensor", "FlinkJobSensor"} <= set(sensors.__all__)
    module, _, name = LINK.rpartition(".")
    assert hasattr(importlib.import_module(module), name)


_PROBE = """
import json
import sys
from airflow.providers_manager import ProvidersManager

manager = ProvidersManager()
manager.initialize_providers_extra_links()
manager.initialize_providers_triggers()
manager.initialize_providers_hooks()
hook = manager.hooks.get("flink")
print(json.dumps({
    "providers": sorted(manager.providers),
    "links": sorted(manager.extra_links_class_names),
    "triggers": sorted(
        (t.trigger_class_name, t.integration_name) for t in manager.trigger
        if t.package_name == sys.argv[1]
    ),
    "flink_hook": hook.hook_class_name if hook else None,
}))
"""


def test_providers_manager_finds_the_link_the_trigger_and_the_connection_type() -> None:
    # A fresh process: ProvidersManager is a singleton that caches what it found.
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, PACKAGE],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"},
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert PACKAGE in found["providers"]
    assert LINK in found["links"], found["links"]
    assert found["triggers"] == [[TRIGGER_MODULE, "Apache Flink on Kubernetes"]]
    assert found["flink_hook"] == "airflow_provider_flink_k8s.hooks.flink_rest.FlinkRestHook"
    # A class that failed to import would be logged and left out, never raised.
    assert "ImportError" not in result.stderr and "Traceback" not in result.stderr
