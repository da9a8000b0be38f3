"""A task run the way a worker runs it: ``airflow tasks test`` in a process of its own.

The kill tests of the resumable operations need a worker they can SIGKILL mid-step and a
retry that is the same task instance: :func:`create_run` makes a DagRun with a fixed
``run_id`` and its conf (``airflow dags trigger``), :class:`TaskProcess` runs one task of
it (``airflow tasks test <dag> <task> <run_id>``: same dag, task, run and map index on
every run, so the ids the provider derives from the task instance are the same), and
:meth:`TaskProcess.kill_when` SIGKILLs it -- no ``on_kill``, no ``finally`` -- once the
test sees the step boundary it waits for (an annotation written, a job stopped...).

:class:`TriggererProcess` is Airflow's own ``airflow triggerer``: ``airflow tasks test``
runs a deferred task's trigger in its own process, so a test that restarts the triggerer
kills the task process while its trigger waits, hands the deferred task instance to a real
triggerer (:func:`hand_to_triggerer`: the state a worker leaves after deferring), kills
that triggerer mid-wait, starts another, and once its event has scheduled the task
instance runs it again: ``airflow tasks test`` then resumes it at the deferral's
``next_method`` with the event, as a worker does.

The processes inherit the test session's Airflow home, DAGs folder and the
``kubernetes_default`` connection that points at the sandbox.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

import pytest
from polling import wait_until

__all__ = [
    "TaskProcess",
    "TriggererProcess",
    "create_run",
    "deferred_to",
    "hand_to_triggerer",
    "resumed_with",
    "kill_test",
    "needs_task_process",
    "task_result",
]

_T = TypeVar("_T")
_AIRFLOW = [sys.executable, "-m", "airflow"]
_runs_task_processes = pytest.mark.skipif(
    version("apache-airflow").startswith("3.0."),
    reason="Airflow 3.0's `airflow tasks test` of an existing DagRun dies in the execution "
    "API (TIRunContext validation); the kill tests run from Airflow 3.1 on",
)
needs_task_process = [pytest.mark.kill, _runs_task_processes]
"""The marks of a test that runs tasks as :class:`TaskProcess`: ``kill`` (``make
test-kill``), and not on the Airflow 3.0 floor. A module's ``pytestmark``, or each mark
through :func:`kill_test`."""


def kill_test(test: _T) -> _T:
    """``test`` with the marks of :data:`needs_task_process`."""
    for mark in needs_task_process:
        test = mark(test)
    return test


_serialized = False


def _airflow(*args: str) -> str:
    """Run an ``airflow`` CLI command to its end; its output (raises with it on failure)."""
    done = subprocess.run(
        [*_AIRFLOW, *args], capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"airflow {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def create_run(dag_id: str, run_id: str, conf: Mapping[str, Any] | None = None) -> str:
    """Create the DagRun ``run_id`` of ``dag_id`` with ``conf`` (its params); ``run_id``.

    The DAGs folder is serialized into the metadata database first (once per session):
    ``airflow dags trigger`` only knows serialized DAGs.
    """
    global _serialized
    if not _serialized:
        _airflow("dags", "reserialize")
        _serialized = True
    _airflow("dags", "trigger", dag_id, "--run-id", run_id, "--conf", json.dumps(dict(conf or {})))
    return run_id


def task_result(dag_id: str, run_id: str, task_id: str) -> Any:
    """What the task instance returned (its ``return_value`` XCom) on its last run that
    pushed one, read from the metadata database the task processes share."""
    from airflow.models.dagrun import DagRun

    (run,) = DagRun.find(dag_id=dag_id, run_id=run_id)
    return run.get_task_instance(task_id).xcom_pull(task_ids=task_id)


class TaskProcess:
    """One ``airflow tasks test`` of a task of an existing DagRun, as a child process.

    :param log: where the process's output goes (read it with :attr:`output`).
    """

    def __init__(self, dag_id: str, task_id: str, run_id: str, *, log: Path) -> None:
        self.dag_id = dag_id
        self.task_id = task_id
        self.run_id = run_id
        self.log = log
        with log.open("ab") as out:
            # A session of its own: the SIGKILL reaches every process the task started.
            self.process = subprocess.Popen(
                [*_AIRFLOW, "tasks", "test", dag_id, task_id, run_id],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def output(self) -> str:
        """Everything the process (and earlier ones logging to the same file) printed."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait(self, timeout: float = 600) -> int:
        """Wait for the process to end; its exit code (``airflow tasks test`` exits 0
        whether the task succeeded or failed: :meth:`finish` tells which)."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self} still ran after {timeout}s:\n{self.output}") from None

    def finish(self, timeout: float = 600) -> str:
        """Wait for the process to end; the state the task instance ended in
        (``success``, ``failed``, ``up_for_retry``...), as the task runner reported it.

        :raises AssertionError: if the task reported no end state (it was killed, or
            never ran).
        """
        self.wait(timeout)
        states = re.findall(r"new_state=(\w+)", self.output)
        if not states:
            raise AssertionError(f"{self} ended in no state:\n{self.output[-3000:]}")
        return states[-1]

    def kill(self) -> None:
        """SIGKILL the process and its children (a worker lost: OOM, eviction, node gone)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)

    def kill_when(self, boundary: Callable[[], Any], what: str, timeout: float = 300) -> Any:
        """SIGKILL the process as soon as ``boundary()`` returns something truthy; return it.

        :raises AssertionError: if the process ended first (the step was never reached
            while it ran) or ``timeout`` passed.
        """

        def reached() -> Any:
            found = boundary()
            if found:
                return found
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self} ended (exit {self.process.returncode}) before {what}:\n{self.output}"
                )
            return None

        try:
            found = wait_until(reached, timeout, what, interval=0.05)
        finally:
            self.kill()
        return found

    def __str__(self) -> str:
        return f"airflow tasks test {self.dag_id} {self.task_id} {self.run_id}"


def _task_instance(dag_id: str, run_id: str, task_id: str, session: Any) -> Any:
    from airflow.models.taskinstance import TaskInstance
    from sqlalchemy import select

    query = select(TaskInstance).where(
        TaskInstance.dag_id == dag_id,
        TaskInstance.run_id == run_id,
        TaskInstance.task_id == task_id,
    )
    return session.scalars(query).one()


def deferred_to(
    dag_id: str, run_id: str, task_id: str, next_method: str | None = None
) -> tuple[int, int | None] | None:
    """``(trigger id, triggerer job id or None)`` of the task instance's pending deferral
    (to ``next_method``, if given), read from the metadata database; ``None`` while it is
    not deferred, or its trigger has fired already (its event is in ``next_kwargs``)."""
    from airflow.models.trigger import Trigger
    from airflow.sdk.serde import deserialize
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = _task_instance(dag_id, run_id, task_id, session)
        if ti.trigger_id is None or next_method not in (None, ti.next_method):
            return None
        if "event" in dict(deserialize(ti.next_kwargs or {})):
            return None
        trigger = session.get(Trigger, ti.trigger_id)
        return (ti.trigger_id, trigger.triggerer_id if trigger is not None else None)


def hand_to_triggerer(dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    """Leave the task instance as a worker does after its task deferred: ``deferred``,
    its trigger unassigned (``airflow tasks test`` marks it queued while it runs the
    trigger in line). Its ``next_method`` and ``next_kwargs`` as stored."""
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    with create_session() as session:
        ti = _task_instance(dag_id, run_id, task_id, session)
        assert ti.trigger_id is not None and ti.next_method, "the task never deferred"
        ti.state = TaskInstanceState.DEFERRED
        trigger = session.get(Trigger, ti.trigger_id)
        trigger.triggerer_id = None
        return {"next_method": ti.next_method, "next_kwargs": ti.next_kwargs}


def resumed_with(dag_id: str, run_id: str, task_id: str) -> dict[str, Any] | None:
    """The event a triggerer delivered to the task instance (its ``next_kwargs``), once
    the task instance is scheduled to resume; ``None`` before."""
    from airflow.sdk.serde import deserialize
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    with create_session() as session:
        ti = _task_instance(dag_id, run_id, task_id, session)
        if ti.state != TaskInstanceState.SCHEDULED or ti.trigger_id is not None:
            return None
        return dict(deserialize(ti.next_kwargs or {}))


class TriggererProcess:
    """``airflow triggerer`` as a child process of its own session.

    A lost triggerer's triggers go to another one once its heartbeat is older than
    ``[triggerer] triggerer_health_check_threshold``; both are seconds here, so that a
    restart hands the trigger over at once.

    :param log: where its output goes.
    """

    HEALTH_CHECK_THRESHOLD = 3

    def __init__(self, *, log: Path) -> None:
        self.log = log
        env = {
            **os.environ,
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(
                self.HEALTH_CHECK_THRESHOLD
            ),
        }
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [*_AIRFLOW, "triggerer"],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL it and the trigger runner it started: the triggerer lost mid-wait."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)

    def stop(self) -> None:
        """SIGTERM it (a graceful shutdown), SIGKILL after 60 s."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()
