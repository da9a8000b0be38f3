"""Watch streams: newline-delimited JSON events over one chunked HTTP response.

Start semantics follow the API server: no resourceVersion (or ``"0"``) sends a synthetic
ADDED per current match, then changes; ``resourceVersion=N`` replays retained changes
after N (an in-band ``ERROR`` 410 Expired when they are gone); ``sendInitialEvents=true``
(watch-list, what client-go's reflector and ``kubectl wait``/``delete --wait`` use)
streams the current state then a BOOKMARK annotated ``k8s.io/initial-events-end``.
Selector-filtered watches see objects leaving the selection as DELETED and entering it
as ADDED. BOOKMARKs go out every ``bookmark_interval`` and just before
``timeoutSeconds`` closes the stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.listing import Selection
from flink_k8s_sandbox.options import ListOptions
from flink_k8s_sandbox.resources import ResourceType
from flink_k8s_sandbox.state import ApiState
from flink_k8s_sandbox.store import HistoryExpired, StoreEvent

__all__ = ["INITIAL_EVENTS_END", "filter_event", "serve_watch"]

Obj = dict[str, Any]
INITIAL_EVENTS_END = "k8s.io/initial-events-end"
_LINE_CACHE_LIMIT = 4096
_TICK = "tick"


def filter_event(event: StoreEvent, selected: Selection) -> str | None:
    """The event type a selection-filtered watcher gets for ``event`` (``None``: nothing)."""
    now = selected.matches(event.obj)
    if event.type != "MODIFIED":
        return event.type if now else None
    before = event.old is not None and selected.matches(event.old)
    if before and now:
        return "MODIFIED"
    if before:
        return "DELETED"
    return "ADDED" if now else None


def _line(event_type: str, obj: Obj) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _event_line(state: ApiState, rt: ResourceType, event_type: str, event: StoreEvent) -> bytes:
    key = (event.rv, event_type, rt.api_version)
    line = state.line_cache.get(key)
    if line is None:
        if len(state.line_cache) >= _LINE_CACHE_LIMIT:
            state.line_cache.clear()
        obj = {**event.obj, "apiVersion": rt.api_version, "kind": rt.kind}
        line = state.line_cache[key] = _line(event_type, obj)
    return line


def _bookmark(rt: ResourceType, rv: int, initial_end: bool = False) -> bytes:
    metadata: Obj = {"resourceVersion": str(rv)}
    if initial_end:
        metadata["annotations"] = {INITIAL_EVENTS_END: "true"}
    return _line("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": metadata})


def _snapshot(rt: ResourceType, objects: Iterable[Obj], selected: Selection) -> list[bytes]:
    return [
        _line("ADDED", {**obj, "apiVersion": rt.api_version, "kind": rt.kind})
        for obj in objects
        if selected.matches(obj)
    ]


def _start_version(opts: ListOptions) -> int | None:
    if opts.resource_version in ("", "0"):
        return None
    try:
        return int(opts.resource_version)
    except ValueError:
        raise errors.bad_request(f"invalid resource version: {opts.resource_version}") from None


def initial_lines(
    state: ApiState, rt: ResourceType, selected: Selection, opts: ListOptions
) -> tuple[list[bytes], int, bool]:
    """What a new watch sends first: ``(lines, last resourceVersion covered, ended)``."""
    current = state.store.resource_version
    objects = state.store.objects(rt.storage_key, selected.namespace)
    start = _start_version(opts)
    if opts.send_initial_events:
        lines = _snapshot(rt, objects, selected)
        return [*lines, _bookmark(rt, current, initial_end=True)], current, False
    if start is None:
        lines = [] if opts.send_initial_events is False else _snapshot(rt, objects, selected)
        return lines, current, False
    try:
        history = state.store.events_since(rt.storage_key, start)
    except HistoryExpired as gone:
        status = errors.expired(str(gone)).status
        return [_line("ERROR", status)], current, True
    lines = []
    for event in history:
        event_type = filter_event(event, selected)
        if event_type is not None:
            lines.append(_event_line(state, rt, event_type, event))
    return lines, max(current, start), False


async def serve_watch(
    request: web.Request, state: ApiState, rt: ResourceType, selected: Selection, opts: ListOptions
) -> web.StreamResponse:
    """Stream watch events until ``timeoutSeconds``, the client leaves, or the server stops."""
    queue: asyncio.Queue[StoreEvent | str | None] = asyncio.Queue()
    unsubscribe = state.store.subscribe(queue.put_nowait, rt.storage_key)
    state.watch_queues.add(queue)
    try:
        lines, last_rv, ended = initial_lines(state, rt, selected, opts)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        if lines:
            await response.write(b"".join(lines))
        if not ended:
            await _pump(response, queue, state, rt, selected, opts, last_rv)
        await response.write_eof()
        return response
    finally:
        unsubscribe()
        state.watch_queues.discard(queue)


async def _pump(
    response: web.StreamResponse,
    queue: asyncio.Queue[StoreEvent | str | None],
    state: ApiState,
    rt: ResourceType,
    selected: Selection,
    opts: ListOptions,
    last_rv: int,
) -> None:
    """Forward events until the deadline; timers put ``_TICK`` in the queue (no per-event
    timeout, which would cost a task per event and watcher)."""
    loop = asyncio.get_running_loop()
    timeout = opts.timeout_seconds if opts.timeout_seconds else state.watch.default_timeout
    deadline = loop.time() + timeout
    interval = state.watch.bookmark_interval
    next_bookmark = loop.time() + interval if opts.allow_bookmarks else deadline
    timer = loop.call_at(min(deadline, next_bookmark), queue.put_nowait, _TICK)
    try:
        while True:
            item = await queue.get()
            if item is None:
                return
            if isinstance(item, StoreEvent):
                if item.rv > last_rv:
                    event_type = filter_event(item, selected)
                    if event_type is not None:
                        await response.write(_event_line(state, rt, event_type, item))
                    last_rv = item.rv
                continue
            if opts.allow_bookmarks:
                await response.write(_bookmark(rt, max(last_rv, state.store.resource_version)))
                next_bookmark = loop.time() + interval
            if loop.time() >= deadline:
                return
            timer = loop.call_at(min(deadline, next_bookmark), queue.put_nowait, _TICK)
    finally:
        timer.cancel()
