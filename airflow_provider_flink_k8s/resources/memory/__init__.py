"""Flink's memory model, computed exactly as Flink 2.3 computes it.

:func:`taskmanager_memory` and :func:`jobmanager_memory` take a Flink configuration (keys to
string values, as Flink receives them from ``-D key=value`` or ``flinkConfiguration``) and
return every memory component in bytes, the JVM options Flink's scripts pass
(``-Xmx``/``-Xms``/``-XX:Max...``) and the ``-D`` properties BashJavaUtils hands the process.
Each refused configuration raises :class:`FlinkConfigurationError` with the message Flink
dies with, word for word.

What "exactly" covers (all of it checked byte for byte against Flink's own BashJavaUtils by
``tests/resources/test_memory_oracle.py``):

* The derivation order of ``ProcessMemoryUtils``, ``TaskExecutorFlinkMemoryUtils`` and
  ``JobManagerFlinkMemoryUtils``: fine-grained sizes (TM task heap + managed size, JM heap)
  win over the total Flink size, which wins over the total process size; fractions with
  min/max for network, managed and JVM overhead memory; Flink's defaults; every range and
  consistency check, in the order Flink makes them, so the first failure reported is
  Flink's.
* Deprecated keys Flink 2.3 still reads as fallbacks: ``taskmanager.memory.size`` (managed
  size) and ``taskmanager.network.memory.{min,max,fraction}``. The pre-1.10 keys
  ``taskmanager.heap.size`` and ``jobmanager.heap.size`` are *not* read by Flink 2.3 (the
  legacy mapping was removed), so they are ignored here too.
* Value parsing: memory sizes with ``MemorySize.parse``, fractions with
  ``Float.parseFloat`` (``"4e-1"``, ``"0x1p-2"``, ``"0.4f"``, ``" 0.4 "`` are accepted,
  ``"inf"`` or ``"1_0"`` are not), CPU cores with ``Double.parseDouble``, slots with
  ``Integer.parseInt`` (no surrounding blanks), booleans case-insensitively.
* Arithmetic: fractions are Java floats widened to double; ``MemorySize.multiply`` is
  ``BigDecimal.valueOf(bytes) * BigDecimal.valueOf(double)`` truncated toward zero, where
  ``BigDecimal.valueOf(double)`` goes through ``Double.toString``. Long overflow fails like
  Flink's ``Math.addExact`` (``"long overflow"``).

``Double.toString`` on JDK 17 (the Java Flink 2.3 targets) is not Python's ``repr``: before
JDK 19 it sometimes prints more digits than the shortest round-trip string (``2.0**62`` is
``4.6116860184273879E18``, ``1e23`` is ``9.999999999999999E22``), and a different string is
a different ``BigDecimal``, so a product could differ by a byte. Sampling found no fraction
(a float widened to double) and no inverse ratio ``f / (1 - f)`` where JDK 17 and ``repr``
disagree, but sampling is no proof and ``taskmanager.cpu.cores`` takes any double, so this
package ports JDK 17's ``FloatingDecimal.dtoa`` (``int``/``long`` wrap-around included) and
``FormattedFloatingDecimal``: every double is printed as the JVM running Flink prints it,
including the ``%.3f`` of ``MemorySize.toHumanReadableString``, which rounds half-up on
those digits (``1.0005`` gives ``1.001`` where C's ``printf`` gives ``1.000``).

Messages: the TaskManager path prefixes Flink's own checks with ``"TaskManager memory
configuration failed: "``; the JobManager path of Flink 2.3 has no such prefix, so
JobManager messages carry none either. Parse errors of non-memory options (``Could not
parse value ...``) and ``long overflow`` are never prefixed, as in Flink.

Not modelled: external resources (``external-resources``; the ``-D`` line always carries
``external-resources=none``) and YAML typing of values in a ``config.yaml`` file (a value
here is always the string Flink's ``Configuration`` holds).

The names below are the API; the modules hold the implementation, each a part of Flink:

* :mod:`.taskmanager` and :mod:`.jobmanager`: the two derivations and their results;
* :mod:`.process`: ``ProcessMemoryUtils``, the steps both share (JVM metaspace, overhead);
* :mod:`.options`: the configuration options and how ``Configuration`` reads them;
* :mod:`.memory_size`: ``MemorySize`` arithmetic and ``toHumanReadableString``;
* :mod:`.java_parse` and :mod:`.java_format`: Java's number parsing and JDK 17's printing;
* :mod:`.errors`: the Java exceptions, as far as their messages go.
"""

from __future__ import annotations

from airflow_provider_flink_k8s.exceptions import FlinkConfigurationError
from airflow_provider_flink_k8s.resources.memory.jobmanager import (
    JobManagerMemory,
    jobmanager_memory,
)
from airflow_provider_flink_k8s.resources.memory.taskmanager import (
    TaskManagerMemory,
    taskmanager_memory,
)

__all__ = [
    "FlinkConfigurationError",
    "JobManagerMemory",
    "TaskManagerMemory",
    "jobmanager_memory",
    "taskmanager_memory",
]
