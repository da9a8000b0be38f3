"""The HTTP face of a stand-in JobManager: Flink's REST paths on 127.0.0.1.

One catch-all aiohttp handler dispatches on ``(method, path)`` (an optional ``/v1``
prefix is dropped, as Flink serves both), so every failure -- a refused request, an
unknown job, an unknown path -- is Flink's ``{"errors": [...]}`` body with Flink's status
(:mod:`.errors`), never aiohttp's own pages.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from flink_k8s_sandbox.flinkstandin.checkpoints import (
    SavepointRecord,
    checkpoint_statistics,
)
from flink_k8s_sandbox.flinkstandin.cluster import StandInCluster, flink_location
from flink_k8s_sandbox.flinkstandin.errors import (
    FlinkRestFailure,
    handler_error,
    server_error,
    unknown_path,
)
from flink_k8s_sandbox.flinkstandin.views import (
    cluster_overview,
    dashboard_config,
    jobmanager_config,
    taskmanagers_json,
)

__all__ = ["ROUTES", "SUBTASK_METRICS", "StandInServer"]

_HOST = "127.0.0.1"
_LOG = logging.getLogger(__name__)
_MAX_CONTENT = 104_857_600  # Flink's rest.server.max-content-length
Handler = Callable[[web.Request, StandInCluster, "re.Match[str]"], Awaitable[tuple[int, Any]]]

SUBTASK_METRICS: dict[str, float] = {
    "numRecordsIn": 0.0,
    "numRecordsOut": 0.0,
    "numRecordsInPerSecond": 0.0,
    "numRecordsOutPerSecond": 0.0,
    "numBytesInPerSecond": 0.0,
    "numBytesOutPerSecond": 0.0,
    "busyTimeMsPerSecond": 0.0,
    "idleTimeMsPerSecond": 1000.0,
    "backPressuredTimeMsPerSecond": 0.0,
}
"""Each subtask's value of the metrics a stand-in vertex reports: it processes nothing,
so it is idle all the time."""


async def _json_body(request: web.Request) -> dict[str, Any]:
    text = await request.text()
    if not text.strip():
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        raise handler_error(400, "Request did not match expected format.") from None
    if not isinstance(body, dict):
        raise handler_error(400, "Request did not match expected format.")
    return body


# --- handlers: (request, cluster, path match) -> (status, JSON) ---------------------------


async def _config(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    return 200, dashboard_config(cluster.flink_version)


async def _overview(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    cluster.advance()
    states = [job.state for job in cluster.jobs.values()]
    return 200, cluster_overview(
        cluster.registered(), cluster.used_slots(), states, cluster.flink_version
    )


async def _taskmanagers(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    cluster.advance()
    return 200, taskmanagers_json(cluster.registered(), cluster.used_slots())


async def _jm_config(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    return 200, jobmanager_config(cluster.configuration)


async def _jobs(request: web.Request, cluster: StandInCluster, m: re.Match[str]) -> tuple[int, Any]:
    now = cluster.advance()
    return 200, {"jobs": [job.overview_json(now) for job in cluster.jobs.values()]}


async def _job(request: web.Request, cluster: StandInCluster, m: re.Match[str]) -> tuple[int, Any]:
    job = cluster.job(m["job"])
    return 200, job.details_json(cluster.now_ms())


async def _cancel(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    mode = request.query.get("mode", "cancel")
    if mode != "cancel":
        raise handler_error(400, f"Bad request, could not parse parameters: {mode}")
    cluster.cancel(m["job"])
    return 202, {}


async def _exceptions(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    cluster.job(m["job"])
    return 200, {"exceptionHistory": {"entries": [], "truncated": False}}


async def _checkpoints(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    job = cluster.job(m["job"])
    subtasks = sum(vertex.parallelism for vertex in job.vertices)
    records = [
        SavepointRecord(op.checkpoint_id, op.requested_ms, op.completed_ms, op.location or "",
                        stop=op.stop, subtasks=subtasks)
        for op in cluster.savepoints_of(job.id)
    ]  # fmt: skip
    restored = None
    if job.restored_from:
        path = flink_location(job.restored_from)
        source = next((op for op in cluster.operations.values() if op.location == path), None)
        restored = (source.checkpoint_id if source else 0, job.submitted_ms, path)
    return 200, checkpoint_statistics(records, restored)


async def _requirements(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    return 200, cluster.requirements(m["job"])


async def _set_requirements(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    cluster.set_requirements(m["job"], await _json_body(request))
    return 200, {}


async def _metrics(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    job = cluster.job(m["job"])
    vertex = next((v for v in job.vertices if v.id == m["vertex"]), None)
    if vertex is None:
        raise handler_error(
            404,
            f"Vertex {m['vertex']} not found",
            exception="org.apache.flink.runtime.rest.NotFoundException",
        )
    if vertex.status != "RUNNING":
        return 200, []  # no subtask reports metrics yet
    wanted = [name for name in request.query.get("get", "").split(",") if name]
    answer = []
    for name in wanted:
        if name in SUBTASK_METRICS:
            value = SUBTASK_METRICS[name]
            total = value * vertex.parallelism
            answer.append(
                {"id": name, "min": value, "max": value, "avg": value, "sum": total, "skew": 0.0}
            )
    return 200, answer


async def _savepoint(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    trigger = cluster.trigger_savepoint(m["job"], await _json_body(request), stop=False)
    return 202, {"request-id": trigger}


async def _stop(request: web.Request, cluster: StandInCluster, m: re.Match[str]) -> tuple[int, Any]:
    trigger = cluster.trigger_savepoint(m["job"], await _json_body(request), stop=True)
    return 202, {"request-id": trigger}


async def _savepoint_status(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    return 200, cluster.savepoint_status(m["job"], m["trigger"])


async def _jars(request: web.Request, cluster: StandInCluster, m: re.Match[str]) -> tuple[int, Any]:
    address = f"http://{request.host}"
    return 200, {"address": address, "files": [jar.json() for jar in cluster.jars.list()]}


async def _upload(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    if not request.content_type.startswith("multipart/"):
        raise handler_error(400, "Request did not match expected format.")
    reader = await request.multipart()
    async for part in reader:
        if isinstance(part, BodyPartReader) and part.filename:
            if not part.filename.endswith(".jar"):
                raise handler_error(400, "Only Jar files are allowed.")
            content = await part.read(decode=False)
            path = cluster.jars.add(part.filename, bytes(content))
            return 200, {"filename": path, "status": "success"}
    raise handler_error(400, "Exactly 1 file must be sent, received 0.")


async def _run(request: web.Request, cluster: StandInCluster, m: re.Match[str]) -> tuple[int, Any]:
    return 200, cluster.run_jar(m["jar"], await _json_body(request))


async def _plan(request: web.Request, cluster: StandInCluster, m: re.Match[str]) -> tuple[int, Any]:
    return 200, cluster.plan(m["jar"], await _json_body(request))


async def _delete_jar(
    request: web.Request, cluster: StandInCluster, m: re.Match[str]
) -> tuple[int, Any]:
    if not cluster.jars.remove(m["jar"]):
        raise handler_error(400, f"File {m['jar']} does not exist in {cluster.jars.folder}.")
    return 200, {}


_JOB = r"/jobs/(?P<job>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (method, re.compile(f"^{path}$"), handler)
    for method, path, handler in (
        ("GET", "/config", _config),
        ("GET", "/overview", _overview),
        ("GET", "/taskmanagers", _taskmanagers),
        ("GET", "/jobmanager/config", _jm_config),
        ("GET", "/jobs/overview", _jobs),
        ("GET", "/jars", _jars),
        ("POST", "/jars/upload", _upload),
        ("POST", r"/jars/(?P<jar>[^/]+)/run", _run),
        ("POST", r"/jars/(?P<jar>[^/]+)/plan", _plan),
        ("DELETE", r"/jars/(?P<jar>[^/]+)", _delete_jar),
        ("GET", _JOB, _job),
        ("PATCH", _JOB, _cancel),
        ("GET", f"{_JOB}/exceptions", _exceptions),
        ("GET", f"{_JOB}/checkpoints", _checkpoints),
        ("GET", f"{_JOB}/resource-requirements", _requirements),
        ("PUT", f"{_JOB}/resource-requirements", _set_requirements),
        ("GET", f"{_JOB}/vertices/(?P<vertex>[^/]+)/subtasks/metrics", _metrics),
        ("POST", f"{_JOB}/savepoints", _savepoint),
        ("GET", f"{_JOB}/savepoints/(?P<trigger>[^/]+)", _savepoint_status),
        ("POST", f"{_JOB}/stop", _stop),
    )
]
"""Every path the stand-in serves (the REST calls the provider makes)."""


class StandInServer:
    """Serves one :class:`StandInCluster` over HTTP on 127.0.0.1 (a free port)."""

    def __init__(self, cluster: StandInCluster) -> None:
        self.cluster = cluster
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        if path == "/v1" or path.startswith("/v1/"):
            path = path[3:] or "/"
        try:
            for method, pattern, handler in ROUTES:
                match = pattern.match(path)
                if match is not None and method == request.method:
                    status, body = await handler(request, self.cluster, match)
                    return web.json_response(body, status=status)
            raise unknown_path(request.method, path)
        except FlinkRestFailure as failure:
            return web.json_response(failure.body(), status=failure.status)
        except Exception as error:  # the boundary: Flink answers 500, and so does this
            _LOG.exception("stand-in Flink REST: %s %s failed", request.method, request.path)
            unexpected = server_error(f"{type(error).__name__}: {error}")
            return web.json_response(unexpected.body(), status=unexpected.status)

    async def start(self) -> int:
        """Listen; the port."""
        app = web.Application(client_max_size=_MAX_CONTENT)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((_HOST, 0))
            site = web.SockSite(runner, listener)
            await site.start()
        except BaseException:
            listener.close()
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(listener.getsockname()[1])
        return self.port

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
