"""Real Flink processes from a cluster's pods: a session cluster, a job's lifecycle, failures.

One session cluster (the JobManager and two TaskManagers of ``data/session_cluster.yaml``,
2 slots each) serves the module; each test leaves it as it found it. The reaper tests at the end
need no Java.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flink_processes import ClusterPods, FlinkRest, load_pods, start_cluster
from polling import wait_until

from flink_k8s_sandbox.flink import (
    CLICKSTREAM_SQL,
    SQL_RUNNER_CLASS,
    FlinkProcess,
    FlinkProcessError,
    find_distribution,
    find_java,
    live_processes,
    start_flink_process,
)
from flink_k8s_sandbox.flink.resourceparams import ResourceParams, resource_params

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass
class Session:
    pods: ClusterPods
    jobmanager: FlinkProcess
    taskmanagers: list[FlinkProcess]
    rest: FlinkRest
    base: Path


def _overview(rest: FlinkRest) -> dict[str, int]:
    reply: dict[str, int] = rest.get("/overview")
    return reply


@pytest.fixture(scope="module")
def session(flink_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    base = tmp_path_factory.mktemp("session")
    pods = load_pods("session_cluster")
    started = time.monotonic()
    jobmanager, taskmanagers = start_cluster(pods, base, taskmanagers=2)
    try:
        rest = FlinkRest(jobmanager)
        jobmanager.wait_ready(timeout=120)
        rest.timings["jobmanager ready"] = time.monotonic() - started
        wait_until(
            lambda: _overview(rest)["slots-total"] == 4, 120, "2 TaskManagers with 2 slots each"
        )
        rest.timings["taskmanagers registered"] = time.monotonic() - started
        print(f"\nsession cluster timings: {rest.timings}")
        yield Session(pods, jobmanager, taskmanagers, rest, base)
    finally:
        for process in [*taskmanagers, jobmanager]:
            process.stop()


@pytest.mark.slow
def test_session_cluster_reports_two_taskmanagers_and_their_slots(session: Session) -> None:
    overview = _overview(session.rest)

    assert overview["taskmanagers"] == 2
    assert overview["slots-total"] == 4
    assert overview["flink-version"] == "2.3.0"
    assert session.jobmanager.port_map == {
        6123: session.jobmanager.ports["rpc"],
        6124: session.jobmanager.ports["blob"],
        8081: session.jobmanager.ports["rest"],
    }


def _resource_params(process: FlinkProcess) -> ResourceParams:
    """What BashJavaUtils answers for a running process's written conf/ and -D arguments."""
    launch = process.launch
    return resource_params(
        launch.role,
        launch.conf_dir,
        launch.dynamic_properties,
        distribution=find_distribution(),
        java=find_java(),
    )


def _bytes(value: str) -> int:
    return int(value.removesuffix("b"))


@pytest.mark.slow
def test_taskmanagers_run_with_the_memory_flinks_bashjavautils_computes(session: Session) -> None:
    derived = _resource_params(session.taskmanagers[0]).dynamic_properties()

    taskmanagers = session.rest.get("/taskmanagers")["taskmanagers"]

    for taskmanager in taskmanagers:
        memory = taskmanager["memoryConfiguration"]
        assert memory["taskHeap"] == _bytes(derived["taskmanager.memory.task.heap.size"])
        assert memory["managedMemory"] == _bytes(derived["taskmanager.memory.managed.size"])
        assert memory["totalProcessMemory"] == 1280 << 20  # the pod's process size
    assert {tm["slotsNumber"] for tm in taskmanagers} == {2}


@pytest.mark.slow
def test_the_jobmanager_jvm_runs_with_bashjavautils_options(session: Session) -> None:
    params = _resource_params(session.jobmanager)

    options = session.rest.get("/jobmanager/environment")["jvm"]["options"]
    config = {item["key"]: item["value"] for item in session.rest.get("/jobmanager/config")}

    assert options[: len(params.jvm_args)] == list(params.jvm_args)
    heap = params.dynamic_properties()["jobmanager.memory.heap.size"]
    assert config["jobmanager.memory.heap.size"] == heap
    assert config["jobmanager.rpc.address"] == "127.0.0.1"


@pytest.mark.slow
def test_sql_job_savepoint_stop_restore_and_cancel(
    session: Session, flink_sql_runner_jar: Path, tmp_path: Path
) -> None:
    rest = session.rest
    script = shutil.copy(CLICKSTREAM_SQL, tmp_path / "clickstream.sql")
    jar_id = rest.upload_jar(flink_sql_runner_jar)
    run = {"entryClass": SQL_RUNNER_CLASS, "programArgsList": ["--script", str(script)]}

    submitted = time.monotonic()
    job_id = rest.call("POST", f"/jars/{jar_id}/run", {**run, "parallelism": 2})["jobid"]
    rest.wait_job_running(job_id)
    print(f"\nSQL job RUNNING {time.monotonic() - submitted:.1f}s after POST /jars/:id/run")

    trigger = rest.call(
        "POST",
        f"/jobs/{job_id}/savepoints",
        {"target-directory": f"file://{tmp_path}/savepoints", "cancel-job": False},
    )["request-id"]
    savepoint = rest.wait_savepoint(job_id, trigger)
    assert (tmp_path / "savepoints").is_dir()
    assert (Path(savepoint.removeprefix("file:")) / "_metadata").is_file()
    assert rest.job(job_id)["state"] == "RUNNING"

    trigger = rest.call(
        "POST",
        f"/jobs/{job_id}/stop",
        {"targetDirectory": f"file://{tmp_path}/stop", "drain": False},
    )["request-id"]
    final_savepoint = rest.wait_savepoint(job_id, trigger)
    rest.wait_job_state(job_id, "FINISHED")
    assert (Path(final_savepoint.removeprefix("file:")) / "_metadata").is_file()

    restored = rest.call(
        "POST", f"/jars/{jar_id}/run", {**run, "parallelism": 2, "savepointPath": final_savepoint}
    )["jobid"]
    rest.wait_job_running(restored)
    checkpoints = rest.get(f"/jobs/{restored}/checkpoints")
    assert checkpoints["latest"]["restored"]["external_path"] == final_savepoint

    rest.call("PATCH", f"/jobs/{restored}?mode=cancel")
    rest.wait_job_state(restored, "CANCELED")
    wait_until(lambda: _overview(rest)["slots-available"] == 4, 30, "slots freed")


@pytest.mark.slow
def test_a_killed_taskmanager_drops_out_of_the_overview(session: Session) -> None:
    jobmanager = session.jobmanager
    extra = start_flink_process(
        session.pods.taskmanager.spec(
            session.base / "taskmanager-extra",
            name="taskmanager-extra",
            jobmanager_address=("127.0.0.1", jobmanager.ports["rpc"]),
        )
    )
    try:
        wait_until(lambda: _overview(session.rest)["taskmanagers"] == 3, 90, "a third TaskManager")
        killed_at = time.monotonic()

        assert extra.kill() == -signal.SIGKILL
        assert extra not in live_processes()
        wait_until(lambda: _overview(session.rest)["taskmanagers"] == 2, 60, "the TaskManager gone")
        print(f"\nkilled TaskManager dropped after {time.monotonic() - killed_at:.1f}s")
    finally:
        extra.stop()
    with pytest.raises(FlinkProcessError, match="exited with -9"):
        extra.wait_tcp(extra.ports["rpc"], timeout=1)


# --- no process outlives its parent (no Java needed) ---------------------------------------

_PARENT = textwrap.dedent(
    """
    import threading, time
    from flink_k8s_sandbox.flink import reaper

    children = []
    worker = threading.Thread(target=lambda: children.append(reaper.spawn(["sleep", "300"])))
    worker.start()
    worker.join()  # the thread that asked for the child is gone
    print(children[0].pid, flush=True)
    time.sleep(300)
    """
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_child_dies_with_its_parent_even_on_sigkill() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        time.sleep(0.5)
        assert _alive(child), "the child died with the thread that requested it"

        parent.send_signal(signal.SIGKILL)
        parent.wait()

        wait_until(lambda: not _alive(child), 10, "the orphan to be killed")
    finally:
        parent.kill()
        parent.wait()
