"""No Flink process outlives the Python process that started it.

Three layers, because each covers a way the others fail:

1. **Die with the parent** (Linux): each child calls ``prctl(PR_SET_PDEATHSIG,
   SIGKILL)`` between ``fork`` and ``exec``, so the kernel kills it when its parent goes,
   however the parent goes -- ``SIGKILL``, a segfault, an OOM kill. The kernel ties the
   signal to the *thread* that forked, not the process, so every child is forked by one
   long-lived daemon thread (:func:`spawn`), never by a short-lived worker thread. A child
   whose parent died before ``prctl`` ran (``getppid()`` changed) kills itself.
2. **atexit**: on a normal interpreter exit, :func:`stop_all` sends ``SIGTERM`` to every
   registered process group, waits, then sends ``SIGKILL``.
3. **Process groups**: each child starts its own session (``start_new_session``), so a
   terminal's Ctrl-C does not reach it half-way, and stopping kills the whole group.

On platforms without ``prctl`` only layers 2 and 3 apply.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import functools
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "Reapable",
    "kill_group",
    "live_processes",
    "register",
    "spawn",
    "stop_all",
    "unregister",
]

_PR_SET_PDEATHSIG = 1


class Reapable(Protocol):
    """What the registry needs of a process handle."""

    @property
    def pid(self) -> int: ...

    def is_alive(self) -> bool: ...

    def stop(self, grace_seconds: float = ...) -> int | None: ...


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None
    prctl: Callable[..., int] = libc.prctl
    return prctl


# Loaded in the parent: the child between fork and exec must not load libraries.
_PRCTL = _load_prctl()


def _die_with_parent(parent_pid: int) -> None:
    """``preexec_fn``: ask for ``SIGKILL`` when the forking thread dies."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent is gone already
            os.kill(os.getpid(), signal.SIGKILL)


class _Spawner:
    """One daemon thread that forks every child (see layer 1 in the module docstring)."""

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[
            tuple[Callable[[], subprocess.Popen[bytes]], Future[subprocess.Popen[bytes]]]
        ] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while True:
            start, future = self._requests.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(start())
                except BaseException as exc:  # handed to the caller, who re-raises it
                    future.set_exception(exc)

    def submit(self, start: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="flink-spawner", daemon=True)
                self._thread.start()
        future: Future[subprocess.Popen[bytes]] = Future()
        self._requests.put((start, future))
        return future.result()


_SPAWNER = _Spawner()
_LIVE: dict[int, Reapable] = {}
_LIVE_LOCK = threading.Lock()


def spawn(command: list[str], **popen_args: Any) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, killed when this process dies.

    :param popen_args: passed to :class:`subprocess.Popen` (``cwd``, ``env``, ``stdout``...).
    """
    preexec = functools.partial(_die_with_parent, os.getpid())
    return _SPAWNER.submit(
        lambda: subprocess.Popen(command, start_new_session=True, preexec_fn=preexec, **popen_args)
    )


def register(process: Reapable) -> None:
    """Track a started process until :func:`unregister` (or exit)."""
    with _LIVE_LOCK:
        _LIVE[process.pid] = process


def unregister(process: Reapable) -> None:
    with _LIVE_LOCK:
        if _LIVE.get(process.pid) is process:
            del _LIVE[process.pid]


def live_processes() -> tuple[Reapable, ...]:
    """The registered processes that are still running."""
    with _LIVE_LOCK:
        return tuple(process for process in _LIVE.values() if process.is_alive())


def kill_group(pid: int, sig: signal.Signals) -> None:
    """Signal the process group led by ``pid`` (each child leads its own); ignore if gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def stop_all(grace_seconds: float = 10.0) -> None:
    """Stop every registered process: ``SIGTERM`` to all at once, ``SIGKILL`` after the grace."""
    with _LIVE_LOCK:
        processes = list(_LIVE.values())
    for process in processes:
        kill_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    for process in processes:
        process.stop(max(0.0, deadline - time.monotonic()))


atexit.register(stop_all, 5.0)
