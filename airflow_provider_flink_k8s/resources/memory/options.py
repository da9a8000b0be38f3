"""Flink's memory configuration options, and how Flink's ``Configuration`` reads them.

An :class:`Option` is a ``ConfigOption`` (key, default as Java prints it, deprecated
fallback keys). :class:`Config` reads options from the string values Flink receives: the
key first, then its deprecated keys, then the default; each type parsed the Java way and
refused with Flink's message. :class:`ProcessOptions` names the keys ``ProcessMemoryUtils``
reads for a TaskManager (:data:`TM_OPTIONS`) or a JobManager (:data:`JM_OPTIONS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from airflow_provider_flink_k8s.resources.memory.errors import (
    IllegalConfiguration,
    JavaError,
    NumberFormat,
)
from airflow_provider_flink_k8s.resources.memory.java_parse import (
    BINARY32,
    BINARY64,
    parse_java_boolean,
    parse_java_float,
    parse_java_int,
)
from airflow_provider_flink_k8s.units import JAVA_LONG_MAX, QuantityError, parse_flink_memory

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

_T = TypeVar("_T")

__all__ = [
    "Config",
    "JM_DIRECT_LIMIT",
    "JM_FLINK",
    "JM_HEAP",
    "JM_METASPACE",
    "JM_OFF_HEAP",
    "JM_OPTIONS",
    "JM_OVERHEAD_FRACTION",
    "JM_OVERHEAD_MAX",
    "JM_OVERHEAD_MIN",
    "JM_PROCESS",
    "Option",
    "ProcessOptions",
    "TM_CPU_CORES",
    "TM_FLINK",
    "TM_FRAMEWORK_HEAP",
    "TM_FRAMEWORK_OFF_HEAP",
    "TM_MANAGED",
    "TM_MANAGED_FRACTION",
    "TM_METASPACE",
    "TM_NETWORK_FRACTION",
    "TM_NETWORK_MAX",
    "TM_NETWORK_MIN",
    "TM_OPTIONS",
    "TM_OVERHEAD_FRACTION",
    "TM_OVERHEAD_MAX",
    "TM_OVERHEAD_MIN",
    "TM_PROCESS",
    "TM_SLOTS",
    "TM_TASK_HEAP",
    "TM_TASK_OFF_HEAP",
]


@dataclass(frozen=True)
class Option:
    """A ConfigOption: key, deprecated fallback keys, default (as Java prints it)."""

    key: str
    default: str | None = None
    deprecated: tuple[str, ...] = ()

    def __str__(self) -> str:
        """``ConfigOption.toString``, which Flink puts into some messages."""
        keys = ", ".join(f"{{key={key}, isDeprecated=true}}" for key in self.deprecated)
        default = "null" if self.default is None else self.default
        return f"Key: '{self.key}' , default: {default} (fallback keys: [{keys}])"


TM_PROCESS = Option("taskmanager.memory.process.size")
TM_FLINK = Option("taskmanager.memory.flink.size")
TM_FRAMEWORK_HEAP = Option("taskmanager.memory.framework.heap.size", "128m")
TM_FRAMEWORK_OFF_HEAP = Option("taskmanager.memory.framework.off-heap.size", "128m")
TM_TASK_HEAP = Option("taskmanager.memory.task.heap.size")
TM_TASK_OFF_HEAP = Option("taskmanager.memory.task.off-heap.size", "0b")
TM_MANAGED = Option("taskmanager.memory.managed.size", deprecated=("taskmanager.memory.size",))
TM_MANAGED_FRACTION = Option("taskmanager.memory.managed.fraction", "0.4")
TM_NETWORK_MIN = Option(
    "taskmanager.memory.network.min", "64m", ("taskmanager.network.memory.min",)
)
TM_NETWORK_MAX = Option(
    "taskmanager.memory.network.max", str(JAVA_LONG_MAX), ("taskmanager.network.memory.max",)
)
TM_NETWORK_FRACTION = Option(
    "taskmanager.memory.network.fraction", "0.1", ("taskmanager.network.memory.fraction",)
)
TM_METASPACE = Option("taskmanager.memory.jvm-metaspace.size", "256m")
TM_OVERHEAD_MIN = Option("taskmanager.memory.jvm-overhead.min", "192m")
TM_OVERHEAD_MAX = Option("taskmanager.memory.jvm-overhead.max", "1g")
TM_OVERHEAD_FRACTION = Option("taskmanager.memory.jvm-overhead.fraction", "0.1")
TM_CPU_CORES = Option("taskmanager.cpu.cores")
TM_SLOTS = Option("taskmanager.numberOfTaskSlots", "1")

JM_PROCESS = Option("jobmanager.memory.process.size")
JM_FLINK = Option("jobmanager.memory.flink.size")
JM_HEAP = Option("jobmanager.memory.heap.size")
JM_OFF_HEAP = Option("jobmanager.memory.off-heap.size", "128m")
JM_METASPACE = Option("jobmanager.memory.jvm-metaspace.size", "256m")
JM_OVERHEAD_MIN = Option("jobmanager.memory.jvm-overhead.min", "192m")
JM_OVERHEAD_MAX = Option("jobmanager.memory.jvm-overhead.max", "1g")
JM_OVERHEAD_FRACTION = Option("jobmanager.memory.jvm-overhead.fraction", "0.1")
JM_DIRECT_LIMIT = Option("jobmanager.memory.enable-jvm-direct-memory-limit", "false")


class Config:
    """Flink's ``Configuration`` over string values: key first, then deprecated keys."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def contains(self, option: Option) -> bool:
        return self._raw(option) is not None

    def _raw(self, option: Option) -> str | None:
        for key in (option.key, *option.deprecated):
            if key in self._values:
                return str(self._values[key])
        return None

    def _typed(self, option: Option, parse: Callable[[str], _T]) -> _T | None:
        raw = self._raw(option)
        if raw is None:
            return None if option.default is None else parse(option.default)
        try:
            return parse(raw)
        except (NumberFormat, QuantityError, ValueError):
            raise JavaError(f"Could not parse value '{raw}' for key '{option.key}'.") from None

    def _required(self, option: Option, parse: Callable[[str], _T]) -> _T:
        value = self._typed(option, parse)
        if value is None:  # only options with a default are read this way
            raise JavaError(f"No value for '{option.key}'.")
        return value

    def memory(self, option: Option) -> int:
        """``ProcessMemoryUtils.getMemorySizeFromConfig``: any failure is this one message."""
        try:
            value = self._typed(option, parse_flink_memory)
        except JavaError:
            value = None
        if value is None:
            raise IllegalConfiguration(
                f"Cannot read memory size from config option '{option.key}'."
            )
        return value

    def fraction(self, option: Option) -> float:
        """A float option, widened to double."""
        return self._required(option, lambda text: parse_java_float(text, BINARY32))

    def double(self, option: Option) -> float:
        return self._required(option, lambda text: parse_java_float(text, BINARY64))

    def integer(self, option: Option) -> int:
        return self._required(option, parse_java_int)

    def boolean(self, option: Option) -> bool:
        return self._required(option, parse_java_boolean)


@dataclass(frozen=True)
class ProcessOptions:
    """``ProcessMemoryOptions``: which keys a process (TM or JM) reads."""

    fine_grained: tuple[Option, ...]
    total_flink: Option
    total_process: Option
    metaspace: Option
    overhead_min: Option
    overhead_max: Option
    overhead_fraction: Option


TM_OPTIONS = ProcessOptions(
    (TM_TASK_HEAP, TM_MANAGED),
    TM_FLINK,
    TM_PROCESS,
    TM_METASPACE,
    TM_OVERHEAD_MIN,
    TM_OVERHEAD_MAX,
    TM_OVERHEAD_FRACTION,
)
"""The options of a TaskManager's process memory."""
JM_OPTIONS = ProcessOptions(
    (JM_HEAP,),
    JM_FLINK,
    JM_PROCESS,
    JM_METASPACE,
    JM_OVERHEAD_MIN,
    JM_OVERHEAD_MAX,
    JM_OVERHEAD_FRACTION,
)
"""The options of a JobManager's process memory."""
