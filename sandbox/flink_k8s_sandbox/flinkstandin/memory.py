"""A TaskManager's memory as Flink derives it from its configuration (for ``/taskmanagers``).

The stand-in runs no JVM, so it computes what Flink's ``TaskExecutorProcessUtils`` would
report in ``memoryConfiguration`` and ``totalResource``: from
``taskmanager.memory.process.size`` (or ``taskmanager.memory.flink.size``), Flink's
defaults for the other options, fractions as Java ``float`` widened to ``double`` and
products truncated toward zero, as ``MemorySize.multiply`` does. Explicit component
sizes (``taskmanager.memory.task.heap.size`` etc.) other than those below are not
derived; the options read are the ones a rendered cluster sets.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["TaskManagerMemory", "parse_memory_size", "taskmanager_memory"]

_MIB = 1 << 20
_UNITS = {
    "": 1, "b": 1, "bytes": 1,
    "k": 1 << 10, "kb": 1 << 10, "kibibytes": 1 << 10,
    "m": _MIB, "mb": _MIB, "mebibytes": _MIB,
    "g": 1 << 30, "gb": 1 << 30, "gibibytes": 1 << 30,
    "t": 1 << 40, "tb": 1 << 40, "tebibytes": 1 << 40,
}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+)\s*([a-zA-Z]*)\s*$")
_DEFAULT_PROCESS = "1728m"  # the process size Flink's shipped configuration sets


def parse_memory_size(text: str) -> int:
    """Bytes of a Flink memory size (``1728m``, ``1g``, ``512 mb``; base 1024).

    :raises ValueError: for anything else.
    """
    match = _SIZE.match(text)
    if match is None or match.group(2).lower() not in _UNITS:
        raise ValueError(f"not a memory size: {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def _float(text: str) -> float:
    """A Java ``float`` option widened to ``double`` (``0.1`` -> 0.10000000149011612)."""
    packed: float = struct.unpack("f", struct.pack("f", float(text)))[0]
    return packed


def _multiply(size: int, fraction: float) -> int:
    return int(Decimal(size) * Decimal(repr(fraction)))


@dataclass(frozen=True)
class TaskManagerMemory:
    """Each component in bytes, as ``memoryConfiguration`` names them."""

    framework_heap: int
    task_heap: int
    framework_off_heap: int
    task_off_heap: int
    network: int
    managed: int
    jvm_metaspace: int
    jvm_overhead: int
    total_flink: int
    total_process: int


def _size(conf: Mapping[str, str], key: str, default: str) -> int:
    return parse_memory_size(conf.get(key, default))


def _fraction_of(base: int, conf: Mapping[str, str], option: str, low: str, high: str) -> int:
    """``clamp(base * fraction, min, max)`` of a range-fraction option such as
    ``taskmanager.memory.network``."""
    fraction = _float(conf.get(f"{option}.fraction", "0.1"))
    minimum = _size(conf, f"{option}.min", low)
    maximum = _size(conf, f"{option}.max", high)
    return min(max(_multiply(base, fraction), minimum), maximum)


def taskmanager_memory(conf: Mapping[str, str]) -> TaskManagerMemory:
    """The memory Flink gives a TaskManager with configuration ``conf``.

    :raises ValueError: for an unreadable size.
    """
    prefix = "taskmanager.memory"
    metaspace = _size(conf, f"{prefix}.jvm-metaspace.size", "256m")
    if f"{prefix}.flink.size" in conf and f"{prefix}.process.size" not in conf:
        flink = _size(conf, f"{prefix}.flink.size", "0")
        # Overhead is a fraction of the process size: process = (flink + meta) / (1 - f).
        fraction = _float(conf.get(f"{prefix}.jvm-overhead.fraction", "0.1"))
        ratio = fraction / (1 - fraction)
        overhead = min(
            max(
                _multiply(flink + metaspace, ratio),
                _size(conf, f"{prefix}.jvm-overhead.min", "192m"),
            ),
            _size(conf, f"{prefix}.jvm-overhead.max", "1g"),
        )
        process = flink + metaspace + overhead
    else:
        process = _size(conf, f"{prefix}.process.size", _DEFAULT_PROCESS)
        overhead = _fraction_of(process, conf, f"{prefix}.jvm-overhead", "192m", "1g")
        flink = process - metaspace - overhead
    framework_heap = _size(conf, f"{prefix}.framework.heap.size", "128m")
    framework_off_heap = _size(conf, f"{prefix}.framework.off-heap.size", "128m")
    task_off_heap = _size(conf, f"{prefix}.task.off-heap.size", "0")
    network = _fraction_of(flink, conf, f"{prefix}.network", "64m", "8388607t")
    if f"{prefix}.managed.size" in conf:
        managed = _size(conf, f"{prefix}.managed.size", "0")
    else:
        managed = _multiply(flink, _float(conf.get(f"{prefix}.managed.fraction", "0.4")))
    task_heap = flink - framework_heap - framework_off_heap - task_off_heap - network - managed
    if task_heap < 0:
        raise ValueError(f"TaskManager memory {process} bytes leaves no task heap")
    return TaskManagerMemory(
        framework_heap=framework_heap,
        task_heap=task_heap,
        framework_off_heap=framework_off_heap,
        task_off_heap=task_off_heap,
        network=network,
        managed=managed,
        jvm_metaspace=metaspace,
        jvm_overhead=overhead,
        total_flink=flink,
        total_process=process,
    )
