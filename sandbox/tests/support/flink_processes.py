"""Real Flink processes for the local runtime's tests: a cluster's pods and Flink's REST API.

Pods come from a standalone cluster's rendered ConfigMap and Deployments (``data/``, or
any renderer's output: :func:`pods_from_manifests`); :func:`start_cluster` starts them as
Flink processes the way a Deployment's pods would be; :class:`FlinkRest` is a minimal
client of the JobManager's REST API.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from polling import wait_until

from flink_k8s_sandbox.flink import (
    FlinkProcess,
    FlinkProcessSpec,
    parse_config_yaml,
    start_flink_process,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "ClusterPods",
    "FlinkRest",
    "Pod",
    "load_pods",
    "pods_from_manifests",
    "start_cluster",
]

DATA = Path(__file__).resolve().parents[1] / "data"


# --- pods from a cluster's manifests-----------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    """The parts of a rendered Flink pod a process needs."""

    args: tuple[str, ...]
    env: dict[str, str]
    configuration: dict[str, str]
    conf_files: dict[str, str]

    def spec(self, workdir: Path, **kwargs: Any) -> FlinkProcessSpec:
        return FlinkProcessSpec(
            args=self.args,
            configuration=self.configuration,
            env=self.env,
            conf_files=self.conf_files,
            workdir=workdir,
            **kwargs,
        )


@dataclass(frozen=True)
class ClusterPods:
    jobmanager: Pod
    taskmanager: Pod


def pods_from_manifests(manifests: Sequence[Mapping[str, Any]]) -> ClusterPods:
    """A standalone cluster's pods, read from its ConfigMap and Deployments as a runtime would."""
    config_map = next(m for m in manifests if m["kind"] == "ConfigMap")
    files = dict(config_map["data"])
    configuration = parse_config_yaml(files.pop("config.yaml"))
    pods = {}
    for manifest in manifests:
        if manifest["kind"] != "Deployment":
            continue
        container = manifest["spec"]["template"]["spec"]["containers"][0]
        env = {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}
        pod = Pod(tuple(container["args"]), env, configuration, files)
        pods[manifest["metadata"]["labels"]["component"]] = pod
    return ClusterPods(jobmanager=pods["jobmanager"], taskmanager=pods["taskmanager"])


# --- Flink's REST API ----------------------------------------------------------------------


@dataclass
class FlinkRest:
    """A minimal client of a JobManager's REST API (``urllib``, JSON in and out)."""

    process: FlinkProcess
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.process.rest_url

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()!r}") from exc
        return json.loads(text) if text else None

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def upload_jar(self, jar: Path) -> str:
        """``POST /jars/upload`` (multipart); the jar's id."""
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="jarfile"; '
                f'filename="{jar.name}"\r\nContent-Type: application/x-java-archive\r\n\r\n'
            ).encode()
            + jar.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            self.url + "/jars/upload",
            data=body,
            method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            reply = json.loads(response.read())
        assert reply["status"] == "success", reply
        return str(Path(reply["filename"]).name)

    def job(self, job_id: str) -> dict[str, Any]:
        reply: dict[str, Any] = self.get(f"/jobs/{job_id}")
        return reply

    def wait_job_running(self, job_id: str, timeout: float = 90) -> None:
        """The job and every vertex RUNNING (what a savepoint needs)."""

        def running() -> bool:
            job = self.job(job_id)
            assert job["state"] not in ("FAILED", "CANCELED", "FINISHED"), job["state"]
            return job["state"] == "RUNNING" and all(
                vertex["status"] == "RUNNING" for vertex in job["vertices"]
            )

        wait_until(running, timeout, f"job {job_id} RUNNING")

    def wait_job_state(self, job_id: str, state: str, timeout: float = 60) -> None:
        wait_until(lambda: self.job(job_id)["state"] == state, timeout, f"job {job_id} {state}")

    def wait_savepoint(self, job_id: str, trigger: str, timeout: float = 60) -> str:
        """Poll a savepoint (or stop-with-savepoint) trigger; its location."""

        def done() -> dict[str, Any] | None:
            reply: dict[str, Any] = self.get(f"/jobs/{job_id}/savepoints/{trigger}")
            return reply if reply["status"]["id"] == "COMPLETED" else None

        operation = wait_until(done, timeout, f"savepoint {trigger}")["operation"]
        assert "location" in operation, operation
        return str(operation["location"])


def load_pods(name: str) -> ClusterPods:
    """The pods of ``data/<name>.yaml`` (see ``data/README.md``)."""
    text = (DATA / f"{name}.yaml").read_text(encoding="utf-8")
    return pods_from_manifests([obj for obj in yaml.safe_load_all(text) if obj])


def start_cluster(
    pods: ClusterPods, base: Path, taskmanagers: int, **jobmanager_kwargs: Any
) -> tuple[FlinkProcess, list[FlinkProcess]]:
    """Start a JobManager and TaskManagers at once (as a Deployment's pods would)."""
    jobmanager = start_flink_process(
        pods.jobmanager.spec(base / "jobmanager", name="jobmanager", **jobmanager_kwargs)
    )
    taskmanagers_started = [
        start_flink_process(
            pods.taskmanager.spec(
                base / f"taskmanager-{index}",
                name=f"taskmanager-{index}",
                jobmanager_address=("127.0.0.1", jobmanager.ports["rpc"]),
                rest_address=("127.0.0.1", jobmanager.ports["rest"]),
            )
        )
        for index in range(taskmanagers)
    ]
    return jobmanager, taskmanagers_started
