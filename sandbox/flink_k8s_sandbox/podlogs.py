"""Container logs: kept per container instance, served by ``GET .../pods/<name>/log``.

:class:`PodLogs` holds the lines each container instance (by ``containerID``) wrote, with
their times, and lets readers follow an instance until it exits. :func:`serve_log`
answers the ``log`` subresource as the API server and kubelet do: the instance is picked
from the pod's status (the running one, else the last terminated one; ``previous=true``
the one before), options ``container``, ``follow``, ``previous``, ``tailLines``,
``limitBytes``, ``sinceSeconds``, ``sinceTime`` and ``timestamps``; a container that has
not started yet gives the kubelet's 400 (``container "app" in pod "p" is waiting to
start: ContainerCreating``), an unscheduled pod an empty log.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.errors import ErrorType, FieldError
from flink_k8s_sandbox.workloads.status import parse_time

__all__ = ["PodLogs", "log_container_id", "serve_log"]

Obj = dict[str, Any]
_MAX_LINES = 10_000
_WAITING = {
    "ErrImagePull": "image can't be pulled",
    "ImagePullBackOff": "trying and failing to pull image",
}


@dataclass
class _Log:
    lines: deque[tuple[datetime, str]] = field(default_factory=lambda: deque(maxlen=_MAX_LINES))
    closed: bool = False
    followers: set[asyncio.Queue[Any]] = field(default_factory=set)


class PodLogs:
    """Log lines by container ID; call on the server's loop."""

    def __init__(self) -> None:
        self._logs: dict[str, _Log] = {}

    def append(self, container_id: str, line: str, at: datetime | None = None) -> None:
        log = self._logs.setdefault(container_id, _Log())
        entry = (at or datetime.now(timezone.utc), line)
        log.lines.append(entry)
        for queue in log.followers:
            queue.put_nowait(entry)

    def close(self, container_id: str) -> None:
        """The instance exited: followers are done."""
        log = self._logs.setdefault(container_id, _Log())
        log.closed = True
        for queue in log.followers:
            queue.put_nowait(None)
        log.followers.clear()

    def drop(self, container_id: str) -> None:
        log = self._logs.pop(container_id, None)
        if log is not None:
            for queue in log.followers:
                queue.put_nowait(None)

    def lines(self, container_id: str) -> list[tuple[datetime, str]]:
        log = self._logs.get(container_id)
        return list(log.lines) if log else []

    def follow(self, container_id: str) -> asyncio.Queue[Any] | None:
        """A queue of new ``(time, line)`` entries, ``None`` once the instance exits."""
        log = self._logs.setdefault(container_id, _Log())
        if log.closed:
            return None
        queue: asyncio.Queue[Any] = asyncio.Queue()
        log.followers.add(queue)
        return queue

    def unfollow(self, container_id: str, queue: asyncio.Queue[Any]) -> None:
        log = self._logs.get(container_id)
        if log is not None:
            log.followers.discard(queue)


def _status_of(pod: Mapping[str, Any], container: str) -> Obj:
    status = pod.get("status", {})
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for entry in status.get(key) or []:
            if entry.get("name") == container:
                return dict(entry)
    return {}


def log_container_id(pod: Mapping[str, Any], container: str, previous: bool) -> str:
    """The container instance whose log a request reads (kubelet
    ``validateContainerLogStatus``).

    :raises ApiError: 400 with the kubelet's message when there is none.
    """
    name = pod["metadata"]["name"]
    status = _status_of(pod, container)
    state, last = status.get("state") or {}, (status.get("lastState") or {}).get("terminated")
    if previous:
        if not last or not last.get("containerID"):
            raise errors.bad_request(
                f'previous terminated container "{container}" in pod "{name}" not found'
            )
        return str(last["containerID"])
    if "running" in state:
        return str(status.get("containerID", ""))
    for terminated in (state.get("terminated"), last):
        if terminated and terminated.get("containerID"):
            return str(terminated["containerID"])
    if state.get("terminated") or last:
        raise errors.bad_request(f'container "{container}" in pod "{name}" is terminated')
    waiting = state.get("waiting")
    if waiting:
        reason = waiting.get("reason", "")
        raise errors.bad_request(
            f'container "{container}" in pod "{name}" is waiting to start: '
            f"{_WAITING.get(reason, reason)}"
        )
    raise errors.bad_request(
        f'container "{container}" in pod "{name}" is waiting to start - no logs yet'
    )


def _choose_container(pod: Mapping[str, Any], query: Mapping[str, str]) -> str:
    spec, name = pod.get("spec", {}), pod["metadata"]["name"]
    names = [c.get("name", "") for c in spec.get("containers") or []]
    inits = [c.get("name", "") for c in spec.get("initContainers") or []]
    ephemeral = [c.get("name", "") for c in spec.get("ephemeralContainers") or []]
    container = query.get("container") or (names[0] if len(names) == 1 else "")
    if not container:
        message = (
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
        )
        if inits:
            message += f" or one of the init containers: [{' '.join(inits)}]"
        raise errors.bad_request(message)
    if container not in (*names, *inits, *ephemeral):
        raise errors.bad_request(f"container {container} is not valid for pod {name}")
    return container


def _number(query: Mapping[str, str], key: str, name: str) -> int | None:
    text = query.get(key)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise errors.bad_request(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None
    if value < (1 if key != "tailLines" else 0):
        bound = "greater than or equal to 0" if key == "tailLines" else "greater than 0"
        error = FieldError(ErrorType.INVALID, key, value, f"must be {bound}")
        raise errors.invalid("", "PodLogOptions", name, [error])
    return value


def _stamp(at: datetime) -> str:
    nanos = f"{at.microsecond * 1000:09d}".rstrip("0")
    return at.strftime("%Y-%m-%dT%H:%M:%S") + (f".{nanos}" if nanos else "") + "Z"


@dataclass(frozen=True)
class _Options:
    tail: int | None
    limit: int | None
    since: datetime | None
    timestamps: bool

    def render(self, entries: list[tuple[datetime, str]]) -> bytes:
        if self.since is not None:
            entries = [e for e in entries if e[0] >= self.since]
        if self.tail is not None:
            entries = entries[len(entries) - self.tail :] if self.tail else []
        text = "".join(
            (f"{_stamp(at)} " if self.timestamps else "") + line + "\n" for at, line in entries
        )
        data = text.encode()
        return data[: self.limit] if self.limit is not None else data


def _options(query: Mapping[str, str], name: str) -> _Options:
    since_seconds = _number(query, "sinceSeconds", name)
    since = parse_time(query.get("sinceTime"))
    if since_seconds is not None:
        since = datetime.now(timezone.utc) - timedelta(seconds=since_seconds)
    return _Options(
        tail=_number(query, "tailLines", name),
        limit=_number(query, "limitBytes", name),
        since=since,
        timestamps=query.get("timestamps", "").lower() in ("true", "1"),
    )


def _flag(query: Mapping[str, str], key: str) -> bool:
    return query.get(key, "").lower() in ("true", "1")


async def serve_log(
    request: web.Request, logs: PodLogs, pod: Mapping[str, Any], streams: set[Any]
) -> web.StreamResponse:
    """Answer ``GET .../pods/<name>/log`` for ``pod`` (as stored).

    :param streams: where a following reader's queue is registered while it streams, so
        the server can end it (it puts ``None`` into each on shutdown).
    """
    query = request.query
    name = pod["metadata"]["name"]
    container = _choose_container(pod, query)
    options = _options(query, name)
    if not pod.get("spec", {}).get("nodeName"):
        return web.Response(body=b"", content_type="text/plain", charset="utf-8")
    container_id = log_container_id(pod, container, _flag(query, "previous"))
    body = options.render(logs.lines(container_id))
    queue = logs.follow(container_id) if _flag(query, "follow") else None
    if queue is None:
        return web.Response(body=body, content_type="text/plain", charset="utf-8")
    response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
    streams.add(queue)
    try:
        await response.prepare(request)
        await response.write(body)
        while True:
            entry = await queue.get()
            if entry is None:
                break
            await response.write(_Options(None, None, None, options.timestamps).render([entry]))
        await response.write_eof()
    finally:
        streams.discard(queue)
        logs.unfollow(container_id, queue)
    return response
