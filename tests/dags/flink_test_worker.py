"""A DAG for the test of the kill-test harness (tests/project/test_task_process.py): its
task marks that it started, then works until the test SIGKILLs it -- or, on a second run,
finds the mark and ends, as a resumed operation would."""

from __future__ import annotations

import time
from pathlib import Path

from airflow.sdk import DAG, Param, task

with DAG(
    dag_id="flink_test_worker",
    schedule=None,
    params={"mark": Param("", type="string")},
):

    @task
    def work(params: dict[str, str]) -> str:
        """Mark the start; with a mark from an earlier run, end at once."""
        mark = Path(params["mark"])
        if mark.exists():
            return mark.read_text()
        mark.write_text("started")
        time.sleep(600)
        return "slept"

    work()
