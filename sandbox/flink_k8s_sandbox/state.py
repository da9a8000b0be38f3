"""What the HTTP layer shares: the store, the storage pipeline, types, watch settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from flink_k8s_sandbox.podlogs import PodLogs
from flink_k8s_sandbox.resources import ResourceRegistry
from flink_k8s_sandbox.storage import Storage
from flink_k8s_sandbox.store import Store

__all__ = ["ApiState", "WatchSettings"]


@dataclass(frozen=True)
class WatchSettings:
    """Watch timing.

    :param bookmark_interval: seconds between BOOKMARKs on watches that allow them.
    :param default_timeout: how long a watch without ``timeoutSeconds`` stays open (real
        servers pick 30-60 minutes).
    """

    bookmark_interval: float = 60.0
    default_timeout: float = 1800.0


@dataclass
class ApiState:
    """The sandbox's API state, shared by every request handler."""

    store: Store
    storage: Storage
    registry: ResourceRegistry
    watch: WatchSettings = field(default_factory=WatchSettings)
    host: str = "127.0.0.1"
    port: int = 0
    watch_queues: set[asyncio.Queue[Any]] = field(default_factory=set)
    line_cache: dict[tuple[int, str, str], bytes] = field(default_factory=dict)
    logs: PodLogs = field(default_factory=PodLogs)
    """Container logs by container ID, written by the kubelet (:mod:`.podlogs`)."""

    def close_watches(self) -> None:
        """End every open watch stream (the server is stopping)."""
        for queue in list(self.watch_queues):
            queue.put_nowait(None)
