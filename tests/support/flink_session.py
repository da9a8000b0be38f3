"""A session cluster of real Flink for the kill tests, seen from outside the task.

The kill tests (``test_*_kill.py``) deploy a standalone session cluster on the sandbox's
local runtime, upload the SQL runner's jar, and then watch the cluster through their own
REST and Kubernetes hooks -- to find the step boundary to SIGKILL a task at, and to check
what the retry left. :func:`session_cluster` builds one and deletes it afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dag_support import LocalSandbox
from polling import wait_until

from airflow_provider_flink_k8s.exceptions import FlinkK8sError, FlinkRestError
from airflow_provider_flink_k8s.flinkrest import FlinkRestService
from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.kube.resources import DEPLOYMENT
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox.flink import (
    CLICKSTREAM_SQL,
    SQL_RUNNER_CLASS,
    SQL_RUNNER_JAR,
)

__all__ = ["SessionCluster", "quiet", "session_cluster", "wait_quietly"]


def quiet(check: Callable[[], Any]) -> Callable[[], Any]:
    """``check``, returning ``None`` instead of raising when Flink or Kubernetes does not
    answer (a JobManager starting, a cluster going away): a poll tries again."""

    def call() -> Any:
        try:
            return check()
        except FlinkK8sError:
            return None

    return call


class SessionCluster:
    """The cluster's spec, hooks, the SQL runner's uploaded jar, and what is on disk."""

    def __init__(self, spec: dict[str, Any], rest: FlinkRestHook, jar_id: str, script: Path):
        self.spec = spec
        self.name = str(spec["name"])
        self.rest = rest
        self.kube = FlinkKubernetesHook()
        self.jar_id = jar_id
        self.script = script
        self.savepoints = Path(spec["savepoint_dir"].removeprefix("file://"))
        self.slots = int(spec["taskmanager"]["slots"])

    def jobmanager(self) -> dict[str, Any]:
        found = self.kube.get_object(DEPLOYMENT, "default", f"{self.name}-jobmanager")
        assert found is not None
        return found

    def running(self) -> list[str]:
        return [job.id for job in self.rest.jobs() if job.state == "RUNNING"]

    def only_running_job(self) -> str:
        found = quiet(self.running)()
        assert found and len(found) == 1, found
        return found[0]

    def run_job(self, parallelism: int) -> str:
        """Run the SQL runner's clickstream job (not through a task); its id once every
        vertex runs."""
        rest = self.rest
        args = ["--script", str(self.script)]
        job = rest.run_jar(self.jar_id, SQL_RUNNER_CLASS, args, parallelism=parallelism)
        wait_until(quiet(lambda: rest.job(job).all_vertices_running), 90, "the job RUNNING")
        return job

    def job_at(self, parallelism: int) -> str:
        """The id of the cluster's only unfinished job, once it runs every vertex at
        ``parallelism`` on the TaskManagers that needs (``slots`` each).

        The running job is kept when it already does; otherwise every unfinished job is
        cancelled, the TaskManager Deployment scaled to the count needed (waiting until
        Flink has registered exactly those slots, all free) and the uploaded jar submitted
        again at ``parallelism``. A test that starts with it stands alone: it does not
        rely on what an earlier test left.
        """
        taskmanagers = -(-parallelism // self.slots)
        found = self._running_at(parallelism, taskmanagers)
        if found is not None:
            return found
        for job in self.rest.jobs():
            if not job.is_terminal:
                with contextlib.suppress(FlinkRestError):  # 409: it ended meanwhile
                    self.rest.cancel(job.id)
        wait_quietly(lambda: all(job.is_terminal for job in self.rest.jobs()), 60, "no job left")
        self.kube.scale_taskmanagers(load_cluster(self.spec), taskmanagers)
        slots = taskmanagers * self.slots

        def registered() -> bool:
            overview = self.rest.overview()
            return (overview.taskmanagers, overview.slots_total, overview.slots_available) == (
                taskmanagers,
                slots,
                slots,
            )

        wait_quietly(registered, 120, f"{taskmanagers} TaskManager(s), {slots} free slots, no more")
        job_id = self.rest.run_jar(
            self.jar_id, SQL_RUNNER_CLASS, ["--script", str(self.script)], parallelism=parallelism
        )
        found = wait_quietly(
            lambda: self._running_at(parallelism, taskmanagers), 90, f"the job at {parallelism}"
        )
        assert found == job_id, (found, job_id)
        return job_id

    def _running_at(self, parallelism: int, taskmanagers: int) -> str | None:
        """The only unfinished job, if it runs every vertex at ``parallelism`` on exactly
        ``taskmanagers`` TaskManagers (as the Deployment asks for)."""
        unfinished = [job.id for job in self.rest.jobs() if not job.is_terminal]
        if len(unfinished) != 1:
            return None
        details = self.rest.job(unfinished[0])
        at = {vertex.parallelism for vertex in details.vertices} == {parallelism}
        deployment = self.kube.get_object(DEPLOYMENT, "default", f"{self.name}-taskmanager")
        replicas = ((deployment or {}).get("spec") or {}).get("replicas")
        scaled = replicas == taskmanagers == self.rest.overview().taskmanagers
        return details.id if details.all_vertices_running and at and scaled else None

    def savepoint_folders(self, job_id: str | None = None) -> set[Path]:
        """The savepoints written into the spec's ``savepoint_dir`` (of ``job_id`` only:
        Flink names a savepoint's folder ``savepoint-<first 6 digits of the job id>-...``)."""
        if not self.savepoints.exists():
            return set()
        prefix = f"savepoint-{job_id[:6]}-" if job_id else ""
        return {
            path
            for path in self.savepoints.iterdir()
            if path.name.startswith(prefix) and (path / "_metadata").exists()
        }

    def remaining(self) -> tuple[str, ...]:
        """The cluster's objects still in Kubernetes (empty once it is gone, pods too)."""
        return self.kube.remaining_objects(self.name, "default")


def wait_quietly(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """:func:`wait_until`, taking a Flink or Kubernetes error (a JobManager starting, a
    job going away) for "not yet"."""
    return wait_until(quiet(check), timeout, what, interval=0.3)


@contextmanager
def session_cluster(
    local_sandbox: LocalSandbox,
    name: str,
    *,
    slots: int,
    flink_configuration: Mapping[str, str] | None = None,
) -> Iterator[SessionCluster]:
    """A standalone session cluster ``name`` (one TaskManager of ``slots`` slots, its own
    savepoint and checkpoint folders), once its slots are registered and the SQL runner's
    jar is uploaded; deleted (and waited for) afterwards, whatever the test did to it."""
    state = local_sandbox.state
    spec = {
        "name": name,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": slots, "replicas": 1},
        "savepoint_dir": (state / f"{name}-savepoints").as_uri(),
        "checkpoint_dir": (state / f"{name}-checkpoints").as_uri(),
        "flink_configuration": {
            "execution.checkpointing.interval": "1s",
            "heartbeat.interval": "1000",
            "heartbeat.timeout": "5000",
            **(flink_configuration or {}),
        },
    }
    hook = FlinkKubernetesHook()
    hook.apply(render_manifests(load_cluster(spec)))
    service = FlinkRestService.for_cluster(name, "default", route="service_proxy")
    rest = FlinkRestHook(service=service)
    try:
        wait_until(quiet(lambda: rest.overview().slots_total == slots), 120, f"{slots} slots")
        jar_id = rest.upload_jar(local_sandbox.usrlib / SQL_RUNNER_JAR)
        yield SessionCluster(spec, rest, jar_id, local_sandbox.usrlib / CLICKSTREAM_SQL.name)
    finally:
        try:
            hook.delete_cluster(name, "default", timeout=60)
        finally:
            rest.close()
