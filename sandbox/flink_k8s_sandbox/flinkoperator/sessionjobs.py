"""One reconcile pass over a FlinkSessionJob: a job on a session FlinkDeployment.

Sequence: CREATED -> (session cluster READY) submitted: DEPLOYED, job RECONCILING with
its job id -> RUNNING -> STABLE. A spec change: UPGRADING (event ``SpecChanged``), then
submitted again with a new job id; ``job.state: suspended``: SUSPENDED. A missing
session cluster, or one that runs an application, is an ``error`` (FAILED before the
first submission). Deleting the job cancels it and removes the finalizer.

The session cluster's TaskManagers are the ones its own spec asks for; a session job
starts none (Flink's active resource manager would).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from flink_k8s_sandbox.events import WARNING
from flink_k8s_sandbox.flinkoperator.access import OperatorAccess
from flink_k8s_sandbox.flinkoperator.deployments import finish_status
from flink_k8s_sandbox.flinkoperator.status import (
    SESSION_JOB_FINALIZER,
    error_json,
    job_id_for,
    reconciled_spec,
    serialize_spec,
    spec_changed_message,
)
from flink_k8s_sandbox.flinkoperator.validation import validate_session_job

__all__ = ["SessionJobReconciler"]

Obj = dict[str, Any]
_PLURAL = "flinksessionjobs"
_VALIDATION_ERROR = "org.apache.flink.kubernetes.operator.exception.ValidationException"


def _ms() -> int:
    return int(time.time() * 1000)


class SessionJobReconciler:
    """Reconciles FlinkSessionJobs (one pass per call).

    :param access: reads and writes.
    """

    def __init__(self, access: OperatorAccess) -> None:
        self.access = access

    def _write(self, obj: Mapping[str, Any], change: Callable[[Obj], None]) -> bool:
        def apply(status: Obj, current: Obj) -> None:
            change(status)
            finish_status(status, current, deployment=False)

        meta = obj["metadata"]
        return self.access.update_status(_PLURAL, meta["namespace"], meta["name"], apply)

    def reconcile(self, obj: Obj) -> bool:
        """One pass; True when another pass should follow after a step."""
        meta, spec = obj["metadata"], obj.get("spec") or {}
        if meta.get("deletionTimestamp"):
            return self._cleanup(obj)
        if SESSION_JOB_FINALIZER not in (meta.get("finalizers") or []):
            self.access.set_finalizer(_PLURAL, obj, SESSION_JOB_FINALIZER, True)
            return True
        problem = next(iter(validate_session_job(spec)), None) or self._cluster_problem(obj)
        status = obj.get("status") or {}
        if problem is not None:
            return self._refuse(obj, problem)
        if not status.get("lifecycleState") or status.get("error"):
            return self._write(
                obj, lambda s: s.update(error=None, jobStatus=s.get("jobStatus") or {})
            )
        session = self.access.find("flinkdeployments", meta["namespace"], spec["deploymentName"])
        if (session or {}).get("status", {}).get("jobManagerDeploymentStatus") != "READY":
            return False
        generation = int(meta.get("generation", 1))
        reconciliation = status.get("reconciliationStatus") or {}
        if not reconciliation.get("lastReconciledSpec"):
            return self._submit(obj)
        if status.get("observedGeneration") != generation:
            if reconciliation.get("state") != "UPGRADING":
                return self._upgrading(obj)
            return self._submit(obj)
        return self._progress(obj)

    def _cluster_problem(self, obj: Obj) -> str | None:
        meta, spec = obj["metadata"], obj["spec"]
        session = self.access.find("flinkdeployments", meta["namespace"], spec["deploymentName"])
        if session is None:
            return "Session cluster deployment is not found"
        if (session.get("spec") or {}).get("job"):
            return "Can not submit session job to application cluster"
        return None

    def _refuse(self, obj: Obj, problem: str) -> bool:
        error = error_json(problem, kind=_VALIDATION_ERROR)
        if (obj.get("status") or {}).get("error") == error:
            return False
        self.access.event(obj, "ValidationError", problem, WARNING)
        return self._write(obj, lambda s: s.update(error=error))

    def _upgrading(self, obj: Obj) -> bool:
        old = reconciled_spec(obj.get("status") or {})
        message = spec_changed_message("UPGRADE", "FlinkSessionJob", old, obj["spec"])
        self.access.event(obj, "SpecChanged", message)
        return self._write(obj, lambda s: s["reconciliationStatus"].update(state="UPGRADING"))

    def _submit(self, obj: Obj) -> bool:
        meta, spec = obj["metadata"], obj["spec"]
        generation = int(meta.get("generation", 1))
        first = not reconciled_spec(obj.get("status") or {})
        suspended = (spec.get("job") or {}).get("state") == "suspended"
        if not suspended:
            self.access.event(obj, "Submit", "Starting deployment")

        def change(status: Obj) -> None:
            status["observedGeneration"] = generation
            status["reconciliationStatus"] = {
                **(status.get("reconciliationStatus") or {}),
                "state": "DEPLOYED",
                "lastReconciledSpec": serialize_spec(spec, generation, first=first),
                "reconciliationTimestamp": _ms(),
            }
            status["jobStatus"] = {
                **(status.get("jobStatus") or {}),
                "jobName": meta["name"],
                "jobId": job_id_for(meta["uid"], generation),
                "state": "SUSPENDED" if suspended else "RECONCILING",
                "updateTime": str(_ms()),
            }

        return self._write(obj, change)

    def _progress(self, obj: Obj) -> bool:
        status = obj.get("status") or {}
        state = (status.get("jobStatus") or {}).get("state")
        if state == "RECONCILING":

            def running(status: Obj) -> None:
                now = str(_ms())
                status["jobStatus"].update(state="RUNNING", startTime=now, updateTime=now)

            return self._write(obj, running)
        reconciliation = status.get("reconciliationStatus") or {}
        last = reconciliation.get("lastReconciledSpec")
        if state == "RUNNING" and last != reconciliation.get("lastStableSpec"):
            return self._write(obj, lambda s: s["reconciliationStatus"].update(lastStableSpec=last))
        return False

    def _cleanup(self, obj: Obj) -> bool:
        meta = obj["metadata"]
        if SESSION_JOB_FINALIZER not in (meta.get("finalizers") or []):
            return False
        if (obj.get("status") or {}).get("lifecycleState") != "DELETING":
            self.access.event(obj, "Cleanup", "Cancelling the job")
            return self._write(obj, lambda s: s.update(lifecycleState="DELETING"))
        self.access.set_finalizer(_PLURAL, obj, SESSION_JOB_FINALIZER, False)
        return False
