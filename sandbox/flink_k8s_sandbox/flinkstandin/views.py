"""The cluster-wide answers of a stand-in JobManager in Flink 2.x's JSON: ``/config``,
``/overview``, ``/taskmanagers``, ``/jobmanager/config`` (pure functions of its state).

A TaskManager (:class:`RegisteredTaskManager`) is what the JobManager learnt when it
registered: its address, slots and configured memory. Slots are handed to the running
jobs in registration order (``freeSlots``); ``freeResource`` is the total less the busy
slots' equal shares, as Flink's default slot profile divides a TaskManager.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flink_k8s_sandbox.flinkstandin.memory import TaskManagerMemory

__all__ = [
    "RegisteredTaskManager",
    "cluster_overview",
    "dashboard_config",
    "jobmanager_config",
    "taskmanagers_json",
]

_MIB = 1 << 20


@dataclass(frozen=True)
class RegisteredTaskManager:
    """A TaskManager as its JobManager knows it.

    :param id: Flink's resource id (``<pod ip>:<rpc port>-<6 hex>``).
    :param address: the pod IP.
    :param registered_ms: when it registered (its pod turned Ready).
    """

    id: str
    address: str
    rpc_port: int
    data_port: int
    slots: int
    cpu_cores: float
    memory: TaskManagerMemory
    registered_ms: int


def _revision(version: str) -> str:
    return f"sandbox-{version}"


def dashboard_config(flink_version: str) -> dict[str, Any]:
    """``GET /config``."""
    return {
        "refresh-interval": 3000,
        "timezone-name": "Coordinated Universal Time",
        "timezone-offset": 0,
        "flink-version": flink_version,
        "flink-revision": f"{_revision(flink_version)} @ simulated",
        "features": {
            "web-submit": True,
            "web-cancel": True,
            "web-rescale": True,
            "web-history": False,
        },
    }


def cluster_overview(
    taskmanagers: Sequence[RegisteredTaskManager],
    used_slots: int,
    job_states: Sequence[str],
    flink_version: str,
) -> dict[str, Any]:
    """``GET /overview``."""
    total = sum(tm.slots for tm in taskmanagers)

    def count(*states: str) -> int:
        return sum(1 for state in job_states if state in states)

    return {
        "taskmanagers": len(taskmanagers),
        "slots-total": total,
        "slots-available": max(total - used_slots, 0),
        "jobs-running": count("INITIALIZING", "CREATED", "RUNNING", "RESTARTING", "CANCELLING"),
        "jobs-finished": count("FINISHED"),
        "jobs-cancelled": count("CANCELED"),
        "jobs-failed": count("FAILED"),
        "flink-version": flink_version,
        "flink-commit": _revision(flink_version),
    }


def _resource(tm: RegisteredTaskManager, share: float) -> dict[str, Any]:
    memory = tm.memory
    return {
        "cpuCores": round(tm.cpu_cores * share, 6),
        "taskHeapMemory": int(memory.task_heap * share) // _MIB,
        "taskOffHeapMemory": int(memory.task_off_heap * share) // _MIB,
        "managedMemory": int(memory.managed * share) // _MIB,
        "networkMemory": int(memory.network * share) // _MIB,
        "extendedResources": {},
    }


def _host_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def taskmanagers_json(
    taskmanagers: Sequence[RegisteredTaskManager], used_slots: int
) -> dict[str, Any]:
    """``GET /taskmanagers``; the busy slots are counted from the first TaskManager on."""
    entries = []
    busy_left = used_slots
    for tm in taskmanagers:
        busy = min(busy_left, tm.slots)
        busy_left -= busy
        memory = tm.memory
        entries.append(
            {
                "id": tm.id,
                "path": f"pekko.tcp://flink@{tm.address}:{tm.rpc_port}/user/rpc/taskmanager_0",
                "dataPort": tm.data_port,
                "jmxPort": -1,
                "timeSinceLastHeartbeat": tm.registered_ms,
                "slotsNumber": tm.slots,
                "freeSlots": tm.slots - busy,
                "assignedTasks": 0,
                "totalResource": _resource(tm, 1.0),
                "freeResource": _resource(tm, (tm.slots - busy) / tm.slots if tm.slots else 0.0),
                "hardware": {
                    # What a TaskManager on this machine reports: the host's cores and memory.
                    "cpuCores": os.cpu_count() or 1,
                    "physicalMemory": _host_memory(),
                    "freeMemory": memory.framework_heap + memory.task_heap,
                    "managedMemory": memory.managed,
                },
                "memoryConfiguration": {
                    "frameworkHeap": memory.framework_heap,
                    "taskHeap": memory.task_heap,
                    "frameworkOffHeap": memory.framework_off_heap,
                    "taskOffHeap": memory.task_off_heap,
                    "networkMemory": memory.network,
                    "managedMemory": memory.managed,
                    "jvmMetaspace": memory.jvm_metaspace,
                    "jvmOverhead": memory.jvm_overhead,
                    "totalFlinkMemory": memory.total_flink,
                    "totalProcessMemory": memory.total_process,
                },
            }
        )
    return {"taskmanagers": entries}


def jobmanager_config(configuration: Mapping[str, str]) -> list[dict[str, str]]:
    """``GET /jobmanager/config``: the JobManager's configuration as key/value pairs."""
    return [{"key": key, "value": str(value)} for key, value in configuration.items()]
