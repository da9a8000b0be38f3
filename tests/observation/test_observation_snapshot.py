"""ClusterSnapshot: parsing raw objects, JSON round trips, log sources, and properties."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes.client import ApiClient
from observation_builders import (
    IMAGE,
    JM_POD,
    JOB_ID,
    NOW,
    ROOT_EXCEPTION,
    SLOTS,
    TASKMANAGERS,
    TM_PODS,
    event,
    healthy,
    job,
    job_exceptions,
    pod,
    snapshot,
    terminated,
    waiting,
    with_taskmanager,
)

from airflow_provider_flink_k8s.observation import (
    ClusterSnapshot,
    ContainerStatus,
    EventRecord,
    Lifecycle,
    LogSource,
    Outcome,
    Reason,
    classify_cluster,
    classify_cluster_job,
    classify_operator_deployment,
)

TM0, TM1 = TM_PODS


class _Response:
    """What ``ApiClient.deserialize`` reads: a body under ``data``."""

    def __init__(self, body: Any) -> None:
        self.data = json.dumps(body)


def client_dict(raw: dict[str, Any], kind: str) -> dict[str, Any]:
    """``raw`` as the kubernetes client returns it: a model's ``to_dict()`` (snake_case)."""
    result: dict[str, Any] = ApiClient().deserialize(_Response(raw), kind).to_dict()
    return result


def test_from_k8s_reads_what_decisions_need() -> None:
    crashing = pod(
        "taskmanager",
        TM1,
        containers=[
            waiting(
                "CrashLoopBackOff", "back-off 40s", restarts=3, last=terminated("OOMKilled", 137)
            )
        ],
    )
    snap = snapshot(
        pods=with_taskmanager(crashing, index=1),
        events=[event(TM1, "BackOff", "Back-off restarting failed container")],
        jobs=[job("FAILED")],
        job_exceptions={JOB_ID: job_exceptions()},
    )
    assert snap.jobmanager is not None and snap.taskmanager is not None
    assert (
        snap.taskmanager.name,
        snap.taskmanager.desired_replicas,
        snap.taskmanager.available_replicas,
    ) == (
        "clickstream-taskmanager",
        2,
        2,
    )
    tm = next(p for p in snap.pods if p.name == TM1)
    assert (tm.component, tm.phase, tm.ready, tm.template_hash) == (
        "taskmanager",
        "Running",
        False,
        "5c6d7e8f9",
    )
    assert tm.containers == (
        ContainerStatus(
            name="flink-main-container",
            image=IMAGE,
            state="waiting",
            reason="CrashLoopBackOff",
            message="back-off 40s",
            restart_count=3,
            last_reason="OOMKilled",
            last_exit_code=137,
        ),
    )
    assert snap.events == (
        EventRecord(
            type="Warning",
            reason="BackOff",
            message="Back-off restarting failed container",
            object_kind="Pod",
            object_name=TM1,
            count=1,
            last_seen=NOW - timedelta(seconds=10),
            source="kubelet",
        ),
    )
    assert snap.overview is not None and (
        snap.overview.taskmanagers,
        snap.overview.slots_total,
    ) == (2, 4)
    assert snap.jobs[0].id == JOB_ID and snap.jobs[0].state == "FAILED"
    assert snap.jobs[0].root_exception == ROOT_EXCEPTION


def test_events_k8s_io_v1_events_are_read_too() -> None:
    raw = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "x.1", "creationTimestamp": "2025-05-01T11:00:00Z"},
        "regarding": {"kind": "Pod", "name": TM0},
        "reason": "FailedScheduling",
        "note": "0/3 nodes are available",
        "type": "Warning",
        "reportingController": "default-scheduler",
        "eventTime": "2025-05-01T11:59:30.123456Z",
        "deprecatedCount": 4,
    }
    record = EventRecord.from_k8s(raw)
    assert record == EventRecord(
        type="Warning",
        reason="FailedScheduling",
        message="0/3 nodes are available",
        object_kind="Pod",
        object_name=TM0,
        count=4,
        last_seen=datetime(2025, 5, 1, 11, 59, 30, 123456, tzinfo=timezone.utc),
        source="default-scheduler",
    )


@pytest.mark.parametrize(
    ("key", "kind"),
    [("jobmanager_deployment", "V1Deployment"), ("taskmanager_deployment", "V1Deployment")],
)
def test_the_kubernetes_clients_to_dict_reads_the_same_as_raw_json(key: str, kind: str) -> None:
    raw = healthy()
    converted = {
        **raw,
        key: client_dict(raw[key], kind),
        "pods": [client_dict(p, "V1Pod") for p in raw["pods"]],
        "events": [client_dict(event(TM0, "BackOff", "x"), "CoreV1Event")],
    }
    raw["events"] = [event(TM0, "BackOff", "x")]
    assert ClusterSnapshot.from_k8s(**converted) == ClusterSnapshot.from_k8s(**raw)


def test_a_crash_loop_reads_the_same_from_the_clients_to_dict() -> None:
    crashing = pod(
        "jobmanager",
        containers=[waiting("CrashLoopBackOff", "back-off", restarts=4, last=terminated())],
    )
    raw = ClusterSnapshot.from_k8s(pods=[crashing])
    converted = ClusterSnapshot.from_k8s(pods=[client_dict(crashing, "V1Pod")])
    assert converted == raw


def test_to_dict_is_plain_json_and_round_trips() -> None:
    snap = snapshot(
        jobs=[job("RUNNING")],
        job_exceptions={JOB_ID: job_exceptions()},
        events=[event(TM0, "BackOff", "x")],
        log_tails={JM_POD: "line 1\nline 2"},
    )
    data = json.loads(json.dumps(snap.to_dict()))
    assert ClusterSnapshot.from_dict(data) == snap
    assert data["pods"][0]["created_at"] == "2025-05-01T11:57:30Z"


def test_from_dict_ignores_unknown_keys_and_refuses_wrong_types() -> None:
    assert ClusterSnapshot.from_dict({"name": "x", "added_later": 1}) == ClusterSnapshot(name="x")
    with pytest.raises(pydantic.ValidationError):
        ClusterSnapshot.from_dict({"pods": "not a list"})


def test_log_sources_name_the_containers_to_tail() -> None:
    assert snapshot().log_sources() == (
        LogSource(pod=JM_POD, container="flink-main-container", previous=False),
    )
    crashing = [
        pod("jobmanager", containers=[waiting("CrashLoopBackOff", restarts=1, last=terminated())]),
        pod(
            "taskmanager",
            TM0,
            containers=[waiting("CrashLoopBackOff", restarts=2, last=terminated())],
        ),
        pod(
            "taskmanager",
            TM1,
            containers=[waiting("CrashLoopBackOff", restarts=5, last=terminated())],
        ),
    ]
    snap = snapshot(pods=crashing)
    assert snap.log_sources() == (
        LogSource(pod=JM_POD, container="flink-main-container", previous=True),
        LogSource(pod=TM1, container="flink-main-container", previous=True),
    )
    tailed = snap.with_log_tails({TM1: "java.lang.OutOfMemoryError: Java heap space"})
    assert tailed.log_tails == {TM1: "java.lang.OutOfMemoryError: Java heap space"}
    verdict = classify_cluster(tailed, expected_taskmanagers=2, expected_slots=4, now=NOW)
    assert verdict.reason is Reason.CRASH_LOOP_BACK_OFF
    # The JobManager restarted once only (below the threshold): the TaskManager fails it.
    assert verdict.details["pod"] == TM1
    assert verdict.message.endswith(
        "; last log lines:\njava.lang.OutOfMemoryError: Java heap space"
    )


# --- properties ------------------------------------------------------------------------

_TEXT = st.text(max_size=12)
_WAITING_REASONS = st.sampled_from(
    [
        "ContainerCreating",
        "PodInitializing",
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "SomethingNew",
    ]
)
_TIMES = st.one_of(
    st.none(),
    st.just("not a time"),
    st.just("2025-13-01T00:00:00Z"),
    st.datetimes(min_value=datetime(2025, 4, 1), max_value=datetime(2025, 6, 1)).map(
        lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
    ),
)
_COUNTS = st.one_of(st.integers(-2, 12), st.none(), st.just("seven"))
_STATES = st.one_of(
    st.just({}),
    st.builds(
        lambda r, m: {"waiting": {"reason": r, "message": m}},
        st.one_of(st.none(), _WAITING_REASONS),
        _TEXT,
    ),
    st.builds(lambda t: {"running": {"startedAt": t}}, _TIMES),
    st.builds(
        lambda r, c: {"terminated": {"reason": r, "exitCode": c}}, _TEXT, st.integers(0, 255)
    ),
)
_CONTAINERS = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["flink-main-container", "log-shipper", ""]),
        "ready": st.one_of(st.booleans(), st.none()),
        "restartCount": _COUNTS,
        "state": _STATES,
    },
    optional={
        "image": st.one_of(st.none(), _TEXT),
        "lastState": st.one_of(
            st.just({}),
            st.builds(
                lambda r, c: {"terminated": {"reason": r, "exitCode": c}},
                st.sampled_from(["Error", "OOMKilled", "Completed", "Unknown"]),
                st.integers(0, 255),
            ),
        ),
    },
)
_CONDITIONS = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["PodScheduled", "Ready", "ContainersReady", "Initialized"]),
        "status": st.sampled_from(["True", "False", "Unknown"]),
    },
    optional={
        "reason": st.sampled_from(["Unschedulable", "ContainersNotReady", "Whatever"]),
        "message": _TEXT,
        "lastTransitionTime": _TIMES,
    },
)


def _raw_pod(
    name: str,
    component: str,
    created: str | None,
    deleting: bool,
    phase: str | None,
    conditions: list[dict[str, Any]],
    containers: list[dict[str, Any]],
    init: list[dict[str, Any]],
    nominated: str | None,
    template_hash: str,
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "labels": {"component": component, "pod-template-hash": template_hash},
            "creationTimestamp": created,
            **({"deletionTimestamp": created} if deleting else {}),
        },
        "status": {
            "phase": phase,
            "conditions": conditions,
            "containerStatuses": containers,
            "initContainerStatuses": init,
            "nominatedNodeName": nominated,
        },
    }


_PODS = st.builds(
    _raw_pod,
    st.sampled_from([JM_POD, TM0, TM1, "other"]),
    st.sampled_from(["jobmanager", "taskmanager", "historyserver"]),
    _TIMES,
    st.booleans(),
    st.one_of(st.none(), st.sampled_from(["Pending", "Running", "Succeeded", "Failed", "Unknown"])),
    st.lists(_CONDITIONS, max_size=4),
    st.lists(_CONTAINERS, max_size=3),
    st.lists(_CONTAINERS, max_size=1),
    st.one_of(st.none(), st.just("worker-5")),
    st.sampled_from(["7d9f8c6b5", "5c6d7e8f9", "0000000"]),
)
_EVENTS = st.builds(
    lambda name, reason, ago: event(name, reason, "m", ago=ago),
    st.sampled_from([JM_POD, TM0, TM1]),
    st.sampled_from(
        [
            "TriggeredScaleUp",
            "NotTriggerScaleUp",
            "Nominated",
            "FailedScheduling",
            "BackOff",
            "FailedMount",
        ]
    ),
    st.integers(0, 900),
)
_OVERVIEWS = st.one_of(
    st.none(),
    st.builds(
        lambda tm, total, free: {"taskmanagers": tm, "slots-total": total, "slots-available": free},
        st.integers(0, 4),
        st.integers(0, 8),
        st.integers(0, 8),
    ),
)
_JOBS = st.lists(
    st.builds(
        lambda state, jid: job(state, jid),
        st.sampled_from(["RUNNING", "FAILED", "CREATED", "weird"]),
        st.sampled_from([JOB_ID, "f" * 32]),
    ),
    max_size=2,
)

_FAILURE_REASONS = {
    Reason.CRASH_LOOP_BACK_OFF,
    Reason.CREATE_CONTAINER_CONFIG_ERROR,
    Reason.CREATE_CONTAINER_ERROR,
    Reason.ERR_IMAGE_PULL,
    Reason.FAILED_CREATE,
    Reason.IMAGE_PULL_BACK_OFF,
    Reason.INVALID_IMAGE_NAME,
    Reason.OOM_KILLED,
    Reason.PROGRESS_DEADLINE_EXCEEDED,
    Reason.RUN_CONTAINER_ERROR,
    Reason.UNSCHEDULABLE,
}


def _snapshots() -> st.SearchStrategy[ClusterSnapshot]:
    return st.builds(
        lambda pods, events, view, jobs: snapshot(
            pods=pods, events=events, overview=view, jobs=jobs
        ),
        st.lists(_PODS, max_size=4),
        st.lists(_EVENTS, max_size=3),
        _OVERVIEWS,
        _JOBS,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snap=_snapshots(), restarts=st.integers(0, 4), grace=st.integers(0, 600))
def test_classifiers_never_raise_on_arbitrary_pod_states(
    snap: ClusterSnapshot, restarts: int, grace: int
) -> None:
    kwargs: dict[str, Any] = {
        "now": NOW,
        "crashloop_restarts": restarts,
        "unschedulable_grace": timedelta(seconds=grace),
    }
    verdict = classify_cluster(
        snap,
        expected_taskmanagers=TASKMANAGERS,
        expected_slots=SLOTS,
        progress_deadline=timedelta(minutes=5),
        **kwargs,
    )
    assert verdict.message
    if verdict.lifecycle is Lifecycle.FAILED:
        assert verdict.reason in _FAILURE_REASONS
    if verdict.lifecycle is Lifecycle.READY:
        assert snap.overview is not None and snap.overview.taskmanagers >= TASKMANAGERS
    assert (
        Outcome.from_event(json.loads(json.dumps(Outcome(verdict).to_event()))).verdict == verdict
    )
    classify_cluster_job(snap, **kwargs)
    classify_operator_deployment(snap, target="job", **kwargs)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snap=_snapshots())
def test_a_round_tripped_snapshot_gets_the_same_verdict(snap: ClusterSnapshot) -> None:
    copy = ClusterSnapshot.from_dict(json.loads(json.dumps(snap.to_dict())))
    assert copy == snap
    assert classify_cluster(copy, expected_taskmanagers=2, expected_slots=4, now=NOW) == (
        classify_cluster(snap, expected_taskmanagers=2, expected_slots=4, now=NOW)
    )
    assert classify_cluster_job(copy, now=NOW) == classify_cluster_job(snap, now=NOW)
