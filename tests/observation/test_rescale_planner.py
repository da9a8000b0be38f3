"""Every branch of the rescale planner: the next step from what is seen and recorded."""

from __future__ import annotations

from typing import Any

from airflow_provider_flink_k8s.observation.intent import Intent
from airflow_provider_flink_k8s.observation.rescale import (
    JobView,
    RescaleObservation,
    SavepointView,
    next_step,
    rescale_result,
)

OLD, NEW = "a" * 32, "b" * 32
TARGETS = {"v1": 4, "v2": 4}


def _intent(strategy: str = "in_place", **changes: Any) -> Intent:
    base = Intent(
        operation="rescale",
        owner="dag/rescale/run/-1",
        strategy=strategy,
        step="planned",
        job_id=OLD,
        old_parallelism=2,
        new_parallelism=4,
        targets=TARGETS,
        taskmanagers_before=1,
        taskmanagers_after=2,
        trigger_id="t" * 32 if strategy == "savepoint_restart" else None,
        new_job_id=NEW if strategy == "savepoint_restart" else None,
        started_at=100.0,
    )
    return base.model_copy(update=changes)


def _job(
    job_id: str = OLD, state: str = "RUNNING", p: int = 2, *, start: int = 110_000, **kw: Any
) -> JobView:
    return JobView(
        id=job_id,
        state=state,
        parallelisms={"v1": p, "v2": p},
        vertex_states=("RUNNING", "RUNNING") if state == "RUNNING" else (state, state),
        vertex_start_times=(start - 500, start),
        **kw,
    )


def _seen(job: JobView | None = None, **kw: Any) -> RescaleObservation:
    fields: dict[str, Any] = {
        "jobs": {job.id: job.state} if job else {},
        "job": job,
        "taskmanagers": 1,
        "slots_total": 2,
        "slots_per_taskmanager": 2,
    }
    fields.update(kw)
    return RescaleObservation(**fields)


# -- in place ---------------------------------------------------------------------------


def test_in_place_scales_the_taskmanagers_up_first() -> None:
    step = next_step(_intent(), _seen(_job(), requirements={"v1": 2, "v2": 2}))
    assert (step.action, step.count, step.intent.step) == ("scale_taskmanagers", 2, "scale_up")


def test_in_place_waits_for_the_new_slots() -> None:
    seen = _seen(_job(), requirements={"v1": 2, "v2": 2}, taskmanagers=2, slots_total=2)
    assert next_step(_intent(step="scale_up"), seen).action == "await_slots"


def test_in_place_sets_the_requirements_once_the_slots_are_there() -> None:
    seen = _seen(_job(), requirements={"v1": 2, "v2": 2}, taskmanagers=2, slots_total=4)
    step = next_step(_intent(step="scale_up"), seen)
    assert (step.action, step.intent.step) == ("set_requirements", "requirements")


def test_in_place_scaling_down_sets_the_requirements_first() -> None:
    intent = _intent(taskmanagers_before=2, taskmanagers_after=1, targets={"v1": 1, "v2": 1})
    seen = _seen(_job(), requirements={"v1": 2, "v2": 2}, taskmanagers=2, slots_total=4)
    assert next_step(intent, seen).action == "set_requirements"


def test_in_place_waits_for_every_vertex_at_the_target() -> None:
    seen = _seen(_job(p=2), requirements=TARGETS, taskmanagers=2, slots_total=4)
    step = next_step(_intent(step="requirements"), seen)
    assert step.action == "await_vertices" and step.waits


def test_in_place_retry_scales_the_surplus_taskmanagers_down() -> None:
    # Killed after the requirements were set: the job already runs at the target, but
    # the TaskManagers planned away are still there.
    intent = _intent(
        step="requirements", taskmanagers_before=2, taskmanagers_after=1, targets={"v1": 1, "v2": 1}
    )
    seen = _seen(_job(p=1), requirements={"v1": 1, "v2": 1}, taskmanagers=2, slots_total=4)
    step = next_step(intent, seen)
    assert (step.action, step.count, step.intent.step) == ("scale_taskmanagers", 1, "scale_down")
    # ... then waits until they are gone from Flink, then is done.
    seen = _seen(_job(p=1), requirements={"v1": 1, "v2": 1}, taskmanagers=1, slots_total=4)
    assert (next_step(step.intent, seen).action, next_step(step.intent, seen).count) == (
        "await_release",
        2,
    )
    seen = _seen(_job(p=1), requirements={"v1": 1, "v2": 1}, taskmanagers=1, slots_total=2)
    assert next_step(step.intent, seen).action == "done"


def test_in_place_done_measures_downtime_from_the_restart_and_time_to_target() -> None:
    # The adaptive scheduler's new execution graph: CREATED once the old tasks were
    # cancelled (a RESTARTING of the same graph would count too).
    job = _job(p=4, timestamps={"INITIALIZING": 90_000, "CREATED": 108_000, "RUNNING": 109_000})
    seen = _seen(job, requirements=TARGETS, taskmanagers=2, slots_total=4)
    step = next_step(_intent(step="requirements"), seen)
    assert step.action == "done" and step.intent.step == "done"
    assert step.intent.downtime_seconds == 2.0  # 108 s -> last vertex started at 110 s
    assert step.intent.time_to_target_seconds == 10.0
    result = rescale_result(step.intent)
    assert result["job_id"] == OLD and result["strategy"] == "in_place"
    assert (result["downtime_seconds"], result["time_to_target_seconds"]) == (2.0, 10.0)


def test_in_place_without_a_restart_since_the_start_has_no_downtime() -> None:
    job = _job(p=4, timestamps={"CREATED": 50_000, "RESTARTING": 60_000})
    seen = _seen(job, requirements=TARGETS, taskmanagers=2, slots_total=4)
    assert next_step(_intent(step="requirements"), seen).intent.downtime_seconds == 0.0


def test_in_place_fails_when_the_job_ended() -> None:
    step = next_step(_intent(), _seen(_job(state="FAILED")))
    assert step.action == "failed" and "FAILED" in step.detail
    assert step.failed_job == OLD  # its root exception is reported
    gone = next_step(_intent(), _seen(None))
    assert gone.action == "failed" and gone.failed_job is None
    canceled = next_step(_intent(), _seen(_job(state="CANCELED")))
    assert canceled.action == "failed" and canceled.failed_job is None


# -- savepoint and restart ----------------------------------------------------------------


def _restart(**changes: Any) -> Intent:
    return _intent("savepoint_restart", **changes)


def test_restart_stops_the_job_under_the_recorded_trigger_id() -> None:
    step = next_step(_restart(), _seen(_job()))
    assert (step.action, step.intent.step) == ("stop_with_savepoint", "stopping")
    assert step.intent.trigger_id == "t" * 32


def test_restart_stops_again_under_the_same_id_when_flink_never_got_it() -> None:
    step = next_step(_restart(step="stopping"), _seen(_job(), savepoint=None))
    assert step.action == "stop_with_savepoint" and step.intent.trigger_id == "t" * 32


def test_restart_awaits_a_savepoint_in_progress() -> None:
    seen = _seen(_job(), savepoint=SavepointView(completed=False))
    assert next_step(_restart(step="stopping"), seen).action == "await_savepoint"


def test_restart_awaits_the_job_finishing_after_its_savepoint() -> None:
    seen = _seen(_job(), savepoint=SavepointView(True, "file:/sp/1"))
    assert next_step(_restart(step="stopping"), seen).action == "await_stop"


def test_a_failed_savepoint_fails_and_says_the_job_runs_on() -> None:
    seen = _seen(_job(), savepoint=SavepointView(True, failure="disk full"))
    step = next_step(_restart(step="stopping"), seen)
    assert step.action == "failed" and "disk full" in step.detail and "runs on" in step.detail
    assert step.intent.finished


def test_a_stopped_job_with_a_savepoint_scales_then_resubmits() -> None:
    stopped = _job(state="FINISHED", end_time=105_000)
    seen = _seen(stopped, savepoint=SavepointView(True, "file:/sp/1"))
    step = next_step(_restart(step="stopping"), seen)
    assert (step.action, step.count) == ("scale_taskmanagers", 2)
    assert step.intent.savepoint_path == "file:/sp/1" and step.intent.stopped_at == 105.0
    seen = _seen(stopped, taskmanagers=2, slots_total=2)
    assert (next_step(step.intent, seen).action, next_step(step.intent, seen).count) == (
        "await_slots",
        4,
    )
    seen = _seen(stopped, taskmanagers=2, slots_total=4)
    step = next_step(step.intent, seen)
    assert (step.action, step.intent.step) == ("resubmit", "resubmitting")
    assert step.intent.new_job_id == NEW


def test_a_stopped_job_whose_trigger_expired_restarts_from_its_latest_savepoint() -> None:
    stopped = _job(state="FINISHED")
    seen = _seen(
        stopped, savepoint=None, latest_savepoint="file:/sp/2", taskmanagers=2, slots_total=4
    )
    step = next_step(_restart(step="stopping"), seen)
    assert step.action == "resubmit" and step.intent.savepoint_path == "file:/sp/2"


def test_a_stopped_job_without_any_savepoint_fails() -> None:
    step = next_step(_restart(step="stopping"), _seen(_job(state="FINISHED")))
    assert step.action == "failed" and "no savepoint" in step.detail
    step = next_step(_restart(step="stopping"), _seen(_job(state="CANCELED")))
    assert step.action == "failed" and step.failed_job is None
    step = next_step(_restart(step="stopping"), _seen(_job(state="FAILED")))
    assert step.action == "failed" and step.failed_job == OLD


def test_a_resubmitted_job_is_awaited_never_resubmitted() -> None:
    intent = _restart(step="resubmitting", savepoint_path="file:/sp/1")
    old = _job(state="FINISHED")
    new = _job(NEW, state="INITIALIZING", p=4)
    seen = _seen(old, jobs={OLD: "FINISHED", NEW: "INITIALIZING"}, new_job=new)
    assert next_step(intent, seen).action == "await_job"
    new = _job(NEW, p=2)
    seen = _seen(old, jobs={OLD: "FINISHED", NEW: "RUNNING"}, new_job=new)
    assert next_step(intent, seen).action == "await_vertices"


def test_a_resubmitted_job_at_the_target_is_done_with_the_downtime_from_the_stop() -> None:
    intent = _restart(step="resubmitting", savepoint_path="file:/sp/1", stopped_at=105.0)
    new = _job(NEW, p=4, start=112_000)
    seen = _seen(_job(state="FINISHED"), jobs={OLD: "FINISHED", NEW: "RUNNING"}, new_job=new)
    step = next_step(intent, seen)
    assert step.action == "done"
    result = rescale_result(step.intent)
    assert result["job_id"] == NEW and result["previous_job_id"] == OLD
    assert result["savepoint_path"] == "file:/sp/1"
    assert (result["downtime_seconds"], result["time_to_target_seconds"]) == (7.0, 12.0)


def test_a_failed_resubmitted_job_fails_naming_the_savepoint() -> None:
    intent = _restart(step="resubmitting", savepoint_path="file:/sp/1")
    new = _job(NEW, state="FAILED")
    step = next_step(intent, _seen(None, jobs={NEW: "FAILED"}, new_job=new))
    assert step.action == "failed" and "file:/sp/1" in step.detail
    assert step.failed_job == NEW


def test_an_application_cluster_is_redeployed_then_awaited() -> None:
    intent = _restart(new_job_id=None, step="stopping")
    stopped = _job(state="FINISHED")
    seen = _seen(stopped, savepoint=SavepointView(True, "file:/sp/1"), mode="application")
    step = next_step(intent, seen)
    assert (step.action, step.intent.step) == ("redeploy", "redeploying")
    seen = _seen(stopped, mode="application")
    assert next_step(step.intent, seen).action == "await_job"
    new = _job("c" * 32, p=4)
    seen = _seen(None, jobs={new.id: "RUNNING"}, new_job=new, mode="application")
    done = next_step(step.intent, seen)
    assert done.action == "done" and rescale_result(done.intent)["job_id"] == "c" * 32


def test_the_stop_time_is_recorded_by_whichever_step_first_sees_the_job_ended() -> None:
    intent = _restart(step="resubmitting", savepoint_path="file:/sp/1")
    old = _job(state="FINISHED", end_time=105_000)
    new = _job(NEW, state="INITIALIZING", p=4)
    seen = _seen(old, jobs={OLD: "FINISHED", NEW: "INITIALIZING"}, new_job=new)
    assert next_step(intent, seen).intent.stopped_at == 105.0


def test_a_restart_that_scales_down_waits_for_the_surplus_slots_to_go() -> None:
    # The new job must not land on TaskManagers about to leave; more slots than needed
    # after a scale-up (a TaskManager still registered) do not hold the restart.
    stopped = _job(state="FINISHED", end_time=105_000)
    down = _restart(step="scaling", taskmanagers_before=2, taskmanagers_after=1)
    down = down.model_copy(update={"savepoint_path": "file:/sp/1"})
    step = next_step(down, _seen(stopped, taskmanagers=1, slots_total=4))
    assert (step.action, step.count) == ("await_release", 2)
    step = next_step(down, _seen(stopped, taskmanagers=1, slots_total=2))
    assert step.action == "resubmit"
    up = _restart(step="scaling").model_copy(update={"savepoint_path": "file:/sp/1"})
    step = next_step(up, _seen(stopped, taskmanagers=2, slots_total=6))
    assert step.action == "resubmit"
