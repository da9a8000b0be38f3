"""Observe, then decide: what a cluster looks like at one moment, and what that means.

Pure like the rest of the core (no I/O, Airflow or Kubernetes client): hooks build a
:class:`ClusterSnapshot` from the raw objects and REST answers they fetched; sensors,
triggers and operators pass it, with the time, to one classifier and act on the
:class:`Verdict` -- PROGRESSING, READY, FAILED (with the cause), MISSING or DELETED:

- :func:`classify_cluster` -- a standalone cluster (Deployments rolled out, pods Ready,
  JobManager REST answering, TaskManagers and slots registered);
- :func:`classify_cluster_job` / :func:`classify_job` -- a job, by Flink's ``JobStatus``;
  :func:`job_states` -- the rule of every argument naming job states; :func:`running_job`
  -- the job a request acts on (the given one, else the only RUNNING one);
- :func:`classify_flink_deployment` / :func:`classify_operator_deployment` -- the
  operator target, by the FlinkDeployment's lifecycle;
- :func:`classify_tasks_running`, :func:`classify_savepoint`,
  :func:`classify_operator_savepoint`, :func:`classify_suspend` -- savepoints;
- :func:`classify_deletion` -- a cluster's objects (or FlinkSessionJobs) gone.

:class:`~airflow_provider_flink_k8s.observation.waits.WaitFor` picks the classifier a
wait needs, and says what an observer must read for it.

A trigger yields :meth:`Outcome.to_event`; the task reads it back with
:meth:`Outcome.from_event` and :meth:`Outcome.raise_for_failure`.
"""

from __future__ import annotations

from airflow_provider_flink_k8s.exceptions import DeploymentFailed, DeploymentTimeout
from airflow_provider_flink_k8s.observation.cluster import (
    classify_cluster,
    find_cluster_failure,
    last_progress,
)
from airflow_provider_flink_k8s.observation.deletion import classify_deletion
from airflow_provider_flink_k8s.observation.flink import (
    FlinkDeploymentState,
    FlinkJob,
    FlinkOverview,
    SavepointState,
    operator_error,
    root_exception_of,
    summarize_exception,
)
from airflow_provider_flink_k8s.observation.flinkdeployment import (
    Target,
    classify_flink_deployment,
    classify_operator_deployment,
)
from airflow_provider_flink_k8s.observation.job import (
    GLOBALLY_TERMINAL_JOB_STATES,
    JOB_STATES,
    JobSighting,
    ListedJob,
    classify_cluster_job,
    classify_job,
    job_states,
    running_job,
    select_job,
)
from airflow_provider_flink_k8s.observation.pods import (
    DEFAULT_CRASHLOOP_RESTARTS,
    DEFAULT_UNSCHEDULABLE_GRACE,
    find_pod_failure,
    pod_findings,
)
from airflow_provider_flink_k8s.observation.rollout import deployment_rolled_out
from airflow_provider_flink_k8s.observation.savepoints import (
    classify_operator_savepoint,
    classify_savepoint,
    classify_suspend,
    classify_tasks_running,
)
from airflow_provider_flink_k8s.observation.snapshot import ClusterSnapshot, LogSource
from airflow_provider_flink_k8s.observation.verdict import Lifecycle, Outcome, Reason, Verdict
from airflow_provider_flink_k8s.observation.workloads import (
    Condition,
    ContainerStatus,
    DeploymentState,
    EventRecord,
    PodState,
)

__all__ = [
    "ClusterSnapshot",
    "Condition",
    "ContainerStatus",
    "DEFAULT_CRASHLOOP_RESTARTS",
    "DEFAULT_UNSCHEDULABLE_GRACE",
    "DeploymentFailed",
    "DeploymentState",
    "DeploymentTimeout",
    "EventRecord",
    "FlinkDeploymentState",
    "FlinkJob",
    "FlinkOverview",
    "GLOBALLY_TERMINAL_JOB_STATES",
    "JOB_STATES",
    "JobSighting",
    "Lifecycle",
    "ListedJob",
    "LogSource",
    "Outcome",
    "PodState",
    "Reason",
    "SavepointState",
    "Target",
    "Verdict",
    "classify_cluster",
    "classify_cluster_job",
    "classify_deletion",
    "classify_flink_deployment",
    "classify_job",
    "classify_operator_deployment",
    "classify_operator_savepoint",
    "classify_savepoint",
    "classify_suspend",
    "classify_tasks_running",
    "deployment_rolled_out",
    "find_cluster_failure",
    "find_pod_failure",
    "job_states",
    "last_progress",
    "operator_error",
    "pod_findings",
    "root_exception_of",
    "running_job",
    "select_job",
    "summarize_exception",
]
