"""A JobManager's memory: ``JobManagerFlinkMemoryUtils`` and ``JobManagerProcessUtils``.

JVM heap and off-heap memory come from the configured heap size, else the total Flink
size, else the total process size. :class:`JobManagerMemory` is the result, with the JVM
options and ``-D`` properties BashJavaUtils prints. Flink 2.3 reports JobManager failures
without the prefix the TaskManager path has, and so does :func:`jobmanager_memory`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_provider_flink_k8s.exceptions import FlinkConfigurationError
from airflow_provider_flink_k8s.resources.memory.errors import IllegalConfiguration, JavaError
from airflow_provider_flink_k8s.resources.memory.memory_size import add, human, subtract
from airflow_provider_flink_k8s.resources.memory.options import (
    JM_DIRECT_LIMIT,
    JM_FLINK,
    JM_HEAP,
    JM_METASPACE,
    JM_OFF_HEAP,
    JM_OPTIONS,
    JM_OVERHEAD_MAX,
    JM_OVERHEAD_MIN,
    JM_PROCESS,
    Config,
)
from airflow_provider_flink_k8s.resources.memory.process import (
    jvm_from_total_flink,
    jvm_from_total_process,
    missing_sizes,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["JobManagerMemory", "jobmanager_memory"]


def _jm_from_fine_grained(config: Config) -> tuple[int, int]:
    """(heap, off-heap) when the JVM heap is given."""
    heap = config.memory(JM_HEAP)
    off_heap = config.memory(JM_OFF_HEAP)
    if not config.contains(JM_FLINK):
        return heap, off_heap
    flink = config.memory(JM_FLINK)
    if config.contains(JM_OFF_HEAP):
        if add(heap, off_heap) != flink:
            raise IllegalConfiguration(
                f"Sum of the configured JVM Heap Memory ({human(heap)}) and the configured "
                f"Off-heap Memory ({human(off_heap)}) does not match the configured Total "
                f"Flink Memory ({human(flink)}). Please, make the configuration consistent "
                "or configure only one option: either JVM Heap or Total Flink Memory."
            )
        return heap, off_heap
    if flink < heap:
        raise IllegalConfiguration(
            f"The configured JVM Heap Memory ({human(heap)}) exceeds the configured Total "
            f"Flink Memory ({human(flink)}). Please, make the configuration consistent or "
            "configure only one option: either JVM Heap or Total Flink Memory."
        )
    return heap, subtract(flink, heap)


def _jm_from_total_flink(config: Config, flink: int) -> tuple[int, int]:
    off_heap = config.memory(JM_OFF_HEAP)
    if flink <= off_heap:
        raise IllegalConfiguration(
            f"The configured Total Flink Memory ({human(flink)}) is less than the configured "
            f"Off-heap Memory ({human(off_heap)})."
        )
    return subtract(flink, off_heap), off_heap


def _jm_process(config: Config) -> tuple[int, int, int, int]:
    """(heap, off-heap, metaspace, overhead) for a JobManager."""
    if config.contains(JM_HEAP):
        heap, off_heap = _jm_from_fine_grained(config)
        jvm = jvm_from_total_flink(config, JM_OPTIONS, add(heap, off_heap))
    elif config.contains(JM_FLINK):
        flink = config.memory(JM_FLINK)
        heap, off_heap = _jm_from_total_flink(config, flink)
        jvm = jvm_from_total_flink(config, JM_OPTIONS, flink)
    elif config.contains(JM_PROCESS):
        process = config.memory(JM_PROCESS)
        jvm = jvm_from_total_process(config, JM_OPTIONS, process)
        heap, off_heap = _jm_from_total_flink(config, subtract(process, add(*jvm)))
    else:
        raise missing_sizes(JM_OPTIONS)
    return heap, off_heap, jvm[0], jvm[1]


@dataclass(frozen=True)
class JobManagerMemory:
    """A JobManager's memory, as Flink derives it (every size in bytes).

    ``direct_memory_limit`` is ``jobmanager.memory.enable-jvm-direct-memory-limit``: whether
    ``-XX:MaxDirectMemorySize`` (= ``off_heap``) is part of the JVM options.
    """

    heap: int
    off_heap: int
    jvm_metaspace: int
    jvm_overhead: int
    total_flink: int
    total_process: int
    direct_memory_limit: bool = False

    def jvm_args(self) -> str:
        """The JVM options Flink's ``jobmanager.sh`` passes (BashJavaUtils' first line)."""
        direct = f" -XX:MaxDirectMemorySize={self.off_heap}" if self.direct_memory_limit else ""
        return f"-Xmx{self.heap} -Xms{self.heap}{direct} -XX:MaxMetaspaceSize={self.jvm_metaspace}"

    def dynamic_properties(self) -> dict[str, str]:
        """The ``-D key=value`` pairs of BashJavaUtils' second line."""
        return {
            JM_HEAP.key: f"{self.heap}b",
            JM_OFF_HEAP.key: f"{self.off_heap}b",
            JM_METASPACE.key: f"{self.jvm_metaspace}b",
            JM_OVERHEAD_MIN.key: f"{self.jvm_overhead}b",
            JM_OVERHEAD_MAX.key: f"{self.jvm_overhead}b",
        }


def jobmanager_memory(config: Mapping[str, str]) -> JobManagerMemory:
    """Derive a JobManager's memory from a Flink configuration, as Flink 2.3 does.

    Flink 2.3 reports JobManager failures without a prefix (the TaskManager path has
    ``"TaskManager memory configuration failed: "``); so does this function.

    :param config: Flink keys to string values, e.g.
        ``{"jobmanager.memory.process.size": "1600m"}``; unrelated keys are ignored.
    :raises FlinkConfigurationError: when Flink would refuse the configuration, with
        Flink's message.
    :return: every component in bytes.
    """
    view = Config(config)
    try:
        heap, off_heap, metaspace, overhead = _jm_process(view)
        direct_limit = view.boolean(JM_DIRECT_LIMIT)
    except JavaError as exc:
        raise FlinkConfigurationError(str(exc)) from None
    total_flink = heap + off_heap
    return JobManagerMemory(
        heap=heap,
        off_heap=off_heap,
        jvm_metaspace=metaspace,
        jvm_overhead=overhead,
        total_flink=total_flink,
        total_process=total_flink + metaspace + overhead,
        direct_memory_limit=direct_limit,
    )
