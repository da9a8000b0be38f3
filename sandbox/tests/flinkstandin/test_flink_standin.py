"""The Flink REST stand-in's state, without HTTP: jobs, slots, savepoints and the memory
it reports, on an injected clock and a fixed set of TaskManagers.

Numbers marked "real Flink" were read from Flink 2.3 (``GET /taskmanagers`` of a
TaskManager with ``taskmanager.memory.process.size: 1280m``);
``tests/flinkrest/test_standin_shapes.py`` compares the answers' shapes with a live Flink.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flink_k8s_sandbox.flinkstandin.cluster import StandInCluster
from flink_k8s_sandbox.flinkstandin.errors import FlinkRestFailure
from flink_k8s_sandbox.flinkstandin.jars import manifest_entry_classes
from flink_k8s_sandbox.flinkstandin.jobs import default_max_parallelism
from flink_k8s_sandbox.flinkstandin.memory import taskmanager_memory
from flink_k8s_sandbox.flinkstandin.views import (
    RegisteredTaskManager,
    cluster_overview,
    taskmanagers_json,
)

STEP = 0.2


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def tick(self, steps: int = 1) -> None:
        self.now += STEP * steps


def _taskmanager(index: int, slots: int = 2) -> RegisteredTaskManager:
    return RegisteredTaskManager(
        id=f"10.244.0.{index}:6122-abcdef",
        address=f"10.244.0.{index}",
        rpc_port=6122,
        data_port=40000,
        slots=slots,
        cpu_cores=1.0,
        memory=taskmanager_memory({"taskmanager.memory.process.size": "1280m"}),
        registered_ms=index,
    )


class Cluster:
    """A stand-in cluster whose TaskManagers the test sets."""

    def __init__(self, tmp_path: Path, **configuration: str) -> None:
        self.clock = Clock()
        self.taskmanagers: list[RegisteredTaskManager] = []
        self.jar = tmp_path / "job.jar"
        self.state = StandInCluster(
            {"state.savepoints.dir": (tmp_path / "sp").as_uri(), **configuration},
            lambda: self.taskmanagers,
            flink_version="2.3",
            step=STEP,
            clock=self.clock,
        )
        self.jar_id = self.state.jars.add("job.jar", b"not a zip").rpartition("/")[2]

    def run(self, parallelism: int, job_id: str = "ab" * 16) -> str:
        body = {"entryClass": "demo.Job", "parallelism": parallelism, "jobId": job_id}
        return self.state.run_jar(self.jar_id, body)["jobid"]

    def steps(self, count: int) -> None:
        for _ in range(count):
            self.clock.tick()
            self.state.advance()

    def vertices(self, job_id: str) -> list[tuple[str, int]]:
        return [(v.status, v.parallelism) for v in self.state.job(job_id).vertices]


def test_taskmanager_memory_is_what_real_flink_reports() -> None:
    memory = taskmanager_memory({"taskmanager.memory.process.size": "1280m"})
    assert (memory.framework_heap, memory.task_heap, memory.framework_off_heap) == (
        134217728, 167772154, 134217728,
    )  # fmt: skip
    assert (memory.network, memory.managed, memory.jvm_metaspace, memory.jvm_overhead) == (
        87241524, 348966098, 268435456, 201326592,
    )  # fmt: skip
    assert (memory.total_flink, memory.total_process) == (872415232, 1342177280)
    entry = taskmanagers_json([_taskmanager(1)], used_slots=1)["taskmanagers"][0]
    assert entry["totalResource"] | {"extendedResources": {}} == {
        "cpuCores": 1.0,
        "taskHeapMemory": 159,
        "taskOffHeapMemory": 0,
        "managedMemory": 332,
        "networkMemory": 83,
        "extendedResources": {},
    }
    assert (entry["slotsNumber"], entry["freeSlots"]) == (2, 1)
    assert entry["freeResource"]["managedMemory"] == 166


def test_default_max_parallelism_follows_flinks_rule() -> None:
    assert [default_max_parallelism(p) for p in (1, 2, 86, 128, 30000)] == [
        128, 128, 256, 256, 32768,
    ]  # fmt: skip


def test_a_jar_lists_the_entry_class_its_manifest_names(tmp_path: Path) -> None:
    import zipfile

    jar = tmp_path / "j.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nMain-Class: a.B\r\n")
    assert manifest_entry_classes(jar.read_bytes()) == ("a.B",)
    assert manifest_entry_classes(b"not a zip") == ()


def test_a_job_waits_for_slots_then_runs_and_the_overview_counts_them(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    job = cluster.run(parallelism=3)
    cluster.steps(5)  # default scheduler: RUNNING, the tasks wait for 3 slots
    assert cluster.state.job(job).state == "RUNNING"
    assert cluster.vertices(job) == [("SCHEDULED", 3), ("SCHEDULED", 3)]
    assert cluster.state.used_slots() == 0
    cluster.taskmanagers = [_taskmanager(1), _taskmanager(2)]
    cluster.steps(1)
    assert cluster.vertices(job) == [("DEPLOYING", 3), ("DEPLOYING", 3)]
    cluster.steps(1)
    assert cluster.state.job(job).all_running
    overview = cluster_overview(
        cluster.state.registered(), cluster.state.used_slots(), ["RUNNING"], "2.3"
    )
    assert (overview["slots-total"], overview["slots-available"], overview["jobs-running"]) == (
        4,
        1,
        1,
    )


def test_losing_a_taskmanager_restarts_the_job_until_slots_are_back(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    cluster.taskmanagers = [_taskmanager(1), _taskmanager(2)]
    job = cluster.run(parallelism=4)
    cluster.steps(4)
    assert cluster.state.job(job).all_running
    cluster.taskmanagers = [_taskmanager(1)]
    cluster.steps(1)
    assert cluster.state.job(job).state == "RESTARTING"
    cluster.steps(3)
    assert cluster.vertices(job) == [("SCHEDULED", 4), ("SCHEDULED", 4)]
    cluster.taskmanagers = [_taskmanager(1), _taskmanager(3)]
    cluster.steps(2)
    assert cluster.vertices(job) == [("RUNNING", 4), ("RUNNING", 4)]


def test_the_adaptive_scheduler_rescales_to_new_requirements_once_slots_allow(
    tmp_path: Path,
) -> None:
    cluster = Cluster(tmp_path, **{"jobmanager.scheduler": "adaptive"})
    cluster.taskmanagers = [_taskmanager(1)]
    job = cluster.run(parallelism=2)
    cluster.steps(3)
    assert cluster.vertices(job) == [("RUNNING", 2), ("RUNNING", 2)]
    requirements = cluster.state.requirements(job)
    assert {r["parallelism"]["upperBound"] for r in requirements.values()} == {2}
    wider = {v: {"parallelism": {"lowerBound": 1, "upperBound": 4}} for v in requirements}
    cluster.state.set_requirements(job, wider)
    cluster.steps(3)
    assert cluster.vertices(job) == [("RUNNING", 2), ("RUNNING", 2)]  # 2 slots only
    cluster.taskmanagers = [_taskmanager(1), _taskmanager(2)]
    cluster.steps(1)
    assert cluster.state.job(job).state == "RESTARTING"
    cluster.steps(2)
    assert cluster.vertices(job) == [("RUNNING", 4), ("RUNNING", 4)]
    with pytest.raises(FlinkRestFailure) as refused:
        cluster.state.set_requirements(job, {"f" * 32: wider[next(iter(wider))]})
    assert refused.value.status == 400


def test_the_default_scheduler_refuses_new_requirements_as_flink_does(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    cluster.taskmanagers = [_taskmanager(1)]
    job = cluster.run(parallelism=1)
    wider = {
        v.id: {"parallelism": {"lowerBound": 1, "upperBound": 2}}
        for v in cluster.state.job(job).vertices
    }
    for call in (
        lambda: cluster.state.requirements(job),
        lambda: cluster.state.set_requirements(job, wider),
    ):
        with pytest.raises(FlinkRestFailure) as refused:
            call()
        assert refused.value.status == 500
        assert "UnsupportedOperationException" in refused.value.errors[1]
    with pytest.raises(FlinkRestFailure) as empty:
        cluster.state.set_requirements(job, {})
    assert empty.value.status == 400


def test_savepoints_complete_a_step_later_in_the_configured_folder(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    cluster.taskmanagers = [_taskmanager(1)]
    job = cluster.run(parallelism=2)
    cluster.steps(4)
    trigger = cluster.state.trigger_savepoint(job, {"triggerId": "1" * 32}, stop=False)
    assert cluster.state.trigger_savepoint(job, {"triggerId": "1" * 32}, stop=False) == trigger
    assert cluster.state.savepoint_status(job, trigger)["status"]["id"] == "IN_PROGRESS"
    cluster.steps(1)
    status = cluster.state.savepoint_status(job, trigger)
    location = status["operation"]["location"]
    assert location.startswith(f"file:{tmp_path}/sp/savepoint-ababab-")
    assert (Path(location.removeprefix("file:")) / "_metadata").is_file()
    stop = cluster.state.trigger_savepoint(job, {}, stop=True)
    cluster.steps(1)
    assert cluster.state.savepoint_status(job, stop)["operation"]["location"] != location
    assert cluster.state.job(job).state == "FINISHED"
    late = cluster.state.trigger_savepoint(job, {}, stop=False)
    cluster.steps(1)
    cause = cluster.state.savepoint_status(job, late)["operation"]["failure-cause"]
    assert "Not all required tasks are currently running" in cause["stack-trace"]


def test_without_a_savepoint_folder_the_trigger_is_refused(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    del cluster.state.configuration["state.savepoints.dir"]
    cluster.taskmanagers = [_taskmanager(1)]
    job = cluster.run(parallelism=1)
    cluster.steps(4)
    with pytest.raises(FlinkRestFailure) as refused:
        cluster.state.trigger_savepoint(job, {}, stop=True)
    assert refused.value.status == 400
    assert "Property [targetDirectory] must be provided." in refused.value.errors[0]
    given = (tmp_path / "given").as_uri()
    trigger = cluster.state.trigger_savepoint(job, {"target-directory": given}, stop=False)
    cluster.steps(1)
    location = cluster.state.savepoint_status(job, trigger)["operation"]["location"]
    assert location.startswith(f"file:{tmp_path}/given/savepoint-")
    assert cluster.state.job(job).state == "RUNNING"


def test_cancel_and_the_refusals_flink_answers(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    cluster.taskmanagers = [_taskmanager(1)]
    job = cluster.run(parallelism=1)
    with pytest.raises(FlinkRestFailure) as duplicate:
        cluster.run(parallelism=1)
    assert duplicate.value.status == 400
    assert "DuplicateJobSubmissionException" in duplicate.value.errors[0]
    cluster.state.cancel(job)
    cluster.state.cancel(job)  # a repeat is harmless, as in Flink
    cluster.steps(1)
    assert cluster.state.job(job).state == "CANCELED"
    cluster.state.cancel(job)
    other = cluster.run(parallelism=1, job_id="cd" * 16)
    cluster.steps(4)
    cluster.state.trigger_savepoint(other, {}, stop=True)
    cluster.steps(1)
    with pytest.raises(FlinkRestFailure) as finished:
        cluster.state.cancel(other)
    assert finished.value.status == 409
    for call, status in (
        (lambda: cluster.state.job("f" * 32), 404),
        (lambda: cluster.state.job("xyz"), 400),
        (lambda: cluster.state.live_job(other), 500),
        (lambda: cluster.state.savepoint_status(other, "0" * 32), 404),
        (lambda: cluster.state.run_jar("nope.jar", {}), 500),
    ):
        with pytest.raises(FlinkRestFailure) as refused:
            call()
        assert refused.value.status == status
