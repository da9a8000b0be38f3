"""One reconcile pass over a FlinkDeployment: observe, validate, then one step forward.

:meth:`DeploymentReconciler.reconcile` makes at most one status transition per pass and
says whether it wants another one (the controller paces passes, :mod:`.reconciler`).
The order is the real controller's: cleanup of a deleted resource; the finalizer;
validation (a refused spec leaves the running cluster alone); the first deployment; an
upgrade in progress; observing the JobManager; a spec change (suspend, restore, scale,
upgrade); a savepoint nonce; the job's progress; marking the spec stable.

State sequences (application cluster; a session cluster has no job):

- create: CREATED -> (JobManager Deployment created) DEPLOYED with JobManager DEPLOYING,
  job RECONCILING -> JobManager DEPLOYED_NOT_READY -> READY (TaskManager pods created),
  job CREATED -> RUNNING once every TaskManager pod is Ready -> STABLE;
- upgrade: UPGRADING (event ``SpecChanged``) -> job stopped (SUSPENDED; savepoint
  mode: ``upgradeSavepointPath``) -> JobManager Deployment deleted (MISSING) -> deployed
  as on create with a new job id (``last-state``: the same);
- suspend: UPGRADING -> job stopped -> JobManager deleted -> SUSPENDED; resume: deployed
  as on create (from the savepoint in savepoint mode);
- ``taskManager.replicas`` alone: TaskManager pods added/removed (event ``Scaling``), no
  upgrade; parallelism overrides with the adaptive scheduler: event ``Scaling`` "In-place
  scaling triggered", no upgrade;
- savepoint nonce: ``savepointInfo.triggerId`` (event ``SavepointTriggered``) ->
  ``lastSavepoint`` + ``savepointHistory`` (a ``file://`` one is written to disk).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from flink_k8s_sandbox.events import WARNING
from flink_k8s_sandbox.flinkoperator import natives
from flink_k8s_sandbox.flinkoperator.access import (
    OperatorAccess,
    write_savepoint,
)
from flink_k8s_sandbox.flinkoperator.snapshots import (
    record_savepoint,
    savepoint_location,
    trigger_info,
)
from flink_k8s_sandbox.flinkoperator.status import (
    DEPLOYMENT_FINALIZER,
    DiffType,
    cluster_info,
    diff_type,
    error_json,
    job_id_for,
    lifecycle_state,
    observe_jobmanager,
    reconciled_spec,
    running_condition,
    serialize_spec,
    spec_changed_message,
    taskmanager_replicas,
)
from flink_k8s_sandbox.flinkoperator.validation import validate_deployment
from flink_k8s_sandbox.metadata import format_time

__all__ = ["DeploymentReconciler", "finish_status"]

Obj = dict[str, Any]
_PLURAL = "flinkdeployments"
_VALIDATION_ERROR = "org.apache.flink.kubernetes.operator.exception.ValidationException"
_STOPPED = frozenset({"SUSPENDED", "FINISHED", "CANCELED", "FAILED"})


def _ms() -> int:
    return int(time.time() * 1000)


def _job(obj: Mapping[str, Any]) -> Obj:
    return dict(obj.get("spec", {}).get("job") or {})


def finish_status(status: Obj, obj: Mapping[str, Any], *, deployment: bool = True) -> None:
    """Recompute what follows from the rest of a status: ``lifecycleState`` and (for a
    FlinkDeployment) the ``Running`` condition; drop ``None`` values (the CRD's schema
    has no nullable fields: the operator leaves unset fields out)."""
    _drop_nones(status)
    status["lifecycleState"] = lifecycle_state(status, deployment=deployment)
    if deployment:
        generation = int(obj["metadata"].get("generation", 1))
        application = bool(obj.get("spec", {}).get("job"))
        now = format_time(datetime.now(timezone.utc))
        status["conditions"] = [
            running_condition(status, application=application, generation=generation, now=now)
        ]


class DeploymentReconciler:
    """Reconciles FlinkDeployments (one pass per call).

    :param access: reads and writes.
    :param rng: for savepoint and trigger ids.
    """

    def __init__(self, access: OperatorAccess, rng: random.Random | None = None) -> None:
        self.access = access
        self.rng = rng or random.Random()
        self._tm_index: dict[str, int] = {}  # JobManager Deployment uid -> last TM index

    # -- helpers -------------------------------------------------------------------

    def _write(self, obj: Mapping[str, Any], change: Callable[[Obj], None]) -> bool:
        def apply(status: Obj, current: Obj) -> None:
            change(status)
            finish_status(status, current)

        meta = obj["metadata"]
        return self.access.update_status(_PLURAL, meta["namespace"], meta["name"], apply)

    def _jobmanager(self, obj: Mapping[str, Any]) -> Obj | None:
        meta = obj["metadata"]
        found = self.access.find("deployments", meta["namespace"], meta["name"])
        if found is None:
            return None
        owners = found["metadata"].get("ownerReferences") or []
        return found if any(o.get("uid") == meta["uid"] for o in owners) else None

    def _pods(self, obj: Mapping[str, Any], component: str) -> list[Obj]:
        meta = obj["metadata"]
        labels = {"app": meta["name"], "component": component, "type": natives.NATIVE_TYPE}
        return self.access.objects("pods", meta["namespace"], labels)

    # -- the pass ------------------------------------------------------------------

    def reconcile(self, obj: Obj) -> bool:
        """One pass; True when another pass should follow after a step."""
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return self._cleanup(obj)
        if DEPLOYMENT_FINALIZER not in (meta.get("finalizers") or []):
            self.access.set_finalizer(_PLURAL, obj, DEPLOYMENT_FINALIZER, True)
            return True
        status = obj.get("status") or {}
        problems = validate_deployment(obj.get("spec") or {})
        if problems:
            return self._refuse(obj, problems[0])
        if _VALIDATION_ERROR in str(status.get("error") or ""):
            return self._write(obj, lambda s: s.update(error=None))
        if not status.get("lifecycleState"):
            return self._write(obj, self._created)
        if not reconciled_spec(status):
            return self._deploy(obj, first=True)
        if (status.get("reconciliationStatus") or {}).get("state") == "UPGRADING":
            return self._continue_upgrade(obj)
        return (
            self._observe(obj)
            or self._spec_change(obj)
            or self._savepoint(obj)
            or self._progress(obj)
            or self._mark_stable(obj)
        )

    @staticmethod
    def _created(status: Obj) -> None:
        status.update(
            jobManagerDeploymentStatus="MISSING",
            reconciliationStatus={"state": "UPGRADING"},
            jobStatus={},
            error=None,
        )

    def _refuse(self, obj: Obj, problem: str) -> bool:
        error = error_json(problem, kind=_VALIDATION_ERROR)
        status = obj.get("status") or {}
        if status.get("error") == error:
            return False
        self.access.event(obj, "ValidationError", problem, WARNING)

        def change(status: Obj) -> None:
            status["error"] = error
            status.setdefault("jobManagerDeploymentStatus", "MISSING")
            status.setdefault("reconciliationStatus", {"state": "UPGRADING"})

        return self._write(obj, change)

    # -- deploy, upgrade, suspend --------------------------------------------------

    def _deploy(self, obj: Obj, *, first: bool) -> bool:
        """Create the JobManager Deployment, its ConfigMap and Services; status DEPLOYED."""
        meta, spec = obj["metadata"], obj["spec"]
        namespace, generation = meta["namespace"], int(meta.get("generation", 1))
        deployment = self.access.create(
            "deployments", namespace, natives.jobmanager_deployment(obj)
        )
        if deployment is None:
            return True
        for plural, body in (
            ("configmaps", natives.config_map(obj, deployment)),
            ("services", natives.rpc_service(obj, deployment)),
            ("services", natives.rest_service(obj, deployment)),
        ):
            self.access.create(plural, namespace, body)
        previous = dict((obj.get("status") or {}).get("jobStatus") or {})
        job = _job(obj)
        keep_id = job.get("upgradeMode") == "last-state" and previous.get("jobId")
        self.access.event(obj, "Submit", "Starting deployment")

        def change(status: Obj) -> None:
            status.update(
                observedGeneration=generation,
                jobManagerDeploymentStatus="DEPLOYING",
                error=None,
                clusterInfo=cluster_info(spec),
                taskManager={
                    "labelSelector": f"component=taskmanager,app={meta['name']}",
                    "replicas": 0,
                },
                reconciliationStatus={
                    **(status.get("reconciliationStatus") or {}),
                    "state": "DEPLOYED",
                    "lastReconciledSpec": serialize_spec(spec, generation, first=first),
                    "reconciliationTimestamp": _ms(),
                },
            )
            if job:
                status["jobStatus"] = {
                    **previous,
                    "jobName": meta["name"],
                    "jobId": keep_id or job_id_for(meta["uid"], generation),
                    "state": "RECONCILING",
                    "updateTime": str(_ms()),
                }
            else:
                status["jobStatus"] = {}

        return self._write(obj, change)

    def _continue_upgrade(self, obj: Obj) -> bool:
        """Stop the job, remove the JobManager, then suspend or deploy the new spec."""
        status = obj.get("status") or {}
        job_status = status.get("jobStatus") or {}
        job = _job(obj)
        jobmanager = self._jobmanager(obj)
        if jobmanager is not None:
            if job and job_status.get("state") not in _STOPPED:
                return self._stop_job(obj, job)
            if not jobmanager["metadata"].get("deletionTimestamp"):
                meta = obj["metadata"]
                self.access.delete("deployments", meta["namespace"], meta["name"])
                return self._write(obj, lambda s: s.update(jobManagerDeploymentStatus="MISSING"))
            return True
        if self._pods(obj, "taskmanager"):
            return True  # the old TaskManagers are still terminating
        if job.get("state") == "suspended":
            return self._suspended(obj)
        return self._deploy(obj, first=False)

    def _stop_job(self, obj: Obj, job: Mapping[str, Any]) -> bool:
        """Stop the job as its upgrade mode says: savepoint mode takes a savepoint."""
        status = obj.get("status") or {}
        running = (status.get("jobStatus") or {}).get("state") == "RUNNING"
        path = None
        if job.get("upgradeMode") == "savepoint" and running:
            path = self._take_savepoint(obj)

        def change(status: Obj) -> None:
            job_status = status.setdefault("jobStatus", {})
            job_status.update(state="SUSPENDED", updateTime=str(_ms()))
            if path is not None:
                job_status["upgradeSavepointPath"] = path
                record_savepoint(job_status, path, "UPGRADE", None, _ms())

        return self._write(obj, change)

    def _suspended(self, obj: Obj) -> bool:
        meta, spec = obj["metadata"], obj["spec"]
        generation = int(meta.get("generation", 1))
        self.access.event(obj, "Suspended", "Job suspended")

        def change(status: Obj) -> None:
            reconciliation = status.setdefault("reconciliationStatus", {})
            reconciliation.update(
                state="DEPLOYED",
                lastReconciledSpec=serialize_spec(spec, generation),
                reconciliationTimestamp=_ms(),
            )
            status.update(
                observedGeneration=generation,
                jobManagerDeploymentStatus="MISSING",
                taskManager={**(status.get("taskManager") or {}), "replicas": 0},
            )

        return self._write(obj, change)

    # -- observe -------------------------------------------------------------------

    def _observe(self, obj: Obj) -> bool:
        """Follow the JobManager Deployment: its status, and an ``ERROR`` with the cause."""
        status = obj.get("status") or {}
        previous = status.get("jobManagerDeploymentStatus")
        seen = observe_jobmanager(
            self._jobmanager(obj), list(self._pods(obj, "jobmanager")), previous
        )
        error = error_json(seen.message, reason=seen.reason) if seen.state == "ERROR" else None
        keep_error = seen.state != "ERROR" and status.get("error")
        if seen.state == previous and (error == status.get("error") or keep_error):
            return False
        if seen.state == "ERROR" and error != status.get("error"):
            self.access.event(obj, seen.reason, seen.message, WARNING)

        def change(status: Obj) -> None:
            status["jobManagerDeploymentStatus"] = seen.state
            if error is not None:
                status["error"] = error
            elif previous == "ERROR":
                status["error"] = None
            job_status = status.get("jobStatus") or {}
            if seen.state != "READY" and job_status.get("state") in ("CREATED", "RUNNING"):
                job_status.update(state="RECONCILING", updateTime=str(_ms()))

        return self._write(obj, change)

    # -- spec changes --------------------------------------------------------------

    def _spec_change(self, obj: Obj) -> bool:
        meta, spec = obj["metadata"], obj["spec"]
        status = obj.get("status") or {}
        generation = int(meta.get("generation", 1))
        if status.get("observedGeneration") == generation:
            return False
        old = reconciled_spec(status)
        was_suspended = (old.get("job") or {}).get("state") == "suspended"
        suspend = (spec.get("job") or {}).get("state") == "suspended"
        if was_suspended and not suspend:
            self.access.event(obj, "SpecChanged", "Resuming the suspended job")
            return self._deploy(obj, first=False)
        kind = diff_type(old, spec)
        if was_suspended or (kind == DiffType.IGNORE and not suspend):
            return self._record_spec(obj, old)
        if suspend or kind >= DiffType.UPGRADE:
            label = "UPGRADE" if kind >= DiffType.UPGRADE else "SUSPEND"
            message = spec_changed_message(label, "FlinkDeployment", old, spec)
            self.access.event(obj, "SpecChanged", message)

            def upgrading(status: Obj) -> None:
                status["observedGeneration"] = generation
                status.setdefault("reconciliationStatus", {})["state"] = "UPGRADING"

            return self._write(obj, upgrading)
        return self._scale(obj, old)

    def _record_spec(self, obj: Obj, old: Mapping[str, Any]) -> bool:
        """Take the new spec as reconciled, keeping the old savepoint nonce (a changed
        nonce is acted on by :meth:`_savepoint`)."""
        meta, spec = obj["metadata"], obj["spec"]
        generation = int(meta.get("generation", 1))
        recorded = {**spec}
        if spec.get("job"):
            nonce = (old.get("job") or {}).get("savepointTriggerNonce")
            recorded["job"] = {**spec["job"], "savepointTriggerNonce": nonce}
            if nonce is None:
                recorded["job"].pop("savepointTriggerNonce")

        def change(status: Obj) -> None:
            status["observedGeneration"] = generation
            status.setdefault("reconciliationStatus", {}).update(
                lastReconciledSpec=serialize_spec(recorded, generation),
                reconciliationTimestamp=_ms(),
            )

        return self._write(obj, change)

    def _scale(self, obj: Obj, old: Mapping[str, Any]) -> bool:
        spec = obj["spec"]
        before, after = taskmanager_replicas(old), taskmanager_replicas(spec)
        if before != after:
            self.access.event(obj, "Scaling", f"Scaling TaskManagers from {before} to {after}")
        else:
            self.access.event(obj, "Scaling", "In-place scaling triggered")
        return self._record_spec(obj, old)

    # -- savepoints ----------------------------------------------------------------

    def _take_savepoint(self, obj: Obj) -> str:
        meta = obj["metadata"]
        job_id = str(((obj.get("status") or {}).get("jobStatus") or {}).get("jobId") or "0" * 32)
        location = savepoint_location(
            obj["spec"], meta["namespace"], meta["name"], job_id, self.rng
        )
        write_savepoint(location, job_id, _ms())
        return location

    def _savepoint(self, obj: Obj) -> bool:
        """A changed ``savepointTriggerNonce``: trigger, then (next pass) complete."""
        status = obj.get("status") or {}
        job_status = status.get("jobStatus") or {}
        if (
            job_status.get("state") != "RUNNING"
            or status.get("jobManagerDeploymentStatus") != "READY"
        ):
            return False
        old = reconciled_spec(status)
        old_nonce = (old.get("job") or {}).get("savepointTriggerNonce")
        if (job_status.get("savepointInfo") or {}).get("triggerId"):
            location = self._take_savepoint(obj)
            self.access.event(obj, "SavepointCompleted", f"Savepoint completed: {location}")
            return self._write(
                obj,
                lambda s: record_savepoint(s["jobStatus"], location, "MANUAL", old_nonce, _ms()),
            )
        nonce = _job(obj).get("savepointTriggerNonce")
        if nonce is None or nonce == old_nonce:
            return False
        generation = int(obj["metadata"].get("generation", 1))
        recorded = {**old, "job": {**(old.get("job") or {}), "savepointTriggerNonce": nonce}}
        self.access.event(obj, "SavepointTriggered", "Triggering manual savepoint")

        def change(status: Obj) -> None:
            info = status.setdefault("jobStatus", {}).setdefault("savepointInfo", {})
            info.update(trigger_info(self.rng, _ms()))
            status["reconciliationStatus"]["lastReconciledSpec"] = serialize_spec(
                recorded, generation
            )

        return self._write(obj, change)

    # -- progress ------------------------------------------------------------------

    def _progress(self, obj: Obj) -> bool:
        """With the JobManager READY: TaskManager pods to the reconciled count, and the
        job CREATED, then RUNNING once every TaskManager is Ready."""
        status = obj.get("status") or {}
        jobmanager = self._jobmanager(obj)
        if status.get("jobManagerDeploymentStatus") != "READY" or jobmanager is None:
            return False
        wanted = taskmanager_replicas(reconciled_spec(status))
        pods = [
            p for p in self._pods(obj, "taskmanager") if not p["metadata"].get("deletionTimestamp")
        ]
        if self._scale_pods(obj, jobmanager, pods, wanted):
            return True
        ready = sum(1 for pod in pods if natives.pod_ready(pod))
        job_status = status.get("jobStatus") or {}
        state = job_status.get("state")
        next_state = None
        if obj["spec"].get("job") and state == "RECONCILING":
            next_state = "CREATED"
        elif state == "CREATED" and ready >= wanted:
            next_state = "RUNNING"
        replicas = len(pods)
        if next_state is None and (status.get("taskManager") or {}).get("replicas") == replicas:
            return False

        def change(status: Obj) -> None:
            status.setdefault("taskManager", {})["replicas"] = replicas
            if next_state is not None:
                job = status.setdefault("jobStatus", {})
                job.update(state=next_state, updateTime=str(_ms()))
                if next_state == "CREATED":
                    job["startTime"] = str(_ms())

        return self._write(obj, change)

    def _scale_pods(self, obj: Obj, jobmanager: Obj, pods: list[Obj], wanted: int) -> bool:
        uid = jobmanager["metadata"]["uid"]
        namespace = obj["metadata"]["namespace"]
        if len(pods) > wanted:
            for pod in sorted(pods, key=natives.taskmanager_index)[wanted:]:
                self.access.delete("pods", namespace, pod["metadata"]["name"])
            return True
        if len(pods) == wanted:
            return False
        index = max([self._tm_index.get(uid, 0), *(natives.taskmanager_index(p) for p in pods)])
        for _ in range(wanted - len(pods)):
            index += 1
            self.access.create(
                "pods", namespace, natives.taskmanager_pod(obj, jobmanager, 1, index)
            )
        self._tm_index[uid] = index
        return True

    def _mark_stable(self, obj: Obj) -> bool:
        status = obj.get("status") or {}
        reconciliation = status.get("reconciliationStatus") or {}
        last = reconciliation.get("lastReconciledSpec")
        if not last or last == reconciliation.get("lastStableSpec"):
            return False
        if status.get("jobManagerDeploymentStatus") != "READY":
            return False
        if obj["spec"].get("job") and (status.get("jobStatus") or {}).get("state") != "RUNNING":
            return False
        pods = [
            p for p in self._pods(obj, "taskmanager") if not p["metadata"].get("deletionTimestamp")
        ]
        wanted = taskmanager_replicas(reconciled_spec(status))
        if len(pods) != wanted or not all(natives.pod_ready(p) for p in pods):
            return False
        return self._write(obj, lambda s: s["reconciliationStatus"].update(lastStableSpec=last))

    # -- deletion ------------------------------------------------------------------

    def _cleanup(self, obj: Obj) -> bool:
        """DELETING, the session jobs gone first, the JobManager Deployment deleted
        (Foreground), then the finalizer removed."""
        meta = obj["metadata"]
        if DEPLOYMENT_FINALIZER not in (meta.get("finalizers") or []):
            return False
        status = obj.get("status") or {}
        if status.get("lifecycleState") != "DELETING":
            self.access.event(obj, "Cleanup", "Cleaning up FlinkDeployment")
            return self._write(obj, lambda s: s.update(lifecycleState="DELETING"))
        if not obj["spec"].get("job"):
            jobs = [
                j["metadata"]["name"]
                for j in self.access.objects("flinksessionjobs", meta["namespace"], {})
                if (j.get("spec") or {}).get("deploymentName") == meta["name"]
            ]
            if jobs:
                message = f"The session jobs {jobs} should be deleted first"
                self.access.event(obj, "CleanupFailed", message, WARNING)
                return True
        jobmanager = self._jobmanager(obj)
        if jobmanager is not None:
            if not jobmanager["metadata"].get("deletionTimestamp"):
                self.access.delete("deployments", meta["namespace"], meta["name"])
            return True
        if self._pods(obj, "taskmanager") or self._pods(obj, "jobmanager"):
            return True
        self.access.set_finalizer(_PLURAL, obj, DEPLOYMENT_FINALIZER, False)
        return False


def _drop_nones(node: Obj) -> None:
    for key in [k for k, v in node.items() if v is None]:
        del node[key]
    for value in node.values():
        if isinstance(value, dict):
            _drop_nones(value)
