"""One-task DAGs for the sensor tests: a sensor on the cluster given in the run's config.

``flink_test_sensor_<case>`` pokes in the worker, ``..._deferred`` waits in the trigger.
The cases differ in what a single sensor is built with (a timeout and the fail-fast
thresholds are not templated): ``ready`` has room for real Flink to start, ``failfast``
gives up on an unschedulable pod after a second, ``deadline`` on a cluster that stops
making progress after three, ``missing`` times out after three (``soft``: with
``soft_fail``; ``softfail``: ``failfast`` with ``soft_fail``); ``job`` waits for the job
``params.job_id`` (empty: the latest) to be RUNNING, ``batch`` for it to be FINISHED
(``flink_test_sensor_batch_reschedule``: in ``reschedule`` mode).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Param

from airflow_provider_flink_k8s.sensors import FlinkClusterReadySensor, FlinkJobSensor

_CASES: dict[str, dict[str, Any]] = {
    "ready": {"timeout": 90},
    "failfast": {"timeout": 60, "unschedulable_grace": 1},
    "deadline": {"timeout": 60, "progress_deadline": 3},
    "missing": {"timeout": 3},
    "soft": {"timeout": 3, "soft_fail": True},
    "softfail": {"timeout": 30, "unschedulable_grace": 1, "soft_fail": True},
}

for deferrable in (False, True):
    suffix = "_deferred" if deferrable else ""
    for case, arguments in _CASES.items():
        with DAG(
            dag_id=f"flink_test_sensor_{case}{suffix}",
            schedule=None,
            render_template_as_native_obj=True,
            params={"cluster": Param({}, type="object")},
        ):
            FlinkClusterReadySensor(
                task_id="ready",
                cluster="{{ params.cluster }}",
                poke_interval=0.5,
                deferrable=deferrable,
                **arguments,
            )
    for case, states in (("job", ("RUNNING",)), ("batch", ("FINISHED",))):
        with DAG(
            dag_id=f"flink_test_sensor_{case}{suffix}",
            schedule=None,
            render_template_as_native_obj=True,
            params={"cluster": Param({}, type="object"), "job_id": Param("", type="string")},
        ):
            FlinkJobSensor(
                task_id="job",
                cluster="{{ params.cluster }}",
                job_id="{{ params.job_id }}",
                target_states=states,
                timeout=90,
                poke_interval=0.5,
                deferrable=deferrable,
            )

with DAG(
    dag_id="flink_test_sensor_batch_reschedule",
    schedule=None,
    render_template_as_native_obj=True,
    params={"cluster": Param({}, type="object"), "job_id": Param("", type="string")},
):
    FlinkJobSensor(
        task_id="job",
        cluster="{{ params.cluster }}",
        job_id="{{ params.job_id }}",
        target_states=("FINISHED",),
        timeout=90,
        poke_interval=1,
        mode="reschedule",
    )
