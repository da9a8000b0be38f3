"""A TaskManager's memory: ``TaskExecutorFlinkMemoryUtils`` and ``TaskExecutorProcessUtils``.

Flink's six components (framework heap and off-heap, task heap and off-heap, network,
managed) come from the fine-grained sizes, else the total Flink size, else the total
process size; then CPU cores and slots. :class:`TaskManagerMemory` is the result, with the
JVM options and ``-D`` properties BashJavaUtils prints. Flink's own checks fail with the
prefix ``"TaskManager memory configuration failed: "``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import TYPE_CHECKING

from airflow_provider_flink_k8s.exceptions import FlinkConfigurationError
from airflow_provider_flink_k8s.resources.memory.errors import IllegalConfiguration, JavaError
from airflow_provider_flink_k8s.resources.memory.java_format import big_decimal, double_to_string
from airflow_provider_flink_k8s.resources.memory.memory_size import add, human, subtract
from airflow_provider_flink_k8s.resources.memory.options import (
    TM_CPU_CORES,
    TM_FLINK,
    TM_FRAMEWORK_HEAP,
    TM_FRAMEWORK_OFF_HEAP,
    TM_MANAGED,
    TM_MANAGED_FRACTION,
    TM_METASPACE,
    TM_NETWORK_FRACTION,
    TM_NETWORK_MAX,
    TM_NETWORK_MIN,
    TM_OPTIONS,
    TM_OVERHEAD_MAX,
    TM_OVERHEAD_MIN,
    TM_PROCESS,
    TM_SLOTS,
    TM_TASK_HEAP,
    TM_TASK_OFF_HEAP,
    Config,
)
from airflow_provider_flink_k8s.resources.memory.process import (
    RangeFraction,
    derive_with_fraction,
    derive_with_inverse_fraction,
    jvm_from_total_flink,
    jvm_from_total_process,
    missing_sizes,
    range_fraction,
)
from airflow_provider_flink_k8s.units import JAVA_LONG_MAX

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["TaskManagerMemory", "taskmanager_memory"]


@dataclass(frozen=True)
class _TaskExecutorFlinkMemory:
    framework_heap: int
    framework_off_heap: int
    task_heap: int
    task_off_heap: int
    network: int
    managed: int

    def total(self) -> int:
        return add(
            self.framework_heap,
            self.framework_off_heap,
            self.task_heap,
            self.task_off_heap,
            self.network,
            self.managed,
        )


def _network_range(config: Config) -> RangeFraction:
    minimum = config.memory(TM_NETWORK_MIN)
    maximum = config.memory(TM_NETWORK_MAX)
    return range_fraction(config, minimum, maximum, TM_NETWORK_FRACTION)


def _managed(config: Config, flink: int) -> int:
    if config.contains(TM_MANAGED):
        return config.memory(TM_MANAGED)
    rf = range_fraction(config, 0, JAVA_LONG_MAX, TM_MANAGED_FRACTION)
    return derive_with_fraction(flink, rf)


def _sum_with_task_heap_exceeds(parts: tuple[int, ...], flink: int) -> IllegalConfiguration:
    fh, fo, th, to, managed = (human(part) for part in parts)
    return IllegalConfiguration(
        f"Sum of configured Framework Heap Memory ({fh}), Framework Off-Heap Memory ({fo}), "
        f"Task Heap Memory ({th}), Task Off-Heap Memory ({to}) and Managed Memory ({managed}) "
        f"exceed configured Total Flink Memory ({human(flink)})."
    )


def _network_as_rest(config: Config, parts: tuple[int, ...], flink: int) -> int:
    """Network memory when the total Flink size and the task heap are both given."""
    if add(*parts) > flink:
        raise _sum_with_task_heap_exceeds(parts, flink)
    network = subtract(flink, add(*parts))
    try:
        rf = _network_range(config)
        if network > rf.max or network < rf.min:
            raise IllegalConfiguration("out of range")
    except IllegalConfiguration:
        raise IllegalConfiguration(
            "If Total Flink, Task Heap and (or) Managed Memory sizes are explicitly configured "
            "then the Network Memory size is the rest of the Total Flink memory after "
            "subtracting all other configured types of memory, but the derived Network Memory "
            "is inconsistent with its configuration."
        ) from None
    return network


def _check_total_flink(config: Config, memory: _TaskExecutorFlinkMemory) -> None:
    if not config.contains(TM_FLINK):
        return
    configured = config.memory(TM_FLINK)
    if configured != memory.total():
        sizes = (
            ("Framework Heap Memory", memory.framework_heap),
            ("Framework Off-Heap Memory", memory.framework_off_heap),
            ("Task Heap Memory", memory.task_heap),
            ("Task Off-Heap Memory", memory.task_off_heap),
            ("Network Memory", memory.network),
            ("Managed Memory", memory.managed),
        )
        listed = ", ".join(f"{name} ({human(size)})" for name, size in sizes)
        raise IllegalConfiguration(
            f"Configured and Derived Flink internal memory sizes (total "
            f"{human(memory.total())}) do not add up to the configured Total Flink Memory "
            f"size ({human(configured)}). Configured and Derived Flink internal memory sizes "
            f"are: {listed}."
        )


def _tm_from_fine_grained(config: Config) -> _TaskExecutorFlinkMemory:
    task_heap = config.memory(TM_TASK_HEAP)
    managed = config.memory(TM_MANAGED)
    framework_heap = config.memory(TM_FRAMEWORK_HEAP)
    framework_off_heap = config.memory(TM_FRAMEWORK_OFF_HEAP)
    task_off_heap = config.memory(TM_TASK_OFF_HEAP)
    parts = (framework_heap, framework_off_heap, task_heap, task_off_heap, managed)
    if config.contains(TM_FLINK):
        network = _network_as_rest(config, parts, config.memory(TM_FLINK))
    else:
        network = derive_with_inverse_fraction(add(*parts), _network_range(config))
    memory = _TaskExecutorFlinkMemory(
        framework_heap, framework_off_heap, task_heap, task_off_heap, network, managed
    )
    _check_total_flink(config, memory)
    return memory


def _tm_from_total_flink(config: Config, flink: int) -> _TaskExecutorFlinkMemory:
    framework_heap = config.memory(TM_FRAMEWORK_HEAP)
    framework_off_heap = config.memory(TM_FRAMEWORK_OFF_HEAP)
    task_off_heap = config.memory(TM_TASK_OFF_HEAP)
    if config.contains(TM_TASK_HEAP):
        task_heap = config.memory(TM_TASK_HEAP)
        managed = _managed(config, flink)
        parts = (framework_heap, framework_off_heap, task_heap, task_off_heap, managed)
        network = _network_as_rest(config, parts, flink)
    else:
        managed = _managed(config, flink)
        network = derive_with_fraction(flink, _network_range(config))
        others = add(framework_heap, framework_off_heap, task_off_heap, managed, network)
        if others > flink:
            fh, fo, to, mg, net = map(
                human, (framework_heap, framework_off_heap, task_off_heap, managed, network)
            )
            raise IllegalConfiguration(
                f"Sum of configured Framework Heap Memory ({fh}), Framework Off-Heap Memory "
                f"({fo}), Task Off-Heap Memory ({to}), Managed Memory ({mg}) and Network "
                f"Memory ({net}) exceed configured Total Flink Memory ({human(flink)})."
            )
        task_heap = subtract(flink, others)
    memory = _TaskExecutorFlinkMemory(
        framework_heap, framework_off_heap, task_heap, task_off_heap, network, managed
    )
    _check_total_flink(config, memory)
    return memory


def _tm_process(config: Config) -> tuple[_TaskExecutorFlinkMemory, int, int]:
    """``ProcessMemoryUtils.memoryProcessSpecFromConfig`` for a TaskExecutor."""
    if all(config.contains(option) for option in TM_OPTIONS.fine_grained):
        flink_memory = _tm_from_fine_grained(config)
        jvm = jvm_from_total_flink(config, TM_OPTIONS, flink_memory.total())
    elif config.contains(TM_FLINK):
        flink = config.memory(TM_FLINK)
        flink_memory = _tm_from_total_flink(config, flink)
        jvm = jvm_from_total_flink(config, TM_OPTIONS, flink)
    elif config.contains(TM_PROCESS):
        process = config.memory(TM_PROCESS)
        jvm = jvm_from_total_process(config, TM_OPTIONS, process)
        flink_memory = _tm_from_total_flink(config, subtract(process, add(*jvm)))
    else:
        raise missing_sizes(TM_OPTIONS)
    return flink_memory, jvm[0], jvm[1]


def _cpu_cores(config: Config) -> float:
    """``TaskExecutorProcessUtils.getCpuCoresWithFallback(config, -1.0)`` as a CPUResource."""
    if config.contains(TM_CPU_CORES):
        cores = config.double(TM_CPU_CORES)
    else:
        cores = float(config.integer(TM_SLOTS))
    if cores <= 0:  # NaN passes this check, as in Java, and fails in BigDecimal below
        raise IllegalConfiguration(
            "TaskExecutors need to be started with a positive number of CPU cores. Please "
            f"configure {TM_CPU_CORES.key} accordingly."
        )
    with localcontext() as context:
        context.prec = 1000
        value = big_decimal(cores).quantize(Decimal("1e-8"), rounding=ROUND_DOWN)
    return float(value)


@dataclass(frozen=True)
class TaskManagerMemory:
    """A TaskManager's memory, as Flink derives it (every size in bytes).

    ``total_flink`` is the sum of the six Flink components; ``total_process`` adds JVM
    metaspace and overhead and is what the container needs. ``cpu_cores`` and ``slots`` are
    the values BashJavaUtils hands the TaskManager.
    """

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
    cpu_cores: float
    slots: int

    @property
    def heap(self) -> int:
        """JVM heap (``-Xmx`` and ``-Xms``): framework heap + task heap."""
        return self.framework_heap + self.task_heap

    @property
    def direct(self) -> int:
        """JVM direct memory limit: framework off-heap + task off-heap + network."""
        return self.framework_off_heap + self.task_off_heap + self.network

    def jvm_args(self) -> str:
        """The JVM options Flink's ``taskmanager.sh`` passes (BashJavaUtils' first line)."""
        return (
            f"-Xmx{self.heap} -Xms{self.heap} -XX:MaxDirectMemorySize={self.direct} "
            f"-XX:MaxMetaspaceSize={self.jvm_metaspace}"
        )

    def dynamic_properties(self) -> dict[str, str]:
        """The ``-D key=value`` pairs of BashJavaUtils' second line."""
        return {
            TM_CPU_CORES.key: double_to_string(self.cpu_cores),
            TM_FRAMEWORK_HEAP.key: f"{self.framework_heap}b",
            TM_FRAMEWORK_OFF_HEAP.key: f"{self.framework_off_heap}b",
            TM_TASK_HEAP.key: f"{self.task_heap}b",
            TM_TASK_OFF_HEAP.key: f"{self.task_off_heap}b",
            TM_NETWORK_MIN.key: f"{self.network}b",
            TM_NETWORK_MAX.key: f"{self.network}b",
            TM_MANAGED.key: f"{self.managed}b",
            TM_METASPACE.key: f"{self.jvm_metaspace}b",
            TM_OVERHEAD_MIN.key: f"{self.jvm_overhead}b",
            TM_OVERHEAD_MAX.key: f"{self.jvm_overhead}b",
            TM_SLOTS.key: str(self.slots),
            "external-resources": "none",
        }


def _taskmanager_memory(config: Config) -> TaskManagerMemory:
    try:
        flink, metaspace, overhead = _tm_process(config)
        cpu_cores = _cpu_cores(config)
        slots = config.integer(TM_SLOTS)
    except IllegalConfiguration as exc:
        raise IllegalConfiguration(f"TaskManager memory configuration failed: {exc}") from None
    total_flink = flink.total()
    return TaskManagerMemory(
        framework_heap=flink.framework_heap,
        task_heap=flink.task_heap,
        framework_off_heap=flink.framework_off_heap,
        task_off_heap=flink.task_off_heap,
        network=flink.network,
        managed=flink.managed,
        jvm_metaspace=metaspace,
        jvm_overhead=overhead,
        total_flink=total_flink,
        total_process=add(total_flink, metaspace, overhead),
        cpu_cores=cpu_cores,
        slots=slots,
    )


def taskmanager_memory(config: Mapping[str, str]) -> TaskManagerMemory:
    """Derive a TaskManager's memory from a Flink configuration, as Flink 2.3 does.

    :param config: Flink keys to string values, e.g.
        ``{"taskmanager.memory.process.size": "4096m"}``; unrelated keys are ignored.
    :raises FlinkConfigurationError: when Flink would refuse the configuration; the message
        is Flink's (``TaskManager memory configuration failed: ...`` for its checks).
    :return: every component in bytes, plus CPU cores and slots as BashJavaUtils passes them.
    """
    try:
        return _taskmanager_memory(Config(config))
    except JavaError as exc:
        raise FlinkConfigurationError(str(exc)) from None
