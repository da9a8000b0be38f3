"""``ProcessMemoryUtils``: fractions with min/max, and a process's JVM metaspace and overhead.

Shared by the TaskManager and the JobManager derivations: a size derived as a fraction
(or an inverse fraction) capped to its range, the JVM part around a known total Flink size
or carved out of a total process size, with Flink's checks in Flink's order, and the error
for a configuration that sets none of the sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_flink_k8s.resources.memory.errors import IllegalConfiguration
from airflow_provider_flink_k8s.resources.memory.java_format import double_to_string
from airflow_provider_flink_k8s.resources.memory.memory_size import (
    add,
    human,
    multiply,
    subtract,
)
from airflow_provider_flink_k8s.resources.memory.options import Config, Option, ProcessOptions

__all__ = [
    "RangeFraction",
    "derive_with_fraction",
    "derive_with_inverse_fraction",
    "jvm_from_total_flink",
    "jvm_from_total_process",
    "missing_sizes",
    "range_fraction",
]


@dataclass(frozen=True)
class RangeFraction:
    """``ProcessMemoryUtils.RangeFraction``: a size's min, max and fraction."""

    min: int
    max: int
    fraction: float


def range_fraction(config: Config, minimum: int, maximum: int, option: Option) -> RangeFraction:
    """``ProcessMemoryUtils.getRangeFraction``: a float in [0, 1) and min <= max."""
    fraction = config.fraction(option)
    if not (minimum <= maximum and 0 <= fraction < 1):
        raise IllegalConfiguration(
            f"Inconsistently configured {option} ({double_to_string(fraction)}) and "
            f"its min ({human(minimum)}), max ({human(maximum)}) value"
        )
    return RangeFraction(minimum, maximum, fraction)


def _cap(size: int, rf: RangeFraction) -> int:
    if size > rf.max:
        return rf.max
    return max(size, rf.min)


def derive_with_fraction(base: int, rf: RangeFraction) -> int:
    """A size that is ``rf.fraction`` of ``base``, capped to the range."""
    return _cap(multiply(base, rf.fraction), rf)


def derive_with_inverse_fraction(base: int, rf: RangeFraction) -> int:
    """A size that is ``rf.fraction`` of ``base`` plus itself, capped to the range."""
    # Java computes the ratio in double arithmetic first, exactly like this.
    return _cap(multiply(base, rf.fraction / (1 - rf.fraction)), rf)


def _overhead_range(config: Config, options: ProcessOptions) -> RangeFraction:
    minimum = config.memory(options.overhead_min)
    maximum = config.memory(options.overhead_max)
    return range_fraction(config, minimum, maximum, options.overhead_fraction)


def jvm_from_total_process(
    config: Config, options: ProcessOptions, process: int
) -> tuple[int, int]:
    """(metaspace, overhead) when only the total process size is given."""
    metaspace = config.memory(options.metaspace)
    overhead = derive_with_fraction(process, _overhead_range(config, options))
    if add(metaspace, overhead) > process:
        raise IllegalConfiguration(
            f"Sum of configured JVM Metaspace ({human(metaspace)}) and JVM Overhead "
            f"({human(overhead)}) exceed configured Total Process Memory ({human(process)})."
        )
    return metaspace, overhead


def jvm_from_total_flink(config: Config, options: ProcessOptions, flink: int) -> tuple[int, int]:
    """(metaspace, overhead) around a known total Flink size."""
    metaspace = config.memory(options.metaspace)
    flink_and_metaspace = add(flink, metaspace)
    if not config.contains(options.total_process):
        overhead = derive_with_inverse_fraction(
            flink_and_metaspace, _overhead_range(config, options)
        )
        add(flink, metaspace, overhead)  # Flink sums these for a check that cannot fail
        return metaspace, overhead
    process = config.memory(options.total_process)
    flink_and_metaspace = add(flink, config.memory(options.metaspace))
    if process < flink_and_metaspace:
        raise IllegalConfiguration(
            f"The configured Total Process Memory size ({human(process)}) is less than the "
            f"sum of the derived Total Flink Memory size ({human(flink)}) and the configured "
            f"or default JVM Metaspace size  ({human(metaspace)})."
        )
    overhead = subtract(process, flink_and_metaspace)
    rf = _overhead_range(config, options)
    if overhead > rf.max or overhead < rf.min:
        raise IllegalConfiguration(
            f"Derived JVM Overhead size ({human(overhead)}) is not in configured JVM Overhead "
            f"range [{human(rf.min)}, {human(rf.max)}]."
        )
    return metaspace, overhead


def missing_sizes(options: ProcessOptions) -> IllegalConfiguration:
    """The error for a configuration with none of the three ways to size the process."""
    fine_grained = " and ".join(option.key for option in options.fine_grained)
    return IllegalConfiguration(
        f"Either required fine-grained memory ({fine_grained}), or Total Flink Memory size "
        f"({options.total_flink}), or Total Process Memory size ({options.total_process}) "
        "need to be configured explicitly."
    )
