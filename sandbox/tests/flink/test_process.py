"""Real Flink processes from our manifests: a session cluster, a job's lifecycle, failures.

One session cluster (a JobManager and two TaskManagers rendered from a spec, 2 slots
each) serves the module; each test leaves it as it found it. The reaper tests at the end
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
from flink_support import ClusterPods, FlinkRest, render_pods, start_cluster
from polling import wait_until

from airflow_provider_flink_k8s.resources import jobmanager_memory, taskmanager_memory
from flink_k8s_sandbox.flink import (
    CLICKSTREAM_SQL,
    SQL_RUNNER_CLASS,
    FlinkProcess,
    FlinkProcessError,
    live_processes,
    start_flink_process,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

SESSION_SPEC = {
    "name": "demo",
    "mode": "session",
    "target": "standalone",
    "jobmanager": {"memory": "1024m", "cpu": 0.5},
    "taskmanager": {"memory": "1280m", "cpu": 1, "slots": 2, "replicas": 2},
    "flink_configuration": {
        # A killed TaskManager is noticed after two failed heartbeat RPCs (1 s apart).
        "heartbeat.interval": "1000",
        "execution.checkpointing.interval": "2s",
    },
}


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
    pods = render_pods(SESSION_SPEC)
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


@pytest.mark.slow
def test_taskmanagers_report_the_memory_our_model_predicts(session: Session) -> None:
    predicted = taskmanager_memory(session.pods.taskmanager.configuration)
    expected = {
        "frameworkHeap": predicted.framework_heap,
        "taskHeap": predicted.task_heap,
        "frameworkOffHeap": predicted.framework_off_heap,
        "taskOffHeap": predicted.task_off_heap,
        "networkMemory": predicted.network,
        "managedMemory": predicted.managed,
        "jvmMetaspace": predicted.jvm_metaspace,
        "jvmOverhead": predicted.jvm_overhead,
        "totalFlinkMemory": predicted.total_flink,
        "totalProcessMemory": predicted.total_process,
    }

    taskmanagers = session.rest.get("/taskmanagers")["taskmanagers"]

    assert [tm["memoryConfiguration"] for tm in taskmanagers] == [expected, expected]
    assert {tm["slotsNumber"] for tm in taskmanagers} == {2}


@pytest.mark.slow
def test_jobmanager_jvm_runs_with_our_memory_model(session: Session) -> None:
    predicted = jobmanager_memory(session.pods.jobmanager.configuration)

    options = session.rest.get("/jobmanager/environment")["jvm"]["options"]
    config = {item["key"]: item["value"] for item in session.rest.get("/jobmanager/config")}

    assert options[: len(predicted.jvm_args().split())] == predicted.jvm_args().split()
    assert config["jobmanager.memory.heap.size"] == f"{predicted.heap}b"
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
