"""Fixtures for the real-Flink tests (helpers are in ``flink_support.py``).

The ``slow`` marker is registered here (select with ``-m slow``, skip with ``-m "not
slow"``); the tests are not skipped by default and fail -- never skip -- without Java 17
or Flink's jars. A session fixture checks that no Flink process, and no child ``java``
process at all, outlives the tests.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from airflow_provider_flink_k8s.sandbox.flink import (
    FlinkDistributionError,
    build_sql_runner_jar,
    find_distribution,
    find_java,
    live_processes,
)

if TYPE_CHECKING:
    from collections.abc import Iterator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "slow: starts real Flink JobManagers/TaskManagers (Java 17 + apache-flink-libraries); "
        'deselect with -m "not slow"',
    )


def _java_children() -> list[int]:
    """PIDs of ``java`` processes whose parent is this Python process."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        if ppid == os.getpid() and comm == "java":
            pids.append(int(stat.parent.name))
    return pids


@pytest.fixture(scope="session", autouse=True)
def no_leftover_flink_processes() -> Iterator[None]:
    """Every test stops what it starts: nothing registered and no child JVM is left."""
    yield
    leftovers = live_processes()
    for process in leftovers:
        process.kill()
    assert leftovers == (), f"Flink processes left running: {leftovers}"
    assert _java_children() == [], "java child processes left running"


@pytest.fixture(scope="session")
def java_ready() -> None:
    """Fail (not skip) without a JDK or Flink's jars: CI must run these tests."""
    try:
        find_distribution()
        java = find_java()
    except FlinkDistributionError as exc:
        pytest.fail(str(exc), pytrace=False)
    if java.javac is None:
        pytest.fail("the SQL runner needs javac: apt-get install -y openjdk-17-jdk-headless")


@pytest.fixture(scope="session")
def sql_runner_jar(java_ready: None) -> Path:
    return build_sql_runner_jar()
