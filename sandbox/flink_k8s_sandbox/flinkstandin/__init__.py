"""A stand-in of Flink's REST API for simulated JobManager containers.

On the ``simulated`` runtime a standalone Flink JobManager container (image running
Flink, argument ``jobmanager`` or ``standalone-job``) serves this instead of the plain
HTTP stub, so a deploy becomes ready and jobs, savepoints and rescales run without a JVM.
Its answers have Flink 2.x's shapes (checked against a real JobManager by
``tests/flinkrest/test_standin_shapes.py``); its state follows the sandbox's pods (a
TaskManager registers while its pod is Ready).

Modules: :mod:`.server` (the routes), :mod:`.cluster` (one JobManager's state),
:mod:`.jobs` (a job's lifecycle and JSON), :mod:`.views` (cluster-wide answers),
:mod:`.checkpoints`, :mod:`.jars`, :mod:`.memory` (a TaskManager's memory as Flink
derives it), :mod:`.errors` (Flink's error bodies). Which containers get one and which
TaskManagers it has is the simulated runtime's business
(:mod:`..runtime.simulatedflink`); this package knows nothing of pods.
"""

from __future__ import annotations

from flink_k8s_sandbox.flinkstandin.cluster import StandInCluster
from flink_k8s_sandbox.flinkstandin.errors import FlinkRestFailure
from flink_k8s_sandbox.flinkstandin.jobs import StandInJob
from flink_k8s_sandbox.flinkstandin.memory import (
    TaskManagerMemory,
    taskmanager_memory,
)
from flink_k8s_sandbox.flinkstandin.server import ROUTES, StandInServer
from flink_k8s_sandbox.flinkstandin.views import RegisteredTaskManager

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
