"""The memory model against Flink itself: BashJavaUtils must agree byte for byte.

Hypothesis generates TaskManager and JobManager configurations -- every route (process
size, Flink size, fine-grained sizes, combinations), fractions with min/max, explicit and
deprecated keys, metaspace, overhead, off-heap, network, CPU and slots, in the spellings
Flink accepts and many it refuses. Each batch goes to one long-lived JVM running Flink's
own ``BashJavaUtils.runCommand`` (see ``conftest.py``). For every configuration either both
sides succeed with the identical ``-Xmx...`` line and the identical ``-D`` properties, or
both fail with the identical message.

The JDK 17 number formatting and parsing the model ports (``Double.toString``, ``%.3f``,
``Float.parseFloat``, ``Double.parseDouble``, ``MemorySize.multiply``) are checked against
the same JVM directly, on far more values than configurations could reach.
"""

from __future__ import annotations

import math
import struct
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_flink_k8s.resources.memory import (
    FlinkConfigurationError,
    errors,
    java_format,
    java_parse,
    jobmanager_memory,
    memory_size,
    taskmanager_memory,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

MIB = 2**20
GIB = 2**30
LONG_MAX = 2**63 - 1

# Derandomized: every run checks the same configurations, so a failure always reproduces.
ORACLE = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=30,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
# 50 batches of 40 TaskManager and 30 JobManager configurations: 3,500 in all, ~10 s.
CONFIGURATIONS = settings(ORACLE, max_examples=50)

# --- strategies: values --------------------------------------------------------------------

_UNITS = [
    ("", 1),
    ("b", 1),
    ("bytes", 1),
    ("k", 1024),
    ("kb", 1024),
    ("kibibytes", 1024),
    ("m", MIB),
    ("mb", MIB),
    ("mebibytes", MIB),
    ("g", GIB),
    ("gb", GIB),
    ("t", 2**40),
    ("TB", 2**40),
]
_BROKEN_SIZES = [
    "",
    " ",
    "abc",
    "-1m",
    "1.5g",
    "1 xb",
    "1e3",
    "0x10",
    "m",
    "99999999999999999999",
    "9223372036854775808",
    "8388608t",
    "\u0661\u0662m",  # Arabic-Indic digits: MemorySize wants ASCII ones
    "\u00a0128m",  # no-break space: not blank for Java's trim()
    "128m\u00a0",
    "\x01128m\x02",  # control characters: blank for Java's trim()
    "128\x01m",
]
_BROKEN_FRACTIONS = [
    "",
    "1",
    "1.0",
    "1.5",
    "-0.1",
    "-0",
    "NaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "inf",
    "nan",
    "abc",
    "1_0",
    "0.1.2",
    "1e",
    "1e-50",
    "0.99999999",
    "0.99999994",
    ".",
    "0x1p0",
    "0x.8",
    "0.5ff",
    "0,5",
]


def _mostly(good: st.SearchStrategy[str], bad: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Usually a good value, one time in eight a bad one."""
    return st.integers(0, 7).flatmap(lambda pick: bad if pick == 0 else good)


@st.composite
def _size(draw: st.DrawFn, low: int, high: int) -> str:
    """A memory size in ``[low, high]`` bytes, in one of the spellings Flink accepts."""
    unit, multiplier = draw(st.sampled_from(_UNITS))
    count = draw(st.integers(low // multiplier, max(low // multiplier, high // multiplier)))
    spelled = draw(st.sampled_from([unit, unit.upper(), f" {unit}"])) if unit else ""
    text = f"{count}{spelled}"
    return draw(st.sampled_from([text, text, text, f" {text} ", f"\t{text}"]))


def _sizes(low: int, high: int) -> st.SearchStrategy[str]:
    extreme = st.integers(2**62, LONG_MAX).map(str)
    return _mostly(_size(low, high), st.one_of(st.sampled_from(_BROKEN_SIZES), extreme))


@st.composite
def _fraction_text(draw: st.DrawFn, low: float = 0.0, high: float = 0.6) -> str:
    """A float option value, written the many ways Float.parseFloat accepts."""
    value = draw(st.floats(low, high))
    digits = draw(st.integers(1, 12))
    text = draw(
        st.sampled_from(
            [
                repr(value),
                f"{value:.{digits}f}",
                f"{value:.{digits}e}",
                f"{value:.{digits}E}",
                value.hex(),
                f"{value:.{digits}f}".lstrip("0"),
            ]
        )
    )
    return draw(st.sampled_from([text, text, text, f"{text}f", f"{text}D", f" {text} "]))


def _fractions(high: float = 0.6) -> st.SearchStrategy[str]:
    return _mostly(_fraction_text(0.0, high), st.sampled_from(_BROKEN_FRACTIONS))


_CPU = st.one_of(
    st.floats(0.001, 64).map(repr),
    st.integers(1, 16).map(str),
    st.floats(0, 1e-7).map(repr),
    st.sampled_from(["0", "-1", "NaN", "Infinity", "abc", "1e20", "0x1p3", "2.5d", "1.123456789"]),
)
_SLOTS = st.one_of(
    st.integers(1, 64).map(str),
    st.sampled_from(["0", "-2", " 2", "+3", "\u0663", "\uff14", "2147483648", "x", "", "1.0"]),
)
_BOOLEAN = st.sampled_from(["true", "false", "TRUE", "False", "yes", "1", ""])

# --- strategies: configurations ------------------------------------------------------------

TM = "taskmanager.memory."
JM = "jobmanager.memory."

_TM_ROUTES: list[dict[str, st.SearchStrategy[str]]] = [
    {TM + "process.size": _sizes(512 * MIB, 64 * GIB)},
    {TM + "flink.size": _sizes(256 * MIB, 48 * GIB)},
    {TM + "task.heap.size": _sizes(0, 8 * GIB), TM + "managed.size": _sizes(0, 8 * GIB)},
    {TM + "task.heap.size": _sizes(0, 8 * GIB), "taskmanager.memory.size": _sizes(0, 4 * GIB)},
    {TM + "flink.size": _sizes(GIB, 8 * GIB), TM + "task.heap.size": _sizes(0, 2 * GIB)},
    {TM + "flink.size": _sizes(GIB, 8 * GIB), TM + "process.size": _sizes(GIB, 10 * GIB)},
    {},
]
_TM_EXTRAS: dict[str, st.SearchStrategy[str]] = {
    TM + "process.size": _sizes(512 * MIB, 64 * GIB),
    TM + "flink.size": _sizes(256 * MIB, 48 * GIB),
    TM + "task.heap.size": _sizes(0, 4 * GIB),
    TM + "managed.size": _sizes(0, 4 * GIB),
    TM + "managed.fraction": _fractions(),
    TM + "framework.heap.size": _sizes(0, 512 * MIB),
    TM + "framework.off-heap.size": _sizes(0, 512 * MIB),
    TM + "task.off-heap.size": _sizes(0, GIB),
    TM + "network.min": _sizes(0, 512 * MIB),
    TM + "network.max": _sizes(0, 4 * GIB),
    TM + "network.fraction": _fractions(0.5),
    TM + "jvm-metaspace.size": _sizes(0, GIB),
    TM + "jvm-overhead.min": _sizes(0, GIB),
    TM + "jvm-overhead.max": _sizes(0, 2 * GIB),
    TM + "jvm-overhead.fraction": _fractions(0.5),
    # Deprecated keys Flink still reads, and the removed pre-1.10 one it ignores.
    "taskmanager.memory.size": _sizes(0, 4 * GIB),
    "taskmanager.network.memory.min": _sizes(0, 512 * MIB),
    "taskmanager.network.memory.max": _sizes(0, 4 * GIB),
    "taskmanager.network.memory.fraction": _fractions(0.5),
    "taskmanager.heap.size": _sizes(0, 8 * GIB),
    "taskmanager.cpu.cores": _CPU,
    "taskmanager.numberOfTaskSlots": _SLOTS,
    "parallelism.default": st.just("4"),
}
_JM_ROUTES: list[dict[str, st.SearchStrategy[str]]] = [
    {JM + "process.size": _sizes(256 * MIB, 32 * GIB)},
    {JM + "flink.size": _sizes(64 * MIB, 16 * GIB)},
    {JM + "heap.size": _sizes(0, 16 * GIB)},
    {JM + "heap.size": _sizes(0, 4 * GIB), JM + "flink.size": _sizes(0, 4 * GIB)},
    {JM + "heap.size": _sizes(0, 4 * GIB), JM + "process.size": _sizes(GIB, 8 * GIB)},
    {},
]
_JM_EXTRAS: dict[str, st.SearchStrategy[str]] = {
    JM + "process.size": _sizes(256 * MIB, 32 * GIB),
    JM + "flink.size": _sizes(64 * MIB, 16 * GIB),
    JM + "heap.size": _sizes(0, 8 * GIB),
    JM + "off-heap.size": _sizes(0, GIB),
    JM + "jvm-metaspace.size": _sizes(0, GIB),
    JM + "jvm-overhead.min": _sizes(0, GIB),
    JM + "jvm-overhead.max": _sizes(0, 2 * GIB),
    JM + "jvm-overhead.fraction": _fractions(0.5),
    JM + "enable-jvm-direct-memory-limit": _BOOLEAN,
    "jobmanager.heap.size": _sizes(0, 8 * GIB),
}


@st.composite
def _config(
    draw: st.DrawFn,
    routes: Sequence[Mapping[str, st.SearchStrategy[str]]],
    extras: Mapping[str, st.SearchStrategy[str]],
) -> dict[str, str]:
    """A route's keys plus up to four more settings, any of them possibly broken."""
    route = draw(st.sampled_from(routes))
    config = {key: draw(value) for key, value in route.items()}
    for key in draw(st.lists(st.sampled_from(sorted(extras)), max_size=4, unique=True)):
        config[key] = draw(extras[key])
    return config


# --- comparison ----------------------------------------------------------------------------


def _disagreements(
    derive: Callable[[Mapping[str, str]], Any],
    configs: Sequence[Mapping[str, str]],
    replies: Sequence[Any],
) -> list[str]:
    found = []
    for config, reply in zip(configs, replies, strict=True):
        try:
            result = derive(config)
        except FlinkConfigurationError as exc:
            if reply.ok:
                found.append(f"{config!r}: Flink accepts it, Python refuses it: {exc}")
            elif str(exc) != reply.message:
                found.append(f"{config!r}:\n  Flink:  {reply.message}\n  Python: {exc}")
            continue
        if not reply.ok:
            found.append(f"{config!r}: Flink refuses it ({reply.message}), Python accepts it")
        elif (result.jvm_args(), result.dynamic_properties()) != (
            reply.jvm_args,
            reply.dynamic_properties,
        ):
            found.append(
                f"{config!r}:\n  Flink:  {reply.jvm_args} {reply.dynamic_properties}\n"
                f"  Python: {result.jvm_args()} {result.dynamic_properties()}"
            )
    return found


@CONFIGURATIONS
@given(st.lists(_config(_TM_ROUTES, _TM_EXTRAS), min_size=40, max_size=40))
def test_taskmanager_memory_agrees_with_flink(
    flink_oracle: Any, configs: list[dict[str, str]]
) -> None:
    found = _disagreements(taskmanager_memory, configs, flink_oracle.taskmanager(configs))
    assert not found, "\n".join(found[:5])


@CONFIGURATIONS
@given(st.lists(_config(_JM_ROUTES, _JM_EXTRAS), min_size=30, max_size=30))
def test_jobmanager_memory_agrees_with_flink(
    flink_oracle: Any, configs: list[dict[str, str]]
) -> None:
    found = _disagreements(jobmanager_memory, configs, flink_oracle.jobmanager(configs))
    assert not found, "\n".join(found[:5])


# Hand-picked: each route and each refusal at least once, whatever Hypothesis draws.
_KNOWN_TM = [
    {TM + "process.size": "1728m"},
    {TM + "process.size": "4096m"},
    {TM + "flink.size": "1280m"},
    {TM + "task.heap.size": "512m", TM + "managed.size": "256m"},
    {TM + "task.heap.size": "512m", TM + "managed.size": "512m", TM + "flink.size": "1536m"},
    {TM + "flink.size": "2g", TM + "task.heap.size": "512m"},
    {TM + "flink.size": "2g", TM + "process.size": "3g"},
    {TM + "process.size": "8g", TM + "network.max": "256m"},
    {TM + "process.size": "2g", "taskmanager.memory.size": "100m"},
    {TM + "process.size": "2g", "taskmanager.network.memory.fraction": "0.2"},
    {TM + "process.size": "1728m", "taskmanager.cpu.cores": "1e-9"},
    {TM + "process.size": "1728m", "taskmanager.numberOfTaskSlots": "\u0663"},
    {},
    {"taskmanager.heap.size": "1g"},
    {TM + "process.size": "400m"},
    {TM + "process.size": "1g", TM + "network.min": "2g"},
    {TM + "flink.size": "1g", TM + "task.heap.size": "1g"},
    {TM + "flink.size": "1g", TM + "task.heap.size": "256m", TM + "network.max": "64m"},
    {TM + "flink.size": "1g", TM + "process.size": "1g"},
    {TM + "flink.size": "1g", TM + "process.size": "3g"},
    {TM + "process.size": "1g", "taskmanager.network.memory.fraction": "-0.1"},
    {TM + "process.size": "1g", TM + "managed.fraction": "abc"},
    {TM + "process.size": "1g", "taskmanager.cpu.cores": "0"},
    {TM + "process.size": "1g", "taskmanager.cpu.cores": "Infinity"},
    {TM + "process.size": "1g", "taskmanager.cpu.cores": "NaN"},
    {TM + "process.size": "1g", "taskmanager.numberOfTaskSlots": "0"},
    {TM + "process.size": "1g", "taskmanager.numberOfTaskSlots": " 2"},
    {TM + "task.heap.size": "8388607t", TM + "managed.size": "1m"},
    {TM + "flink.size": "8000000t", TM + "jvm-overhead.fraction": "0.9999999"},
]
_KNOWN_JM = [
    {JM + "process.size": "1600m"},
    {JM + "process.size": "2048m", JM + "enable-jvm-direct-memory-limit": "TRUE"},
    {JM + "flink.size": "1152m"},
    {JM + "heap.size": "1g"},
    {JM + "heap.size": "1g", JM + "flink.size": "1200m"},
    {},
    {"jobmanager.heap.size": "1g"},
    {JM + "process.size": "448m"},
    {JM + "heap.size": "1g", JM + "flink.size": "1g", JM + "off-heap.size": "128m"},
    {JM + "heap.size": "2g", JM + "flink.size": "1g"},
    {JM + "heap.size": "1g", JM + "process.size": "1g"},
    {JM + "process.size": "1g", JM + "jvm-overhead.fraction": "1"},
    {JM + "process.size": "1g", JM + "enable-jvm-direct-memory-limit": "yes"},
    {JM + "heap.size": "8388607t", JM + "off-heap.size": "1t"},
]


def test_known_configurations_agree_with_flink(flink_oracle: Any) -> None:
    found = _disagreements(taskmanager_memory, _KNOWN_TM, flink_oracle.taskmanager(_KNOWN_TM))
    found += _disagreements(jobmanager_memory, _KNOWN_JM, flink_oracle.jobmanager(_KNOWN_JM))
    assert not found, "\n".join(found)


# --- the JDK 17 number handling the model ports --------------------------------------------


def _bits(value: float) -> str:
    return f"{struct.unpack('>Q', struct.pack('>d', value))[0]:016x}"


def _widened(bits: int) -> float:
    return float(struct.unpack(">f", struct.pack(">I", bits))[0])


_DOUBLES = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(0, 0x7F7FFFFF).map(_widened),  # every float option value Flink can hold
    st.integers(0, 2**63).map(float),  # JDK 17 keeps extra digits on large integral doubles
    st.builds(lambda n, e: n / 10**e, st.integers(1, 10**9), st.integers(0, 12)),
)


@ORACLE
@given(st.lists(_DOUBLES, min_size=200, max_size=200))
def test_double_to_string_is_jdk17s(flink_oracle: Any, values: list[float]) -> None:
    replies = flink_oracle.ask([["DOUBLE_TO_STRING", _bits(v)] for v in values])
    found = [
        (v, r.value, java_format.double_to_string(v))
        for v, r in zip(values, replies, strict=True)
        if r.value != java_format.double_to_string(v)
    ]
    assert not found, found[:5]


@ORACLE
@given(
    st.lists(
        st.floats(0, 1e15) | st.integers(1, LONG_MAX).map(lambda n: n / 2**20),
        min_size=200,
        max_size=200,
    )
)
def test_format_3f_is_jdk17s(flink_oracle: Any, values: list[float]) -> None:
    replies = flink_oracle.ask([["FORMAT3", _bits(v)] for v in values])
    found = [
        (v, r.value, java_format.format_fixed(v, 3))
        for v, r in zip(values, replies, strict=True)
        if r.value != java_format.format_fixed(v, 3)
    ]
    assert not found, found[:5]


_NUMBER_TEXT = st.one_of(
    _fraction_text(0.0, 3.4e38),
    _fraction_text(0.0, 1e-30),
    st.sampled_from(_BROKEN_FRACTIONS),
    st.text(alphabet="0123456789.eE+-xXpPfdDaN \t", max_size=12),
    st.builds(
        lambda whole, frac, exp: f"{whole}.{frac}e{exp}",
        st.integers(0, 10**30),
        st.integers(0, 10**30),
        st.integers(-400, 400),
    ),
)


def _parsed(text: str, fmt: tuple[int, int, int]) -> str | None:
    try:
        return _bits(java_parse.parse_java_float(text, fmt))
    except errors.NumberFormat:
        return None


@ORACLE
@given(st.lists(_NUMBER_TEXT, min_size=100, max_size=100))
def test_float_and_double_parsing_is_javas(flink_oracle: Any, texts: list[str]) -> None:
    for request, fmt in (
        ("PARSE_FLOAT", java_parse.BINARY32),
        ("PARSE_DOUBLE", java_parse.BINARY64),
    ):
        replies = flink_oracle.ask([[request, text] for text in texts])
        found = []
        for text, reply in zip(texts, replies, strict=True):
            java = reply.value if reply.ok else None
            ours = _parsed(text, fmt)
            # NaN payloads may differ; any NaN is the same value to Flink.
            nan = java is not None and ours is not None and _is_nan(java) and _is_nan(ours)
            if java != ours and not nan:
                found.append((request, text, java, ours))
        assert not found, found[:5]


def _is_nan(bits: str) -> bool:
    return math.isnan(struct.unpack(">d", bytes.fromhex(bits))[0])


@ORACLE
@given(
    st.lists(
        st.tuples(
            st.integers(0, LONG_MAX) | st.integers(0, 2**40),
            st.integers(0, 0x3F7FFFFF).map(_widened)
            | st.integers(0, 0x3F7FFFFF).map(_widened).map(lambda f: f / (1 - f)),
        ),
        min_size=100,
        max_size=100,
    )
)
def test_multiply_and_human_readable_are_flinks(
    flink_oracle: Any, cases: list[tuple[int, float]]
) -> None:
    replies = flink_oracle.ask([["MULTIPLY", str(size), _bits(f)] for size, f in cases])
    for (size, factor), reply in zip(cases, replies, strict=True):
        try:
            ours = str(memory_size.multiply(size, factor))
        except errors.JavaError as exc:
            ours = f"ERR {exc}"
        assert ours == (reply.value if reply.ok else f"ERR {reply.message}"), (size, factor)
    sizes = [size for size, _ in cases]
    humans = flink_oracle.ask([["HUMAN", str(size)] for size in sizes])
    assert [memory_size.human(size) for size in sizes] == [reply.value for reply in humans]
