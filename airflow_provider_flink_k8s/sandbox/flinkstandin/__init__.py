"""A stand-in of Flink's REST API for simulated JobManager containers.

On the ``simulated`` runtime a standalone Flink JobManager container (image running
Flink, argument ``jobmanager`` or ``standalone-job``) serves this instead of the plain
HTTP stub, so a deploy becomes ready and jobs, savepoints and rescales run without a JVM.
Its answers have Flink 2.x's shapes (checked against a real JobManager by
``tests/flink/test_standin_shapes.py``); its state follows the sandbox's pods (a
TaskManager registers while its pod is Ready).

Modules: :mod:`.server` (the routes), :mod:`.cluster` (one JobManager's state),
:mod:`.jobs` (a job's lifecycle and JSON), :mod:`.views` (cluster-wide answers),
:mod:`.checkpoints`, :mod:`.jars`, :mod:`.memory` (a TaskManager's memory as Flink
derives it), :mod:`.errors` (Flink's error bodies). Which containers get one and which
TaskManagers it has is the simulated runtime's business
(:mod:`..runtime.simulatedflink`); this package knows nothing of pods.
"""

from __future__ import annotations

from airflow_provider_flink_k8s.sandbox.flinkstandin.cluster import StandInCluster
from airflow_provider_flink_k8s.sandbox.flinkstandin.errors import FlinkRestFailure
from airflow_provider_flink_k8s.sandbox.flinkstandin.jobs import StandInJob
from airflow_provider_flink_k8s.sandbox.flinkstandin.memory import (
    TaskManagerMemory,
    taskmanager_memory,
)
from airflow_provider_flink_k8s.sandbox.flinkstandin.server import ROUTES, StandInServer
from airflow_provider_flink_k8s.sandbox.flinkstandin.views import RegisteredTaskManager

__all__ = [
    "FlinkRestFailure",
    "ROUTES",
    "RegisteredTaskManager",
    "StandInCluster",
    "StandInJob",
    "StandInServer",
    "TaskManagerMemory",
    "taskmanager_memory",
]
