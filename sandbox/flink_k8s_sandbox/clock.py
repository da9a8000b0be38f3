"""Time for the workload controllers: knobs, timers on the server's loop, back-off.

Controllers react to store events, but much of what they simulate is driven by time:
a container starts after a delay, a probe runs every period, a crashed container waits
out its back-off, a Deployment's progress deadline passes. :class:`Timers` runs such
work on the server's event loop (where every write happens); :class:`WorkQueue` gives
a controller the de-duplicating queue of keys real controllers have; :class:`Backoff`
is the kubelet's per-container exponential back-off; :class:`Timing` holds the knobs
tests turn down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["Backoff", "Timers", "Timing", "WorkQueue", "go_duration"]

K = TypeVar("K", bound=Hashable)
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timing:
    """How fast simulated time passes (seconds).

    :param start_delay: a simulated container's ``ContainerCreating`` time (and an image
        pull's time, when one happens).
    :param backoff_base: the first restart / image pull back-off (kubelet: 10 s).
    :param backoff_max: the back-off cap (kubelet: 5 min).
    :param probe_scale: multiplies probes' ``initialDelaySeconds`` and ``periodSeconds``
        (``0.1`` makes a 10 s period 1 s).
    :param stop_delay: how long a simulated container takes to exit on SIGTERM.
    """

    start_delay: float = 0.2
    backoff_base: float = 10.0
    backoff_max: float = 300.0
    probe_scale: float = 1.0
    stop_delay: float = 0.0


class Timers:
    """Callbacks and tasks on one event loop, all cancelled by :meth:`close`.

    :param loop: the server's loop; every callback runs on it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._handles: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def monotonic(self) -> float:
        return self.loop.time()

    def soon(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the loop after the current work (exceptions are logged)."""
        if not self._closed:
            self.loop.call_soon(self._run, callback)

    def later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle | None:
        """Run ``callback`` after ``delay`` seconds; the handle can cancel it."""
        if self._closed:
            return None
        handle: asyncio.TimerHandle | None = None

        def fire() -> None:
            if handle is not None:
                self._handles.discard(handle)
            self._run(callback)

        handle = self.loop.call_later(max(0.0, delay), fire)
        self._handles.add(handle)
        return handle

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str = "") -> asyncio.Task[Any]:
        """Run ``coroutine`` as a task; it is cancelled on :meth:`close`, errors are logged."""
        task = self.loop.create_task(coroutine, name=name or None)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        if self._closed:
            task.cancel()
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOG.error("sandbox task %s failed", task.get_name(), exc_info=task.exception())

    @staticmethod
    def _run(callback: Callable[[], None]) -> None:
        try:
            callback()
        except Exception:
            _LOG.exception("sandbox timer callback %r failed", callback)

    async def close(self) -> None:
        """Cancel every pending callback and task and wait for the tasks to end."""
        self._closed = True
        for handle in list(self._handles):
            handle.cancel()
        self._handles.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10)


class WorkQueue(Generic[K]):
    """Keys to process, each at most once per round, as a controller's work queue.

    :param timers: where processing is scheduled.
    :param process: called with each key; it re-reads the state it needs.
    """

    def __init__(self, timers: Timers, process: Callable[[K], None]) -> None:
        self._timers = timers
        self._process = process
        self._dirty: dict[K, None] = {}
        self._scheduled = False
        self._delayed: dict[K, tuple[float, asyncio.TimerHandle | None]] = {}

    def add(self, key: K) -> None:
        self._dirty[key] = None
        if not self._scheduled:
            self._scheduled = True
            self._timers.soon(self._drain)

    def add_after(self, delay: float, key: K) -> None:
        """Add ``key`` after ``delay`` seconds (an earlier pending request wins)."""
        due = self._timers.monotonic() + delay
        pending = self._delayed.get(key)
        if pending is not None and pending[0] <= due:
            return
        if pending is not None and pending[1] is not None:
            pending[1].cancel()

        def fire() -> None:
            self._delayed.pop(key, None)
            self.add(key)

        self._delayed[key] = (due, self._timers.later(delay, fire))

    def _drain(self) -> None:
        self._scheduled = False
        while self._dirty:
            key = next(iter(self._dirty))
            del self._dirty[key]
            try:
                self._process(key)
            except Exception:
                _LOG.exception("sandbox controller failed on %r", key)


class Backoff:
    """The kubelet's back-off per key (client-go ``flowcontrol.Backoff`` without jitter):
    ``base`` doubling to ``cap``, starting over when the failure comes more than
    ``2 * cap`` after the last update. Times are monotonic seconds."""

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap
        self._entries: dict[Hashable, tuple[float, float]] = {}  # key -> (delay, last update)

    def _expired(self, entry: tuple[float, float], event_time: float) -> bool:
        return event_time - entry[1] > 2 * self.cap

    def next(self, key: Hashable, event_time: float, now: float) -> float:
        """Record a failure seen at ``event_time``; return the new delay."""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, event_time):
            delay = self.base
        else:
            delay = min(entry[0] * 2, self.cap)
        self._entries[key] = (delay, now)
        return delay

    def get(self, key: Hashable) -> float:
        entry = self._entries.get(key)
        return entry[0] if entry else 0.0

    def in_backoff_since(self, key: Hashable, event_time: float, now: float) -> bool:
        """Whether less than the current delay has passed since ``event_time``."""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, event_time):
            return False
        return now - event_time < entry[0]

    def in_backoff_since_update(self, key: Hashable, now: float) -> bool:
        """Whether less than the current delay has passed since the last failure."""
        entry = self._entries.get(key)
        return entry is not None and now - entry[1] < entry[0]

    def remaining(self, key: Hashable, now: float) -> float:
        """How much of the current delay is left, counted from the last failure."""
        entry = self._entries.get(key)
        return max(0.0, entry[0] - (now - entry[1])) if entry else 0.0

    def forget(self, key: Hashable) -> None:
        self._entries.pop(key, None)


def go_duration(seconds: float) -> str:
    """A duration as Go's ``time.Duration.String`` prints it: ``10s``, ``1m20s``, ``200ms``."""
    if seconds == 0:
        return "0s"
    nanos = round(seconds * 1e9)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size:
                return f"{_trim(nanos / size)}{unit}"
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = f"{_trim(rest / 1e9)}s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return text


def _trim(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".")
