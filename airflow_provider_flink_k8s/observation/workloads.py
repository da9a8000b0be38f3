"""What Kubernetes reported about a cluster's workloads: Deployments, pods, containers, events.

Each model keeps only the fields a decision reads, parsed by ``from_k8s`` from the raw
object a hook got (see :mod:`._base` for the accepted key styles). Models are frozen and
round-trip through plain JSON with ``model_dump(mode="json")`` / ``model_validate``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from airflow_provider_flink_k8s.observation._base import (
    FrozenModel,
    Timestamp,
    get,
    get_int,
    get_items,
    get_mapping,
    get_str,
    get_timestamp,
)

__all__ = [
    "COMPONENT_LABELS",
    "Condition",
    "ContainerStatus",
    "DeploymentState",
    "EventRecord",
    "PodState",
    "component_of",
]

COMPONENT_LABELS = ("app.kubernetes.io/component", "component")
"""Labels naming a pod's role, in order of preference. The provider's pods carry both;
Flink's native pods (operator target) carry ``component``."""

_REPLICA_SET = re.compile(r'[Rr]eplica ?[Ss]et "([^"]+)"')

ContainerPhase = Literal["waiting", "running", "terminated", "unknown"]
_STATES: tuple[ContainerPhase, ...] = ("waiting", "running", "terminated")


def _label(metadata: Mapping[str, Any], key: str) -> str | None:
    # Label keys are never snake-cased, even by the kubernetes client.
    value = get_mapping(metadata, "labels").get(key)
    return value if isinstance(value, str) and value else None


def component_of(metadata: Mapping[str, Any]) -> str | None:
    """The role (``jobmanager``/``taskmanager``) an object's labels name, if any."""
    return next((v for v in (_label(metadata, k) for k in COMPONENT_LABELS) if v), None)


class Condition(FrozenModel):
    """One entry of ``status.conditions`` (Deployment or pod)."""

    type: str
    status: str = "Unknown"
    """``"True"``, ``"False"`` or ``"Unknown"``, as the API writes it."""
    reason: str | None = None
    message: str | None = None
    last_transition_time: Timestamp | None = None
    last_update_time: Timestamp | None = None
    """Deployments only: when the controller last saw progress (``Progressing``)."""

    @property
    def is_true(self) -> bool:
        """Whether the condition holds (a string ``"True"``, never just truthy)."""
        return self.status == "True"

    @classmethod
    def from_k8s(cls, raw: Mapping[str, Any]) -> Condition:
        """Parse one raw condition."""
        return cls(
            type=get_str(raw, "type") or "",
            status=get_str(raw, "status") or "Unknown",
            reason=get_str(raw, "reason"),
            message=get_str(raw, "message"),
            last_transition_time=get_timestamp(raw, "lastTransitionTime"),
            last_update_time=get_timestamp(raw, "lastUpdateTime"),
        )


def _conditions(status: Mapping[str, Any]) -> tuple[Condition, ...]:
    return tuple(Condition.from_k8s(item) for item in get_items(status, "conditions"))


def _find(conditions: tuple[Condition, ...], kind: str) -> Condition | None:
    return next((condition for condition in conditions if condition.type == kind), None)


class ContainerStatus(FrozenModel):
    """One entry of a pod's ``containerStatuses`` or ``initContainerStatuses``."""

    name: str
    image: str | None = None
    init: bool = False
    """An init container (its failures block the pod the same way)."""
    ready: bool = False
    restart_count: int = 0
    state: ContainerPhase = "unknown"
    reason: str | None = None
    """``state.waiting.reason`` or ``state.terminated.reason`` (``CrashLoopBackOff``...)."""
    message: str | None = None
    exit_code: int | None = None
    started_at: Timestamp | None = None
    last_reason: str | None = None
    """``lastState.terminated.reason`` (``Error``, ``OOMKilled``, ``Completed``)."""
    last_exit_code: int | None = None
    last_message: str | None = None

    @classmethod
    def from_k8s(cls, raw: Mapping[str, Any], *, init: bool = False) -> ContainerStatus:
        """Parse one raw container status."""
        state = get_mapping(raw, "state")
        phase: ContainerPhase = "unknown"
        detail: Mapping[str, Any] = {}
        for candidate in _STATES:
            if isinstance(get(state, candidate), Mapping):
                phase, detail = candidate, get_mapping(state, candidate)
                break
        last = get_mapping(get_mapping(raw, "lastState"), "terminated")
        return cls(
            name=get_str(raw, "name") or "",
            image=get_str(raw, "image"),
            init=init,
            ready=get(raw, "ready") is True,
            restart_count=get_int(raw, "restartCount"),
            state=phase,
            reason=get_str(detail, "reason"),
            message=get_str(detail, "message"),
            exit_code=get_int(detail, "exitCode") if phase == "terminated" else None,
            started_at=get_timestamp(detail, "startedAt"),
            last_reason=get_str(last, "reason"),
            last_exit_code=get_int(last, "exitCode") if last else None,
            last_message=get_str(last, "message"),
        )


class PodState(FrozenModel):
    """What a pod's ``status`` says, with the role its labels give it."""

    name: str
    uid: str | None = None
    """``metadata.uid``: a pod that replaces another has a new one, even under the same name."""
    component: str | None = None
    phase: str = "Unknown"
    conditions: tuple[Condition, ...] = ()
    containers: tuple[ContainerStatus, ...] = ()
    """Init containers first, then the regular ones."""
    node_name: str | None = None
    nominated_node_name: str | None = None
    """Set while the scheduler preempts lower-priority pods to make room for this one."""
    template_hash: str | None = None
    """The ``pod-template-hash`` label: the pod belongs to ReplicaSet ``<deployment>-<hash>``."""
    created_at: Timestamp | None = None
    deleting: bool = False
    """``metadata.deletionTimestamp`` is set: the pod is terminating."""

    def condition(self, kind: str) -> Condition | None:
        """The condition of type ``kind`` (``PodScheduled``, ``Ready``...), if reported."""
        return _find(self.conditions, kind)

    @property
    def ready(self) -> bool:
        """The pod's ``Ready`` condition is ``"True"``."""
        condition = self.condition("Ready")
        return condition is not None and condition.is_true

    @property
    def active(self) -> bool:
        """Counts for the cluster: not terminating and not finished (an evicted pod keeps
        phase ``Failed`` until collected while its ReplicaSet already replaced it)."""
        return not self.deleting and self.phase not in ("Succeeded", "Failed")

    @classmethod
    def from_k8s(cls, raw: Mapping[str, Any]) -> PodState:
        """Parse a raw Pod."""
        metadata = get_mapping(raw, "metadata")
        spec = get_mapping(raw, "spec")
        status = get_mapping(raw, "status")
        containers = [
            ContainerStatus.from_k8s(item, init=True)
            for item in get_items(status, "initContainerStatuses")
        ] + [ContainerStatus.from_k8s(item) for item in get_items(status, "containerStatuses")]
        return cls(
            name=get_str(metadata, "name") or "",
            uid=get_str(metadata, "uid"),
            component=component_of(metadata),
            phase=get_str(status, "phase") or "Unknown",
            conditions=_conditions(status),
            containers=tuple(containers),
            node_name=get_str(spec, "nodeName"),
            nominated_node_name=get_str(status, "nominatedNodeName"),
            template_hash=_label(metadata, "pod-template-hash"),
            created_at=get_timestamp(metadata, "creationTimestamp"),
            deleting=get(metadata, "deletionTimestamp") is not None,
        )


class DeploymentState(FrozenModel):
    """What an ``apps/v1`` Deployment's metadata, spec and status say about its rollout."""

    name: str
    component: str | None = None
    generation: int = 0
    observed_generation: int = 0
    desired_replicas: int = 1
    """``spec.replicas`` (the API defaults it to 1)."""
    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    conditions: tuple[Condition, ...] = ()
    deleting: bool = False

    def condition(self, kind: str) -> Condition | None:
        """The condition of type ``kind`` (``Available``, ``Progressing``, ``ReplicaFailure``)."""
        return _find(self.conditions, kind)

    @property
    def new_replica_set(self) -> str | None:
        """The ReplicaSet being rolled out, as the ``Progressing`` condition names it
        (``ReplicaSet "x-5d8f7b9c4" is progressing.``); ``None`` when it names none."""
        condition = self.condition("Progressing")
        match = _REPLICA_SET.search(condition.message or "") if condition else None
        return match.group(1) if match else None

    def outdated(self, pod: PodState) -> bool:
        """Whether ``pod`` belongs to one of this Deployment's older ReplicaSets (so a
        rollout is replacing it); ``False`` when that cannot be told."""
        new = self.new_replica_set
        if new is None or pod.template_hash is None:
            return False
        return f"{self.name}-{pod.template_hash}" != new

    @classmethod
    def from_k8s(cls, raw: Mapping[str, Any], *, component: str | None = None) -> DeploymentState:
        """Parse a raw Deployment; ``component`` overrides the role its labels name."""
        metadata = get_mapping(raw, "metadata")
        spec = get_mapping(raw, "spec")
        status = get_mapping(raw, "status")
        return cls(
            name=get_str(metadata, "name") or "",
            component=component or component_of(metadata),
            generation=get_int(metadata, "generation"),
            observed_generation=get_int(status, "observedGeneration"),
            desired_replicas=get_int(spec, "replicas", default=1),
            replicas=get_int(status, "replicas"),
            updated_replicas=get_int(status, "updatedReplicas"),
            ready_replicas=get_int(status, "readyReplicas"),
            available_replicas=get_int(status, "availableReplicas"),
            conditions=_conditions(status),
            deleting=get(metadata, "deletionTimestamp") is not None,
        )


class EventRecord(FrozenModel):
    """A ``v1`` Event (or ``events.k8s.io/v1`` Event) about one object."""

    type: str = "Normal"
    """``Normal`` or ``Warning``."""
    reason: str = ""
    message: str = ""
    object_kind: str | None = None
    object_name: str | None = None
    count: int = 1
    last_seen: Timestamp | None = None
    source: str | None = None
    """The component that reported it (``default-scheduler``, ``cluster-autoscaler``...)."""

    @classmethod
    def from_k8s(cls, raw: Mapping[str, Any]) -> EventRecord:
        """Parse a raw Event; ``events.k8s.io/v1`` field names are read too."""
        involved = get_mapping(raw, "involvedObject") or get_mapping(raw, "regarding")
        source = get_str(get_mapping(raw, "source"), "component") or get_str(
            raw, "reportingController"
        )
        last_seen = (
            get_timestamp(raw, "lastTimestamp")
            or get_timestamp(raw, "eventTime")
            or get_timestamp(get_mapping(raw, "series"), "lastObservedTime")
            or get_timestamp(raw, "deprecatedLastTimestamp")
            or get_timestamp(raw, "firstTimestamp")
            or get_timestamp(get_mapping(raw, "metadata"), "creationTimestamp")
        )
        return cls(
            type=get_str(raw, "type") or "Normal",
            reason=get_str(raw, "reason") or "",
            message=get_str(raw, "message") or get_str(raw, "note") or "",
            object_kind=get_str(involved, "kind"),
            object_name=get_str(involved, "name"),
            count=get_int(raw, "count", default=0) or get_int(raw, "deprecatedCount", default=1),
            last_seen=last_seen,
            source=source,
        )
