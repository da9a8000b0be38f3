"""Where FlinkJobSensor keeps a job wait's memory (which JobManager listed the job)
between pokes: the sensor object in poke mode, the task instance's ``task_state_store``
in reschedule mode (Airflow 3.3+), per try. The store here is a dict with the accessor's
``get``/``set``; the DAG-level proof with real Flink is in test_sensors_lost_flink.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_provider_flink_k8s.observation import JobSighting
from airflow_provider_flink_k8s.sensors import FlinkJobSensor

SPEC = {"name": "remembered", "mode": "session"}
SEEN = JobSighting(job_id="a" * 32, pod="remembered-jobmanager-1", pod_uid="u-1", restart_count=0)


@dataclass
class _Store:
    """The part of Airflow's ``TaskStateStoreAccessor`` the sensor uses."""

    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


@dataclass
class _TI:
    try_number: int


def _sensor(mode: str) -> FlinkJobSensor:
    return FlinkJobSensor(task_id="job", cluster=SPEC, target_states=("FINISHED",), mode=mode)


def _context(store: _Store | None, try_number: int = 1) -> Any:
    context: dict[str, Any] = {"ti": _TI(try_number)}
    if store is not None:
        context["task_state_store"] = store
    return context


def test_in_poke_mode_the_sensor_object_remembers_and_stores_nothing() -> None:
    sensor, store = _sensor("poke"), _Store()
    assert sensor._recall(_context(store)).job_seen is None
    sensor._memorise(_context(store), SEEN)
    assert sensor._recall(_context(store)).job_seen == SEEN
    assert store.values == {}


def test_in_reschedule_mode_the_next_run_of_the_same_try_finds_the_memory() -> None:
    store = _Store()
    _sensor("reschedule")._memorise(_context(store), SEEN)
    assert _sensor("reschedule")._recall(_context(store)).job_seen == SEEN
    # a retried or cleared task is a new try: its cluster and job may be new
    assert _sensor("reschedule")._recall(_context(store, try_number=2)).job_seen is None


@pytest.mark.parametrize(
    "stored",
    [None, "not a mapping", {"try": 1, "job_id": "a" * 32}],
    ids=["nothing", "not-a-mapping", "another-shape"],
)
def test_a_memory_that_is_not_one_is_no_memory(stored: Any) -> None:
    store = _Store({"flink_job_seen": stored} if stored is not None else {})
    assert _sensor("reschedule")._recall(_context(store)).job_seen is None


def test_before_airflow_3_3_a_rescheduled_sensor_has_no_store_to_remember_in() -> None:
    _sensor("reschedule")._memorise(_context(None), SEEN)
    assert _sensor("reschedule")._recall(_context(None)).job_seen is None


def test_a_cluster_wait_has_no_memory() -> None:
    from airflow_provider_flink_k8s.sensors import FlinkClusterReadySensor

    sensor = FlinkClusterReadySensor(task_id="ready", cluster=SPEC, mode="reschedule")
    assert sensor._recall(_context(_Store())).kind == "cluster"
