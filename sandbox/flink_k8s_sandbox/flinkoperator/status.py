"""Pure status computations of the stand-in Flink Kubernetes Operator.

Everything here takes plain JSON-like mappings (and ``now``/``uid`` where needed) and
returns values; the reconciler (:mod:`.reconciler`) does the reads and writes. The rules
follow the real operator (``flink-kubernetes-operator`` 1.x):

- :func:`lifecycle_state` is ``CommonStatus.getLifecycleState`` (one ordered map);
- :func:`diff_type` is ``ReflectiveDiffBuilder`` over ``@SpecDiff`` annotations, reduced
  to the fields the sandbox acts on, combined with ``max`` (``DiffType`` order);
- :func:`observe_jobmanager` is ``AbstractFlinkDeploymentObserver.observeJmDeployment``:
  a JobManager container waiting for a known reason is a terminal ``ERROR``;
- :func:`job_id_for` is ``new JobID(uid.hashCode(), generation)``, the id
  ``ApplicationReconciler`` fixes before it submits, so a status's job id is known
  before the job runs.
"""

from __future__ import annotations

import enum
import json
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEPLOYMENT_FINALIZER",
    "ERROR_REASONS",
    "SESSION_JOB_FINALIZER",
    "DiffType",
    "JobManagerObservation",
    "changed_paths",
    "cluster_info",
    "diff_type",
    "error_json",
    "job_id_for",
    "lifecycle_state",
    "observe_jobmanager",
    "reconciled_spec",
    "running_condition",
    "savepoint_dir",
    "savepoint_name",
    "serialize_spec",
    "slots_per_taskmanager",
    "spec_changed_message",
    "taskmanager_replicas",
]

Obj = dict[str, Any]

DEPLOYMENT_FINALIZER = "flinkdeployments.flink.apache.org/finalizer"
SESSION_JOB_FINALIZER = "flinksessionjobs.flink.apache.org/finalizer"
ERROR_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "RunContainerError",
        "CreateContainerConfigError",
        "CreateContainerError",
        "OOMKilled",
    }
)
"""Waiting reasons of a JobManager container that the observer turns into ``ERROR``."""

_DEPLOYMENT_FAILED = "org.apache.flink.kubernetes.operator.exception.DeploymentFailedException"
_SAVEPOINT_DIR_KEYS = ("execution.checkpointing.savepoint-dir", "state.savepoints.dir")
# Fields whose change the sandbox treats as in-place (SCALE) or as nothing (IGNORE); every
# other spec change is an UPGRADE, as @SpecDiff's default is.
_IGNORED_JOB_FIELDS = frozenset(
    {"savepointTriggerNonce", "checkpointTriggerNonce", "autoscalerResetNonce", "state"}
)
_IGNORED_CONFIG_PREFIXES = ("job.autoscaler", "kubernetes.operator", "parallelism.default")
_OVERRIDES_KEY = "pipeline.jobvertex-parallelism-overrides"


class DiffType(enum.IntEnum):
    """How disruptive a spec change is; ``max`` of several is the most disruptive."""

    IGNORE = 0
    SCALE = 1
    UPGRADE = 2
    SAVEPOINT_REDEPLOY = 3


@dataclass(frozen=True)
class JobManagerObservation:
    """What the observer concluded from the JobManager Deployment and its pods.

    :param state: ``MISSING``, ``DEPLOYING``, ``DEPLOYED_NOT_READY``, ``READY`` or ``ERROR``.
    :param reason: for ``ERROR``, the container's waiting reason (``ImagePullBackOff``...).
    :param message: for ``ERROR``, the kubelet's message.
    """

    state: str
    reason: str = ""
    message: str = ""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def flink_configuration(spec: Mapping[str, Any]) -> dict[str, str]:
    """``spec.flinkConfiguration`` flattened to Flink's ``key: value`` strings (the CRD
    also accepts nested YAML, which Flink reads as dotted keys)."""
    flat: dict[str, str] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        elif node is not None:
            flat[prefix] = str(node).lower() if isinstance(node, bool) else str(node)

    walk("", _mapping(spec.get("flinkConfiguration")))
    return flat


def slots_per_taskmanager(spec: Mapping[str, Any]) -> int:
    """``taskmanager.numberOfTaskSlots`` (Flink's default: 1)."""
    try:
        return max(1, int(flink_configuration(spec).get("taskmanager.numberOfTaskSlots", "1")))
    except ValueError:
        return 1


def taskmanager_replicas(spec: Mapping[str, Any]) -> int:
    """TaskManagers of a cluster: ``taskManager.replicas`` if set, else
    ``ceil(job.parallelism / numberOfTaskSlots)`` (``FlinkUtils.getNumTaskManagers``);
    a session cluster without replicas starts none."""
    replicas = _mapping(spec.get("taskManager")).get("replicas")
    if isinstance(replicas, int):
        return max(0, replicas)
    job = _mapping(spec.get("job"))
    if not job:
        return 0
    parallelism = job.get("parallelism")
    if not isinstance(parallelism, int) or parallelism < 1:
        parallelism = 1
    return math.ceil(parallelism / slots_per_taskmanager(spec))


def lifecycle_state(status: Mapping[str, Any], *, deployment: bool = True) -> str:
    """``status.lifecycleState`` as ``CommonStatus.getLifecycleState`` computes it.

    ===  =================================================================  ============
    #    status                                                             state
    ===  =================================================================  ============
    1    ``lifecycleState`` already DELETING / DELETED (set on cleanup)     unchanged
    2    no ``lastReconciledSpec`` (before the first deployment)            CREATED, or
                                                                            FAILED with
                                                                            an ``error``
    3    reconciliation UPGRADING / ROLLING_BACK                            same name
    4    ``lastReconciledSpec.job.state`` suspended                         SUSPENDED
    5    ``jobStatus.state`` FAILED                                         FAILED
    6    (FlinkDeployment) JobManager MISSING/ERROR with an error saying    FAILED
         a manual restore is needed
    7    reconciliation ROLLED_BACK; spec marked stable; otherwise          ROLLED_BACK,
                                                                            STABLE,
                                                                            DEPLOYED
    ===  =================================================================  ============

    :param deployment: ``False`` for a FlinkSessionJob (no JobManager fields).
    """
    current = status.get("lifecycleState")
    if current in ("DELETING", "DELETED"):
        return str(current)
    reconciliation = _mapping(status.get("reconciliationStatus"))
    last = reconciliation.get("lastReconciledSpec")
    if not last:
        return "FAILED" if status.get("error") else "CREATED"
    state = reconciliation.get("state")
    if state in ("UPGRADING", "ROLLING_BACK"):
        return str(state)
    if _mapping(reconciled_spec(status).get("job")).get("state") == "suspended":
        return "SUSPENDED"
    if _mapping(status.get("jobStatus")).get("state") == "FAILED":
        return "FAILED"
    error = str(status.get("error") or "")
    jm = status.get("jobManagerDeploymentStatus")
    if deployment and jm in ("MISSING", "ERROR") and _needs_manual_restore(error):
        return "FAILED"
    if state == "ROLLED_BACK":
        return "ROLLED_BACK"
    if last == reconciliation.get("lastStableSpec"):
        return "STABLE"
    return "DEPLOYED"


def _needs_manual_restore(error: str) -> bool:
    return any(
        marker in error
        for marker in (
            "Manual restore required.",
            "It is possible that the job has finished or terminally failed, or the "
            "configmaps have been deleted.",
            "HA metadata is not available",
        )
    )


def serialize_spec(spec: Mapping[str, Any], generation: int, *, first: bool = False) -> str:
    """``lastReconciledSpec``: the spec as JSON with the operator's ``resource_metadata``
    (API version, the generation it is for, and ``firstDeployment``)."""
    metadata: Obj = {
        "apiVersion": "flink.apache.org/v1beta1",
        "metadata": {"generation": generation},
    }
    metadata["firstDeployment"] = first
    return json.dumps({**spec, "resource_metadata": metadata}, sort_keys=True)


def reconciled_spec(status: Mapping[str, Any], key: str = "lastReconciledSpec") -> Obj:
    """The spec a status was last reconciled with (``{}`` before the first deployment),
    without its ``resource_metadata``."""
    text = _mapping(status.get("reconciliationStatus")).get(key)
    if not isinstance(text, str) or not text:
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    parsed.pop("resource_metadata", None)
    return parsed


def _config_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> DiffType:
    old_conf, new_conf = flink_configuration(old), flink_configuration(new)
    changed = {k for k in {*old_conf, *new_conf} if old_conf.get(k) != new_conf.get(k)}
    worst = DiffType.IGNORE
    for key in changed:
        if key == _OVERRIDES_KEY:
            adaptive = new_conf.get("jobmanager.scheduler") == "adaptive"
            # NativeFlinkService.scale: in place only with the adaptive scheduler and an
            # override left; removing it falls back to a full upgrade.
            kind = DiffType.SCALE if adaptive and new_conf.get(key) else DiffType.UPGRADE
        elif key.startswith(_IGNORED_CONFIG_PREFIXES):
            kind = DiffType.IGNORE
        else:
            kind = DiffType.UPGRADE
        worst = max(worst, kind)
    return worst


def diff_type(old: Mapping[str, Any], new: Mapping[str, Any]) -> DiffType:
    """The most disruptive change from ``old`` to ``new`` (two specs, no metadata).

    ``flinkConfiguration``: parallelism overrides with ``jobmanager.scheduler: adaptive``
    are SCALE, ``job.autoscaler*``/``kubernetes.operator*``/``parallelism.default`` are
    IGNORE, any other key UPGRADE. ``taskManager.replicas`` alone is SCALE (the
    sandbox's choice, see :mod:`.reconciler`). ``job``: nonces and ``state`` are IGNORE
    (suspend/resume and snapshots are handled apart), ``savepointRedeployNonce``
    SAVEPOINT_REDEPLOY, anything else UPGRADE. Every other field: UPGRADE.
    """
    worst = DiffType.IGNORE
    for key in {*old, *new} - {"resource_metadata"}:
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key == "flinkConfiguration":
            kind = _config_diff(old, new)
        elif key == "taskManager":
            rest_old = {k: v for k, v in _mapping(before).items() if k != "replicas"}
            rest_new = {k: v for k, v in _mapping(after).items() if k != "replicas"}
            kind = DiffType.UPGRADE if rest_old != rest_new else DiffType.SCALE
        elif key == "job":
            kind = _job_diff(_mapping(before), _mapping(after))
        else:
            kind = DiffType.UPGRADE
        worst = max(worst, kind)
    return worst


def changed_paths(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The changed leaves as the operator's diff prints them: ``job.parallelism : 4 -> 6``."""
    found = []
    for key in sorted({*old, *new} - {"resource_metadata"}):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        path = f"{prefix}{key}"
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            found.extend(changed_paths(before, after, f"{path}."))
        else:
            found.append(f"{path} : {_show(before)} -> {_show(after)}")
    return found


def spec_changed_message(
    label: str, kind: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> str:
    """The ``SpecChanged`` event's message: ``UPGRADE change(s) detected (Diff:
    FlinkDeploymentSpec[job.parallelism : 4 -> 6]), starting reconciliation.``"""
    diff = ", ".join(changed_paths(old, new))
    return f"{label} change(s) detected (Diff: {kind}Spec[{diff}]), starting reconciliation."


def _show(value: Any) -> str:
    return (
        "null"
        if value is None
        else json.dumps(value)
        if isinstance(value, (dict, list))
        else str(value)
    )


def _job_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> DiffType:
    worst = DiffType.IGNORE
    for key in {*old, *new}:
        if old.get(key) == new.get(key) or key in _IGNORED_JOB_FIELDS:
            continue
        kind = DiffType.SAVEPOINT_REDEPLOY if key == "savepointRedeployNonce" else DiffType.UPGRADE
        worst = max(worst, kind)
    return worst


def _has_error(pod: Mapping[str, Any]) -> tuple[str, str] | None:
    status = _mapping(pod.get("status"))
    for container in [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]:
        waiting = _mapping(_mapping(_mapping(container).get("state")).get("waiting"))
        reason = str(waiting.get("reason") or "")
        if reason in ERROR_REASONS:
            return reason, str(waiting.get("message") or reason)
    return None


def _available(deployment: Mapping[str, Any]) -> bool:
    status = _mapping(deployment.get("status"))
    wanted = _mapping(deployment.get("spec")).get("replicas", 1)
    return int(status.get("availableReplicas") or 0) >= max(1, int(wanted or 1))


def observe_jobmanager(
    deployment: Mapping[str, Any] | None,
    pods: list[Mapping[str, Any]],
    previous: str | None,
) -> JobManagerObservation:
    """The next ``jobManagerDeploymentStatus`` from the JobManager Deployment and pods.

    No Deployment: MISSING. A pod's container waiting with a reason of
    :data:`ERROR_REASONS`: ERROR. Deployment available: DEPLOYED_NOT_READY the first time
    (the operator then checks the REST endpoint on its next pass), READY after that.
    Otherwise DEPLOYING.

    :param previous: the status's current value.
    """
    if deployment is None:
        return JobManagerObservation("MISSING")
    for pod in pods:
        found = _has_error(pod)
        if found is not None:
            return JobManagerObservation("ERROR", *found)
    if _available(deployment):
        if previous in ("DEPLOYED_NOT_READY", "READY"):
            return JobManagerObservation("READY")
        return JobManagerObservation("DEPLOYED_NOT_READY")
    return JobManagerObservation("DEPLOYING")


def error_json(message: str, *, reason: str = "", kind: str = _DEPLOYMENT_FAILED) -> str:
    """``status.error`` as the operator writes an exception: a JSON object with ``type``,
    ``message``, ``additionalMetadata`` (``reason`` for a deployment failure) and
    ``throwableList``."""
    metadata: Obj = {"reason": reason} if reason else {}
    document = {
        "type": kind,
        "message": message,
        "additionalMetadata": metadata,
        "throwableList": [],
    }
    return json.dumps(document)


def _java_string_hash(text: str) -> int:
    # String.hashCode runs over UTF-16 code units, in 32-bit arithmetic.
    units = text.encode("utf-16-be")
    value = 0
    for index in range(0, len(units), 2):
        value = (31 * value + int.from_bytes(units[index : index + 2], "big")) & 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def job_id_for(uid: str, generation: int) -> str:
    """The job id ``ApplicationReconciler`` assigns: ``new JobID(uid.hashCode(),
    generation)`` as 32 hex digits (the int hash sign-extended to a long)."""
    upper = _java_string_hash(uid) & 0xFFFFFFFFFFFFFFFF
    return f"{upper:016x}{generation & 0xFFFFFFFFFFFFFFFF:016x}"


def savepoint_dir(spec: Mapping[str, Any]) -> str | None:
    """The savepoint directory the spec configures (Flink 1.20+'s key or the legacy one)."""
    conf = flink_configuration(spec)
    return next((conf[key] for key in _SAVEPOINT_DIR_KEYS if conf.get(key)), None)


def savepoint_name(job_id: str, rng: random.Random) -> str:
    """A savepoint folder's name as Flink makes it: ``savepoint-<6 of the job id>-<12 hex>``."""
    return f"savepoint-{job_id[:6]}-{rng.getrandbits(48):012x}"


def running_condition(
    status: Mapping[str, Any], *, application: bool, generation: int, now: str
) -> Obj:
    """The ``Running`` condition: application clusters by the job's state (reason its
    CamelCase name), session clusters by the JobManager being READY."""
    if application:
        state = str(_mapping(status.get("jobStatus")).get("state") or "RECONCILING")
        running = state == "RUNNING"
        reason = state.capitalize()
        message = "Job is running" if running else f"Job state is {state}"
    else:
        jm = str(status.get("jobManagerDeploymentStatus") or "MISSING")
        running = jm == "READY"
        reason = "JobManagerReady" if running else "JobManagerNotReady"
        message = f"JobManager deployment is {jm}"
    previous = next(
        (
            c
            for c in status.get("conditions") or []
            if isinstance(c, Mapping) and c.get("type") == "Running"
        ),
        None,
    )
    flag = "True" if running else "False"
    since = now
    if previous is not None and previous.get("status") == flag:
        since = str(previous.get("lastTransitionTime") or now)
    return {
        "type": "Running",
        "status": flag,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": since,
    }


def cluster_info(spec: Mapping[str, Any]) -> dict[str, str]:
    """``status.clusterInfo`` as the REST ``/config`` and the resources give it."""
    version = str(spec.get("flinkVersion") or "v1_20").removeprefix("v").replace("_", ".")
    jm = _mapping(_mapping(spec.get("jobManager")).get("resource"))
    tm = _mapping(_mapping(spec.get("taskManager")).get("resource"))
    jm_replicas = int(_mapping(spec.get("jobManager")).get("replicas") or 1)
    tms = taskmanager_replicas(spec)
    cpu = float(jm.get("cpu") or 1) * jm_replicas + float(tm.get("cpu") or 1) * tms
    return {
        "flink-version": f"{version}.0",
        "flink-revision": "sandbox @ stand-in operator",
        "total-cpu": str(cpu),
        "total-memory": str(
            _bytes(jm.get("memory")) * jm_replicas + _bytes(tm.get("memory")) * tms
        ),
    }


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def _bytes(memory: Any) -> int:
    """Flink's ``MemorySize.parse`` for the common forms (``1600m``, ``2g``, ``2Gi``)."""
    text = str(memory or "0").strip().lower().removesuffix("i").removesuffix("b")
    number = text.rstrip("kmgt")
    unit = text[len(number) :]
    try:
        return int(float(number) * _UNITS.get(unit, 1))
    except ValueError:
        return 0
