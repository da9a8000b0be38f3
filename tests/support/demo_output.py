"""What a successful ``flink-k8s-sandbox demo`` of the pipeline example prints.

Shared by the demo's test in a checkout and the one from installed wheels.
"""

from __future__ import annotations

__all__ = ["TASKS", "check_demo_output"]

TASKS = (
    "prepare_job",
    "deploy_session_cluster",
    "backfill",
    "submit_stream",
    "wait_running",
    "rescale",
    "savepoint",
    "teardown",
)


def check_demo_output(output: str) -> None:
    """What a successful demo of the pipeline DAG prints (also used by the wheel test)."""
    assert ": success" in output, output
    results: dict[str, list[str]] = {}
    task = ""
    for line in output.splitlines():
        if line.startswith("      ") and task:
            results[task].extend(line.split())
        elif line.startswith("  ") and len(line.split()) == 3:
            task, state, _took = line.split()
            assert state == "success", output
            results[task] = []
    assert set(results) == set(TASKS), output
    assert "old_parallelism=2" in results["rescale"], output
    assert "new_parallelism=4" in results["rescale"], output
    assert results["savepoint"][0].startswith("file:"), output
    assert results["prepare_job"][0].endswith("sql-runner.jar"), output
    assert "Flink processes left: 0" in output
