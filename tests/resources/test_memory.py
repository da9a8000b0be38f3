"""Flink's memory model, as tables: no Java needed.

Every expected value and message below is what Flink 2.3's BashJavaUtils printed for the
same configuration (``test_memory_oracle.py`` re-checks the model against Flink itself on
thousands of generated configurations).
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any

import pytest

from airflow_provider_flink_k8s.exceptions import FlinkConfigurationError as RootError
from airflow_provider_flink_k8s.resources import memory
from airflow_provider_flink_k8s.resources.memory import (
    FlinkConfigurationError,
    JobManagerMemory,
    TaskManagerMemory,
    java_format,
    jobmanager_memory,
    memory_size,
    taskmanager_memory,
)

MIB = 2**20
TM = "taskmanager.memory."
JM = "jobmanager.memory."
TM_FAILED = "TaskManager memory configuration failed: "
EITHER_TM = (
    TM_FAILED + "Either required fine-grained memory (taskmanager.memory.task.heap.size and "
    "taskmanager.memory.managed.size), or Total Flink Memory size (Key: "
    "'taskmanager.memory.flink.size' , default: null (fallback keys: [])), or Total Process "
    "Memory size (Key: 'taskmanager.memory.process.size' , default: null (fallback keys: [])) "
    "need to be configured explicitly."
)
EITHER_JM = (
    "Either required fine-grained memory (jobmanager.memory.heap.size), or Total Flink Memory "
    "size (Key: 'jobmanager.memory.flink.size' , default: null (fallback keys: [])), or Total "
    "Process Memory size (Key: 'jobmanager.memory.process.size' , default: null (fallback "
    "keys: [])) need to be configured explicitly."
)

# --- the worked examples -------------------------------------------------------------------

TM_1728M = TaskManagerMemory(
    framework_heap=134217728,
    task_heap=402653174,
    framework_off_heap=134217728,
    task_off_heap=0,
    network=134217730,
    managed=536870920,
    jvm_metaspace=268435456,
    jvm_overhead=201326592,
    total_flink=1342177280,
    total_process=1811939328,
    cpu_cores=1.0,
    slots=1,
)
TM_4096M = TaskManagerMemory(
    framework_heap=134217728,
    task_heap=1530082070,
    framework_off_heap=134217728,
    task_off_heap=0,
    network=359703515,
    managed=1438814063,
    jvm_metaspace=268435456,
    jvm_overhead=429496736,
    total_flink=3597035104,
    total_process=4294967296,
    cpu_cores=1.0,
    slots=1,
)
JM_1600M = JobManagerMemory(
    heap=1073741824,
    off_heap=134217728,
    jvm_metaspace=268435456,
    jvm_overhead=201326592,
    total_flink=1207959552,
    total_process=1677721600,
)
JM_2048M = JobManagerMemory(
    heap=1530082096,
    off_heap=134217728,
    jvm_metaspace=268435456,
    jvm_overhead=214748368,
    total_flink=1664299824,
    total_process=2147483648,
)


@pytest.mark.parametrize(
    ("process", "expected", "jvm_args"),
    [
        (
            "1728m",
            TM_1728M,
            "-Xmx536870902 -Xms536870902 -XX:MaxDirectMemorySize=268435458 "
            "-XX:MaxMetaspaceSize=268435456",
        ),
        (
            "4096m",
            TM_4096M,
            "-Xmx1664299798 -Xms1664299798 -XX:MaxDirectMemorySize=493921243 "
            "-XX:MaxMetaspaceSize=268435456",
        ),
    ],
)
def test_taskmanager_worked_examples(
    process: str, expected: TaskManagerMemory, jvm_args: str
) -> None:
    result = taskmanager_memory({TM + "process.size": process})
    assert result == expected
    assert result.jvm_args() == jvm_args


def test_taskmanager_dynamic_properties_are_bash_java_utils_second_line() -> None:
    assert taskmanager_memory({TM + "process.size": "1728m"}).dynamic_properties() == {
        "taskmanager.cpu.cores": "1.0",
        "taskmanager.memory.framework.heap.size": "134217728b",
        "taskmanager.memory.framework.off-heap.size": "134217728b",
        "taskmanager.memory.task.heap.size": "402653174b",
        "taskmanager.memory.task.off-heap.size": "0b",
        "taskmanager.memory.network.min": "134217730b",
        "taskmanager.memory.network.max": "134217730b",
        "taskmanager.memory.managed.size": "536870920b",
        "taskmanager.memory.jvm-metaspace.size": "268435456b",
        "taskmanager.memory.jvm-overhead.min": "201326592b",
        "taskmanager.memory.jvm-overhead.max": "201326592b",
        "taskmanager.numberOfTaskSlots": "1",
        "external-resources": "none",
    }


@pytest.mark.parametrize(
    ("process", "expected", "jvm_args"),
    [
        ("1600m", JM_1600M, "-Xmx1073741824 -Xms1073741824 -XX:MaxMetaspaceSize=268435456"),
        ("2048m", JM_2048M, "-Xmx1530082096 -Xms1530082096 -XX:MaxMetaspaceSize=268435456"),
    ],
)
def test_jobmanager_worked_examples(
    process: str, expected: JobManagerMemory, jvm_args: str
) -> None:
    result = jobmanager_memory({JM + "process.size": process})
    assert result == expected
    assert result.jvm_args() == jvm_args
    assert result.dynamic_properties() == {
        "jobmanager.memory.heap.size": f"{expected.heap}b",
        "jobmanager.memory.off-heap.size": "134217728b",
        "jobmanager.memory.jvm-metaspace.size": "268435456b",
        "jobmanager.memory.jvm-overhead.min": f"{expected.jvm_overhead}b",
        "jobmanager.memory.jvm-overhead.max": f"{expected.jvm_overhead}b",
    }


def test_heap_and_direct_are_what_the_jvm_gets() -> None:
    assert TM_4096M.heap == 1664299798
    assert TM_4096M.direct == 493921243
    assert TM_4096M.total_flink == sum(
        (
            TM_4096M.framework_heap,
            TM_4096M.task_heap,
            TM_4096M.framework_off_heap,
            TM_4096M.task_off_heap,
            TM_4096M.network,
            TM_4096M.managed,
        )
    )
    assert TM_4096M.total_process == TM_4096M.total_flink + 268435456 + 429496736


# --- every way of configuring memory -------------------------------------------------------


def _tm(**overrides: Any) -> TaskManagerMemory:
    return TaskManagerMemory(**{**TM_1728M.__dict__, **overrides})


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({TM + "flink.size": "1280m"}, TM_1728M, id="total flink"),
        pytest.param(
            {TM + "task.heap.size": "512m", TM + "managed.size": "256m"},
            _tm(
                task_heap=512 * MIB,
                network=119304649,  # (128m+128m+512m+256m) * 0.1f/(1-0.1f)
                managed=256 * MIB,
                total_flink=1193046473,
                total_process=1662808521,
            ),
            id="fine-grained",
        ),
        pytest.param(
            {
                TM + "task.heap.size": "512m",
                TM + "managed.size": "512m",
                TM + "flink.size": "1536m",
            },
            _tm(
                task_heap=512 * MIB,
                network=256 * MIB,  # the rest of the total Flink memory
                managed=512 * MIB,
                jvm_overhead=208783135,
                total_flink=1536 * MIB,
                total_process=2087831327,
            ),
            id="fine-grained and total flink",
        ),
        pytest.param(
            {TM + "flink.size": "2g", TM + "process.size": "3g"},
            _tm(
                task_heap=805306352,
                network=214748368,
                managed=858993472,
                jvm_overhead=768 * MIB,  # process - flink - metaspace
                total_flink=2048 * MIB,
                total_process=3072 * MIB,
            ),
            id="total flink and total process",
        ),
        pytest.param(
            {TM + "process.size": "2g", TM + "managed.size": "300m"},
            _tm(
                task_heap=914861584,
                network=166429984,
                managed=300 * MIB,
                jvm_overhead=214748368,
                total_flink=1664299824,
                total_process=2048 * MIB,
            ),
            id="explicit managed size",
        ),
        pytest.param(
            {TM + "process.size": "8g", TM + "network.max": "256m"},
            _tm(
                task_heap=3940632442,
                network=256 * MIB,  # capped at max
                managed=2985002310,
                jvm_overhead=858993472,
                total_flink=7462505664,
                total_process=8192 * MIB,
            ),
            id="network capped at max",
        ),
        pytest.param(
            {TM + "process.size": "2g", "taskmanager.memory.size": "100m"},
            _tm(
                task_heap=1124576784,
                network=166429984,
                managed=100 * MIB,
                jvm_overhead=214748368,
                total_flink=1664299824,
                total_process=2048 * MIB,
            ),
            id="deprecated managed size key",
        ),
        pytest.param(
            {TM + "process.size": "2g", "taskmanager.memory.size": "100m"}
            | {"taskmanager.network.memory.fraction": "0.2"},
            _tm(
                task_heap=958146799,
                network=332859969,
                managed=100 * MIB,
                jvm_overhead=214748368,
                total_flink=1664299824,
                total_process=2048 * MIB,
            ),
            id="deprecated network fraction key",
        ),
        pytest.param(
            {TM + "process.size": "1728m", TM + "managed.fraction": "0.15"},
            _tm(task_heap=738197494, managed=201326600),
            id="managed fraction",
        ),
        pytest.param(
            {TM + "process.size": "1728m", "taskmanager.heap.size": "4g"},
            TM_1728M,
            id="pre-1.10 heap key is ignored",
        ),
        pytest.param(
            {TM + "process.size": "1728m", "taskmanager.numberOfTaskSlots": "4"},
            _tm(cpu_cores=4.0, slots=4),
            id="cpu defaults to slots",
        ),
        pytest.param(
            {TM + "process.size": "1728m", "taskmanager.cpu.cores": "2.5"}
            | {"taskmanager.numberOfTaskSlots": "4"},
            _tm(cpu_cores=2.5, slots=4),
            id="cpu and slots",
        ),
        pytest.param(
            {TM + "process.size": "1728m", "taskmanager.cpu.cores": "1.123456789"},
            _tm(cpu_cores=1.12345678),
            id="cpu truncated to 8 decimals",
        ),
        pytest.param(
            {TM + "process.size": "1728m", "taskmanager.cpu.cores": "1e-9"},
            _tm(cpu_cores=0.0),
            id="cpu truncated to zero",
        ),
    ],
)
def test_taskmanager_routes(config: dict[str, str], expected: TaskManagerMemory) -> None:
    assert taskmanager_memory(config) == expected


@pytest.mark.parametrize(
    ("config", "heap", "off_heap", "overhead"),
    [
        pytest.param({JM + "flink.size": "1152m"}, 1024 * MIB, 128 * MIB, 192 * MIB, id="flink"),
        pytest.param({JM + "heap.size": "1g"}, 1024 * MIB, 128 * MIB, 192 * MIB, id="heap"),
        pytest.param(
            {JM + "heap.size": "1g", JM + "flink.size": "1200m"},
            1024 * MIB,
            176 * MIB,  # derived: flink - heap, the default off-heap size is ignored
            192 * MIB,
            id="heap and flink",
        ),
        pytest.param(
            {JM + "heap.size": "1g", JM + "flink.size": "1152m", JM + "off-heap.size": "128m"},
            1024 * MIB,
            128 * MIB,
            192 * MIB,
            id="heap, flink and off-heap agreeing",
        ),
        pytest.param(
            {JM + "process.size": "4g", JM + "jvm-overhead.fraction": "0.25"},
            2688 * MIB,
            128 * MIB,
            1024 * MIB,  # capped at max
            id="overhead capped at max",
        ),
        pytest.param(
            {JM + "process.size": "1600m", JM + "off-heap.size": "64m"}
            | {JM + "jvm-metaspace.size": "128m"},
            1216 * MIB,
            64 * MIB,
            192 * MIB,
            id="off-heap and metaspace",
        ),
        pytest.param(
            {JM + "process.size": "1600m", "jobmanager.heap.size": "4g"},
            1024 * MIB,
            128 * MIB,
            192 * MIB,
            id="pre-1.10 heap key is ignored",
        ),
    ],
)
def test_jobmanager_routes(config: dict[str, str], heap: int, off_heap: int, overhead: int) -> None:
    result = jobmanager_memory(config)
    assert (result.heap, result.off_heap, result.jvm_overhead) == (heap, off_heap, overhead)
    assert result.total_flink == heap + off_heap
    assert result.total_process == result.total_flink + result.jvm_metaspace + overhead


def test_jobmanager_direct_memory_limit() -> None:
    result = jobmanager_memory(
        {JM + "process.size": "2g", JM + "enable-jvm-direct-memory-limit": "TRUE"}
    )
    assert result.direct_memory_limit
    assert result.jvm_args() == (
        "-Xmx1530082096 -Xms1530082096 -XX:MaxDirectMemorySize=134217728 "
        "-XX:MaxMetaspaceSize=268435456"
    )


# --- how Flink parses values ---------------------------------------------------------------


@pytest.mark.parametrize(
    "fraction",
    ["0.4", "4e-1", "0.4f", "0.4D", " 0.4 ", "\t0.4", ".4", "+0.4", "0x1.99999ap-2", "0.40000001"],
)
def test_fraction_spellings_float_parse_float_accepts(fraction: str) -> None:
    config = {TM + "process.size": "1728m", TM + "managed.fraction": fraction}
    assert taskmanager_memory(config) == TM_1728M


@pytest.mark.parametrize(
    "size", ["1728m", "1728 m", "1728MB", "1728 mebibytes", " 1728m ", "1811939328", "1811939328b"]
)
def test_size_spellings_memory_size_parse_accepts(size: str) -> None:
    assert taskmanager_memory({TM + "process.size": size}) == TM_1728M


@pytest.mark.parametrize(("slots", "value"), [("3", 3), ("+3", 3), ("\u0663", 3), ("-0", 0)])
def test_slot_spellings_integer_parse_int_accepts(slots: str, value: int) -> None:
    config = {TM + "process.size": "1728m", "taskmanager.cpu.cores": "1"}
    assert taskmanager_memory(config | {"taskmanager.numberOfTaskSlots": slots}).slots == value


def test_unrelated_keys_are_ignored_and_the_config_is_not_changed() -> None:
    config = MappingProxyType({TM + "process.size": "1728m", "parallelism.default": "4"})
    assert taskmanager_memory(config) == TM_1728M


# --- what Flink refuses, with Flink's words ------------------------------------------------

_ABOUT_REST = (
    "If Total Flink, Task Heap and (or) Managed Memory sizes are explicitly configured then "
    "the Network Memory size is the rest of the Total Flink memory after subtracting all other "
    "configured types of memory, but the derived Network Memory is inconsistent with its "
    "configuration."
)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param({}, EITHER_TM, id="nothing"),
        pytest.param({"taskmanager.heap.size": "1g"}, EITHER_TM, id="only the removed key"),
        pytest.param(
            {TM + "process.size": "abc"},
            TM_FAILED + "Cannot read memory size from config option "
            "'taskmanager.memory.process.size'.",
            id="size not a number",
        ),
        pytest.param(
            {TM + "process.size": "1.5g"},
            TM_FAILED + "Cannot read memory size from config option "
            "'taskmanager.memory.process.size'.",
            id="size not whole",
        ),
        pytest.param(
            {TM + "process.size": "1g", TM + "framework.heap.size": "1 xb"},
            TM_FAILED + "Cannot read memory size from config option "
            "'taskmanager.memory.framework.heap.size'.",
            id="size unit",
        ),
        pytest.param(
            {TM + "process.size": "\u00a01g"},
            TM_FAILED + "Cannot read memory size from config option "
            "'taskmanager.memory.process.size'.",
            id="no-break space is not blank to Java",
        ),
        pytest.param(
            {TM + "process.size": "400m"},
            TM_FAILED + "Sum of configured JVM Metaspace (256.000mb (268435456 bytes)) and JVM "
            "Overhead (192.000mb (201326592 bytes)) exceed configured Total Process Memory "
            "(400.000mb (419430400 bytes)).",
            id="process below metaspace and overhead",
        ),
        pytest.param(
            {TM + "process.size": "1g", TM + "managed.fraction": "1.5"},
            TM_FAILED + "Inconsistently configured Key: 'taskmanager.memory.managed.fraction' , "
            "default: 0.4 (fallback keys: []) (1.5) and its min (0 bytes), max (8388608.000tb "
            "(9223372036854775807 bytes)) value",
            id="fraction above 1",
        ),
        pytest.param(
            {TM + "process.size": "1g", "taskmanager.network.memory.fraction": "-0.1"},
            TM_FAILED + "Inconsistently configured Key: 'taskmanager.memory.network.fraction' , "
            "default: 0.1 (fallback keys: [{key=taskmanager.network.memory.fraction, "
            "isDeprecated=true}]) (-0.10000000149011612) and its min (64.000mb (67108864 "
            "bytes)), max (8388608.000tb (9223372036854775807 bytes)) value",
            id="negative fraction, deprecated key",
        ),
        pytest.param(
            {TM + "process.size": "1g", TM + "network.min": "2g", TM + "network.max": "1g"},
            TM_FAILED + "Inconsistently configured Key: 'taskmanager.memory.network.fraction' , "
            "default: 0.1 (fallback keys: [{key=taskmanager.network.memory.fraction, "
            "isDeprecated=true}]) (0.10000000149011612) and its min (2.000gb (2147483648 "
            "bytes)), max (1024.000mb (1073741824 bytes)) value",
            id="min above max",
        ),
        pytest.param(
            {TM + "process.size": "1g", TM + "managed.fraction": "abc"},
            "Could not parse value 'abc' for key 'taskmanager.memory.managed.fraction'.",
            id="fraction not a number",
        ),
        pytest.param(
            {TM + "process.size": "1g", TM + "managed.fraction": "inf"},
            "Could not parse value 'inf' for key 'taskmanager.memory.managed.fraction'.",
            id="fraction Python reads but Java does not",
        ),
        pytest.param(
            {TM + "process.size": "1g", TM + "network.min": "2g"},
            TM_FAILED + "Sum of configured Framework Heap Memory (128.000mb (134217728 bytes)), "
            "Framework Off-Heap Memory (128.000mb (134217728 bytes)), Task Off-Heap Memory (0 "
            "bytes), Managed Memory (230.400mb (241591914 bytes)) and Network Memory (2.000gb "
            "(2147483648 bytes)) exceed configured Total Flink Memory (576.000mb (603979776 "
            "bytes)).",
            id="components exceed total flink",
        ),
        pytest.param(
            {TM + "flink.size": "1g", TM + "task.heap.size": "1g"},
            TM_FAILED + "Sum of configured Framework Heap Memory (128.000mb (134217728 bytes)), "
            "Framework Off-Heap Memory (128.000mb (134217728 bytes)), Task Heap Memory "
            "(1024.000mb (1073741824 bytes)), Task Off-Heap Memory (0 bytes) and Managed Memory "
            "(409.600mb (429496736 bytes)) exceed configured Total Flink Memory (1024.000mb "
            "(1073741824 bytes)).",
            id="task heap exceeds total flink",
        ),
        pytest.param(
            {TM + "flink.size": "1g", TM + "task.heap.size": "256m", TM + "network.max": "64m"},
            TM_FAILED + _ABOUT_REST,
            id="network rest outside its range",
        ),
        pytest.param(
            {TM + "flink.size": "1g", TM + "process.size": "1g"},
            TM_FAILED + "The configured Total Process Memory size (1024.000mb (1073741824 "
            "bytes)) is less than the sum of the derived Total Flink Memory size (1024.000mb "
            "(1073741824 bytes)) and the configured or default JVM Metaspace size  (256.000mb "
            "(268435456 bytes)).",
            id="process below flink and metaspace",
        ),
        pytest.param(
            {TM + "flink.size": "1g", TM + "process.size": "3g"},
            TM_FAILED + "Derived JVM Overhead size (1.750gb (1879048192 bytes)) is not in "
            "configured JVM Overhead range [192.000mb (201326592 bytes), 1024.000mb (1073741824 "
            "bytes)].",
            id="overhead outside its range",
        ),
        pytest.param(
            {TM + "process.size": "1g", "taskmanager.cpu.cores": "0"},
            TM_FAILED + "TaskExecutors need to be started with a positive number of CPU cores. "
            "Please configure taskmanager.cpu.cores accordingly.",
            id="no cpu",
        ),
        pytest.param(
            {TM + "process.size": "1g", "taskmanager.numberOfTaskSlots": "0"},
            TM_FAILED + "TaskExecutors need to be started with a positive number of CPU cores. "
            "Please configure taskmanager.cpu.cores accordingly.",
            id="no slots, so no cpu",
        ),
        pytest.param(
            {TM + "process.size": "1g", "taskmanager.numberOfTaskSlots": " 2"},
            "Could not parse value ' 2' for key 'taskmanager.numberOfTaskSlots'.",
            id="slots are not trimmed",
        ),
        pytest.param(
            {TM + "process.size": "1g", "taskmanager.cpu.cores": "NaN"},
            'Character N is neither a decimal digit number, decimal point, nor "e" notation '
            "exponential mark.",
            id="cpu NaN fails in BigDecimal",
        ),
        pytest.param(
            {TM + "task.heap.size": "8388607t", TM + "managed.size": "1m"},
            "long overflow",
            id="sizes overflow a long",
        ),
        pytest.param(
            {TM + "flink.size": "8000000t", TM + "jvm-overhead.fraction": "0.9999999"},
            "long overflow",
            id="inverse fraction overflows a long",
        ),
    ],
)
def test_taskmanager_refusals(config: dict[str, str], message: str) -> None:
    with pytest.raises(FlinkConfigurationError) as caught:
        taskmanager_memory(config)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param({}, EITHER_JM, id="nothing"),
        pytest.param({"jobmanager.heap.size": "1g"}, EITHER_JM, id="only the removed key"),
        pytest.param(
            {JM + "process.size": "448m"},
            "The configured Total Flink Memory (0 bytes) is less than the configured Off-heap "
            "Memory (128.000mb (134217728 bytes)).",
            id="nothing left for flink",
        ),
        pytest.param(
            {JM + "process.size": "400m"},
            "Sum of configured JVM Metaspace (256.000mb (268435456 bytes)) and JVM Overhead "
            "(192.000mb (201326592 bytes)) exceed configured Total Process Memory (400.000mb "
            "(419430400 bytes)).",
            id="process below metaspace and overhead",
        ),
        pytest.param(
            {JM + "heap.size": "1g", JM + "flink.size": "1g", JM + "off-heap.size": "128m"},
            "Sum of the configured JVM Heap Memory (1024.000mb (1073741824 bytes)) and the "
            "configured Off-heap Memory (128.000mb (134217728 bytes)) does not match the "
            "configured Total Flink Memory (1024.000mb (1073741824 bytes)). Please, make the "
            "configuration consistent or configure only one option: either JVM Heap or Total "
            "Flink Memory.",
            id="heap and off-heap do not add up",
        ),
        pytest.param(
            {JM + "heap.size": "2g", JM + "flink.size": "1g"},
            "The configured JVM Heap Memory (2.000gb (2147483648 bytes)) exceeds the configured "
            "Total Flink Memory (1024.000mb (1073741824 bytes)). Please, make the configuration "
            "consistent or configure only one option: either JVM Heap or Total Flink Memory.",
            id="heap above flink",
        ),
        pytest.param(
            {JM + "flink.size": "128m"},
            "The configured Total Flink Memory (128.000mb (134217728 bytes)) is less than the "
            "configured Off-heap Memory (128.000mb (134217728 bytes)).",
            id="flink not above off-heap",
        ),
        pytest.param(
            {JM + "process.size": "1g", JM + "jvm-overhead.fraction": "1"},
            "Inconsistently configured Key: 'jobmanager.memory.jvm-overhead.fraction' , "
            "default: 0.1 (fallback keys: []) (1.0) and its min (192.000mb (201326592 bytes)), "
            "max (1024.000mb (1073741824 bytes)) value",
            id="fraction of 1",
        ),
        pytest.param(
            {JM + "process.size": "1g", JM + "enable-jvm-direct-memory-limit": "yes"},
            "Could not parse value 'yes' for key "
            "'jobmanager.memory.enable-jvm-direct-memory-limit'.",
            id="boolean",
        ),
        pytest.param(
            {JM + "heap.size": "1g", JM + "process.size": "1g"},
            "The configured Total Process Memory size (1024.000mb (1073741824 bytes)) is less "
            "than the sum of the derived Total Flink Memory size (1.125gb (1207959552 bytes)) "
            "and the configured or default JVM Metaspace size  (256.000mb (268435456 bytes)).",
            id="process below heap, off-heap and metaspace",
        ),
        pytest.param(
            {JM + "heap.size": "8388607t", JM + "off-heap.size": "1t"},
            "long overflow",
            id="overflow",
        ),
    ],
)
def test_jobmanager_refusals(config: dict[str, str], message: str) -> None:
    with pytest.raises(FlinkConfigurationError) as caught:
        jobmanager_memory(config)
    assert str(caught.value) == message


def test_the_error_is_the_providers_and_a_value_error() -> None:
    assert FlinkConfigurationError is RootError
    assert memory.FlinkConfigurationError is RootError
    assert issubclass(FlinkConfigurationError, ValueError)


# --- the JDK 17 number formatting the model relies on --------------------------------------


@pytest.mark.parametrize(
    ("value", "java"),
    [
        (0.4000000059604645, "0.4000000059604645"),  # 0.4f widened
        (0.10000000149011612, "0.10000000149011612"),  # 0.1f widened
        (1.0, "1.0"),
        (1.5, "1.5"),
        (0.001, "0.001"),
        (1e-4, "1.0E-4"),
        (1e7, "1.0E7"),
        (1234567.0, "1234567.0"),
        (1e20, "1.0E20"),
        (2.0**62, "4.6116860184273879E18"),  # Python: 4.611686018427388e+18
        (1e23, "9.999999999999999E22"),  # Python: 1e+23
        (-0.0, "-0.0"),
        (math.nan, "NaN"),
        (-math.inf, "-Infinity"),
    ],
)
def test_double_to_string_is_jdk17s(value: float, java: str) -> None:
    assert java_format.double_to_string(value) == java


@pytest.mark.parametrize(
    ("value", "java"),
    [
        (1.0005, "1.001"),  # half-up on Double.toString's digits; C's printf says 1.000
        (230.39999961853027, "230.400"),
        (1024.0, "1024.000"),
        (8388608.0, "8388608.000"),
        (0.0004, "0.000"),
    ],
)
def test_format_3f_is_javas(value: float, java: str) -> None:
    assert java_format.format_fixed(value, 3) == java


@pytest.mark.parametrize(
    ("size", "human"),
    [
        (0, "0 bytes"),
        (1024, "1024 bytes"),
        (1025, "1.001kb (1025 bytes)"),
        (2**30, "1024.000mb (1073741824 bytes)"),
        (2**63 - 1, "8388608.000tb (9223372036854775807 bytes)"),
    ],
)
def test_human_readable_is_memory_sizes(size: int, human: str) -> None:
    assert memory_size.human(size) == human
