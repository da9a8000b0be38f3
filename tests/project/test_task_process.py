"""The kill-test harness itself: a task run in its own process, SIGKILLed mid-step, and
run again as the same task instance."""

from __future__ import annotations

from pathlib import Path

from task_process import TaskProcess, create_run, needs_task_process

pytestmark = needs_task_process


def test_a_task_killed_mid_step_runs_again_as_the_same_task_instance(
    dag_bag: object, tmp_path: Path
) -> None:
    mark = tmp_path / "mark"
    run_id = create_run("flink_test_worker", "harness-run", {"mark": str(mark)})
    first = TaskProcess("flink_test_worker", "work", run_id, log=tmp_path / "task.log")
    first.kill_when(mark.exists, "the task marked its start")
    assert first.process.returncode == -9

    again = TaskProcess("flink_test_worker", "work", run_id, log=tmp_path / "task.log")
    assert again.finish() == "success", again.output
    assert "Returned value was: started" in again.output
    assert again.output.count("harness-run") >= 2
