"""classify_cluster: every failure cause with its message, progress, precedence, deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from observation_builders import (
    JM_POD,
    NOW,
    SCHEDULER_MESSAGE,
    SLOTS,
    TASKMANAGERS,
    TM_PODS,
    deployment,
    event,
    overview,
    pod,
    running,
    snapshot,
    terminated,
    waiting,
    with_jobmanager,
    with_taskmanager,
)

from airflow_provider_flink_k8s.observation import (
    ClusterSnapshot,
    DeploymentState,
    Lifecycle,
    Reason,
    Verdict,
    classify_cluster,
    classify_cluster_job,
    classify_operator_deployment,
    find_cluster_failure,
    last_progress,
)

TM0, TM1 = TM_PODS
SCHEDULER = SCHEDULER_MESSAGE
PULL_ERROR = (
    "rpc error: code = NotFound desc = failed to pull and unpack image "
    '"docker.io/library/flink:9.9": failed to resolve reference '
    '"docker.io/library/flink:9.9": docker.io/library/flink:9.9: not found'
)
QUOTA = (
    'pods "clickstream-taskmanager-5c6d7e8f9-x7k2p" is forbidden: exceeded quota: compute, '
    "requested: limits.memory=4Gi, used: limits.memory=14Gi, limited: limits.memory=16Gi"
)
JM_LOG = "\n".join(
    [
        f"2025-05-01 11:59:{i:02d},000 INFO  org.apache.flink.runtime.Startup - line {i}"
        for i in range(25)
    ]
    + ["org.apache.flink.configuration.IllegalConfigurationException: bad key 'taskmanager.memory'"]
)


def classify(snap: ClusterSnapshot, **kwargs: Any) -> Verdict:
    return classify_cluster(
        snap,
        expected_taskmanagers=kwargs.pop("expected_taskmanagers", TASKMANAGERS),
        expected_slots=kwargs.pop("expected_slots", SLOTS),
        now=kwargs.pop("now", NOW),
        **kwargs,
    )


def test_a_healthy_cluster_is_ready() -> None:
    verdict = classify(snapshot())
    assert verdict == Verdict(
        Lifecycle.READY,
        Reason.READY,
        "Flink cluster clickstream is ready: 2 TaskManagers with 4 task slots (4 available), "
        "JobManager REST API answering",
        {"taskmanagers": 2, "slots_total": 4, "slots_available": 4},
    )
    assert verdict.terminal


def test_more_taskmanagers_than_expected_is_ready() -> None:
    # A TaskManager that left stays registered until its heartbeat times out.
    verdict = classify(snapshot(overview=overview(3, 6, 2)))
    assert verdict.lifecycle is Lifecycle.READY


FAILURES = [
    pytest.param(
        {
            "pods": with_jobmanager(
                pod(
                    "jobmanager",
                    phase="Pending",
                    containers=[
                        waiting(
                            "ImagePullBackOff",
                            'Back-off pulling image "flink:9.9"',
                            image="flink:9.9",
                        )
                    ],
                )
            )
        },
        Reason.IMAGE_PULL_BACK_OFF,
        f'JobManager pod {JM_POD} cannot pull image "flink:9.9" (ImagePullBackOff): '
        'Back-off pulling image "flink:9.9"',
        id="ImagePullBackOff",
    ),
    pytest.param(
        {
            "pods": with_taskmanager(
                pod(
                    "taskmanager",
                    TM0,
                    phase="Pending",
                    containers=[waiting("ErrImagePull", PULL_ERROR, image="flink:9.9")],
                )
            )
        },
        Reason.ERR_IMAGE_PULL,
        f'TaskManager pod {TM0} cannot pull image "flink:9.9" (ErrImagePull): {PULL_ERROR}',
        id="ErrImagePull",
    ),
    pytest.param(
        {
            "pods": with_taskmanager(
                pod(
                    "taskmanager",
                    TM0,
                    phase="Pending",
                    containers=[
                        waiting(
                            "InvalidImageName",
                            'Failed to apply default image tag "Flink:2.0": couldn\'t parse image '
                            'name "Flink:2.0": invalid reference format: repository name must be '
                            "lowercase",
                            image="Flink:2.0",
                        )
                    ],
                )
            )
        },
        Reason.INVALID_IMAGE_NAME,
        f'TaskManager pod {TM0} cannot pull image "Flink:2.0" (InvalidImageName): Failed to '
        'apply default image tag "Flink:2.0": couldn\'t parse image name "Flink:2.0": invalid '
        "reference format: repository name must be lowercase",
        id="InvalidImageName",
    ),
    pytest.param(
        {
            "pods": with_taskmanager(
                pod(
                    "taskmanager",
                    TM0,
                    phase="Pending",
                    containers=[
                        waiting(
                            "CreateContainerConfigError", 'configmap "clickstream-config" not found'
                        )
                    ],
                )
            )
        },
        Reason.CREATE_CONTAINER_CONFIG_ERROR,
        f"TaskManager pod {TM0} cannot start (CreateContainerConfigError): "
        'configmap "clickstream-config" not found',
        id="CreateContainerConfigError",
    ),
    pytest.param(
        {
            "pods": with_taskmanager(
                pod(
                    "taskmanager",
                    TM0,
                    containers=[
                        running(),
                        waiting(
                            "CreateContainerError",
                            "Error: container create failed: "
                            'executable file "fluent-bit" not found',
                            name="log-shipper",
                        ),
                    ],
                )
            )
        },
        Reason.CREATE_CONTAINER_ERROR,
        f"TaskManager pod {TM0} container log-shipper cannot start (CreateContainerError): "
        'Error: container create failed: executable file "fluent-bit" not found',
        id="CreateContainerError-sidecar",
    ),
    pytest.param(
        {
            "pods": with_jobmanager(
                pod(
                    "jobmanager",
                    containers=[
                        waiting(
                            "RunContainerError",
                            "failed to create containerd task: OCI runtime create failed",
                            restarts=1,
                        )
                    ],
                )
            )
        },
        Reason.RUN_CONTAINER_ERROR,
        f"JobManager pod {JM_POD} cannot start (RunContainerError): "
        "failed to create containerd task: OCI runtime create failed",
        id="RunContainerError",
    ),
    pytest.param(
        {
            "pods": with_jobmanager(
                pod(
                    "jobmanager",
                    containers=[
                        waiting(
                            "CrashLoopBackOff",
                            f"back-off 40s restarting failed container={'flink-main-container'} "
                            f"pod={JM_POD}_analytics(5e6f7a8b)",
                            restarts=4,
                            last=terminated(),
                        )
                    ],
                )
            ),
            "log_tails": {JM_POD: JM_LOG},
        },
        Reason.CRASH_LOOP_BACK_OFF,
        f"JobManager pod {JM_POD} is in CrashLoopBackOff (restarted 4 times, last exit code 1); "
        "last log lines:\n" + "\n".join(JM_LOG.splitlines()[-20:]),
        id="CrashLoopBackOff-with-log-tail",
    ),
    pytest.param(
        {
            "pods": with_taskmanager(
                pod(
                    "taskmanager",
                    TM1,
                    containers=[
                        waiting(
                            "CrashLoopBackOff",
                            "back-off 20s restarting failed container",
                            restarts=2,
                            last=terminated(message="Could not resolve clickstream-jobmanager"),
                        )
                    ],
                ),
                index=1,
            )
        },
        Reason.CRASH_LOOP_BACK_OFF,
        f"TaskManager pod {TM1} is in CrashLoopBackOff (restarted 2 times, last exit code 1): "
        "Could not resolve clickstream-jobmanager",
        id="CrashLoopBackOff-termination-message",
    ),
    pytest.param(
        {
            "pods": with_taskmanager(
                pod(
                    "taskmanager",
                    TM0,
                    containers=[
                        waiting(
                            "CrashLoopBackOff",
                            "back-off 1m20s restarting failed container",
                            restarts=3,
                            last=terminated("OOMKilled", 137),
                        )
                    ],
                )
            )
        },
        Reason.OOM_KILLED,
        f"TaskManager pod {TM0} was OOMKilled (restarted 3 times, last exit code 137): "
        "the container exceeded its memory limit",
        id="OOMKilled",
    ),
    pytest.param(
        {
            "pods": with_jobmanager(
                pod(
                    "jobmanager",
                    containers=[
                        waiting(
                            "CrashLoopBackOff",
                            "back-off 40s",
                            restarts=2,
                            last=terminated("Completed", 0),
                        )
                    ],
                )
            )
        },
        Reason.CRASH_LOOP_BACK_OFF,
        f"JobManager pod {JM_POD} is in CrashLoopBackOff "
        "(restarted 2 times, last exit code 0 (Completed))",
        id="CrashLoopBackOff-exited-0",
    ),
    pytest.param(
        {
            "pods": with_taskmanager(
                pod(
                    "taskmanager",
                    TM0,
                    phase="Pending",
                    containers=[],
                    init_containers=[
                        waiting(
                            "CrashLoopBackOff",
                            "back-off",
                            name="fetch-jar",
                            restarts=3,
                            last=terminated(),
                        )
                    ],
                )
            )
        },
        Reason.CRASH_LOOP_BACK_OFF,
        f"TaskManager pod {TM0} init container fetch-jar is in CrashLoopBackOff "
        "(restarted 3 times, last exit code 1)",
        id="CrashLoopBackOff-init-container",
    ),
    pytest.param(
        {
            "pods": with_taskmanager(
                pod("taskmanager", TM0, unschedulable=SCHEDULER, unschedulable_ago=90)
            )
        },
        Reason.UNSCHEDULABLE,
        f"TaskManager pod {TM0} cannot be scheduled (Unschedulable for 1m30s): {SCHEDULER}",
        id="Unschedulable",
    ),
    pytest.param(
        {
            "pods": with_taskmanager(
                pod("taskmanager", TM0, unschedulable="", unschedulable_ago=300)
            ),
            "events": [
                event(
                    TM0,
                    "FailedScheduling",
                    "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
                    source="default-scheduler",
                    ago=200,
                ),
            ],
        },
        Reason.UNSCHEDULABLE,
        f"TaskManager pod {TM0} cannot be scheduled (Unschedulable for 5m0s): "
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
        id="Unschedulable-message-from-event",
    ),
    pytest.param(
        {
            "pods": with_taskmanager(
                pod("taskmanager", TM0, unschedulable=SCHEDULER, unschedulable_ago=400)
            ),
            "events": [
                event(
                    TM0,
                    "TriggeredScaleUp",
                    "pod triggered scale-up: [{flink-pool 2->3 (max: 3)}]",
                    type="Normal",
                    source="cluster-autoscaler",
                    ago=380,
                ),
                event(
                    TM0,
                    "NotTriggerScaleUp",
                    "pod didn't trigger scale-up: 1 max node group size reached",
                    type="Normal",
                    source="cluster-autoscaler",
                    ago=20,
                ),
            ],
        },
        Reason.UNSCHEDULABLE,
        f"TaskManager pod {TM0} cannot be scheduled (Unschedulable for 6m40s): {SCHEDULER}",
        id="Unschedulable-autoscaler-gave-up",
    ),
    pytest.param(
        {
            "taskmanager_deployment": deployment(
                "taskmanager", replicas=3, updated=2, replica_failure=QUOTA
            )
        },
        Reason.FAILED_CREATE,
        f"Deployment clickstream-taskmanager cannot create pods (FailedCreate): {QUOTA}",
        id="FailedCreate",
    ),
    pytest.param(
        {
            "taskmanager_deployment": deployment(
                "taskmanager", replicas=2, available=1, progressing="ProgressDeadlineExceeded"
            )
        },
        Reason.PROGRESS_DEADLINE_EXCEEDED,
        "Deployment clickstream-taskmanager exceeded its progress deadline: "
        'ReplicaSet "clickstream-taskmanager-5c6d7e8f9" has timed out progressing.',
        id="ProgressDeadlineExceeded",
    ),
]


@pytest.mark.parametrize(("overrides", "reason", "message"), FAILURES)
def test_each_failure_cause_fails_fast_with_its_message(
    overrides: dict[str, Any], reason: Reason, message: str
) -> None:
    verdict = classify(snapshot(**overrides))
    assert (verdict.lifecycle, verdict.reason) == (Lifecycle.FAILED, reason)
    assert verdict.message == message
    assert verdict.terminal


@pytest.mark.parametrize(("overrides", "reason", "message"), FAILURES)
def test_find_cluster_failure_agrees(
    overrides: dict[str, Any], reason: Reason, message: str
) -> None:
    failure = find_cluster_failure(snapshot(**overrides), now=NOW)
    assert failure is not None
    assert (failure.reason, failure.message) == (reason, message)


def test_failure_details_name_the_pod_and_container() -> None:
    crashing = pod(
        "jobmanager", containers=[waiting("CrashLoopBackOff", restarts=5, last=terminated())]
    )
    verdict = classify(snapshot(pods=with_jobmanager(crashing)))
    assert verdict.details == {
        "pod": JM_POD,
        "container": "flink-main-container",
        "restart_count": 5,
    }


CONTAINER_CREATING = pod(
    "taskmanager", TM1, phase="Pending", containers=[waiting("ContainerCreating")]
)
FAILED_MOUNT = event(
    TM1,
    "FailedMount",
    'MountVolume.SetUp failed for volume "flink-config" : configmap "clickstream-config" not found',
)

PROGRESSING = [
    pytest.param(
        {
            "pods": with_jobmanager(
                pod(
                    "jobmanager",
                    containers=[
                        waiting("CrashLoopBackOff", "back-off 10s", restarts=1, last=terminated())
                    ],
                )
            )
        },
        Reason.CRASH_LOOP_BACK_OFF,
        f"JobManager pod {JM_POD} is in CrashLoopBackOff (restarted 1 time, last exit code 1) "
        "(fails at 2 restarts)",
        id="CrashLoopBackOff-below-threshold",
    ),
    pytest.param(
        {
            "pods": with_taskmanager(
                pod("taskmanager", TM0, unschedulable=SCHEDULER, unschedulable_ago=30)
            )
        },
        Reason.UNSCHEDULABLE,
        f"TaskManager pod {TM0} is unschedulable for 30s (fails after 1m0s): {SCHEDULER}",
        id="Unschedulable-within-grace",
    ),
    pytest.param(
        {
            "pods": with_taskmanager(
                pod("taskmanager", TM0, unschedulable=SCHEDULER, unschedulable_ago=300)
            ),
            "events": [
                event(
                    TM0,
                    "TriggeredScaleUp",
                    "pod triggered scale-up: [{flink-pool 2->3 (max: 10)}]",
                    type="Normal",
                    source="cluster-autoscaler",
                    ago=290,
                ),
            ],
        },
        Reason.UNSCHEDULABLE,
        f"TaskManager pod {TM0} is unschedulable, capacity is being added (TriggeredScaleUp: "
        f"pod triggered scale-up: [{{flink-pool 2->3 (max: 10)}}]): {SCHEDULER}",
        id="Unschedulable-autoscaler-scaling-up",
    ),
    pytest.param(
        {
            "pods": with_taskmanager(
                pod(
                    "taskmanager",
                    TM0,
                    unschedulable=SCHEDULER,
                    unschedulable_ago=300,
                    nominated_node="worker-5",
                )
            )
        },
        Reason.UNSCHEDULABLE,
        f"TaskManager pod {TM0} is unschedulable, the scheduler is preempting pods on node "
        f"worker-5 for it: {SCHEDULER}",
        id="Unschedulable-preempting",
    ),
    pytest.param(
        {"jobmanager_deployment": deployment("jobmanager", generation=2, observed=1)},
        Reason.ROLLOUT_IN_PROGRESS,
        "Waiting for deployment spec update to be observed... (clickstream-jobmanager)",
        id="spec-not-observed",
    ),
    pytest.param(
        {
            "taskmanager_deployment": deployment(
                "taskmanager",
                replicas=2,
                updated=1,
                status_replicas=2,
                progressing="ReplicaSetUpdated",
            )
        },
        Reason.ROLLOUT_IN_PROGRESS,
        'Waiting for deployment "clickstream-taskmanager" rollout to finish: '
        "1 out of 2 new replicas have been updated...",
        id="rollout-updating",
    ),
    pytest.param(
        {
            "taskmanager_deployment": deployment(
                "taskmanager", replicas=2, available=1, progressing="ReplicaSetUpdated"
            ),
            "pods": with_taskmanager(CONTAINER_CREATING, index=1),
            "events": [FAILED_MOUNT],
        },
        Reason.ROLLOUT_IN_PROGRESS,
        'Waiting for deployment "clickstream-taskmanager" rollout to finish: 1 of 2 updated '
        f"replicas are available... (TaskManager pod {TM1} is ContainerCreating (last warning "
        'FailedMount: MountVolume.SetUp failed for volume "flink-config" : configmap '
        '"clickstream-config" not found))',
        id="rollout-with-pod-hint",
    ),
    pytest.param(
        {"pods": with_taskmanager(pod("taskmanager", TM0, containers=[running(ready=False)]))},
        Reason.PODS_NOT_READY,
        f"TaskManager pod {TM0} is running but not ready",
        id="pod-not-ready-after-rollout",
    ),
    pytest.param(
        {"taskmanager_deployment": None},
        Reason.NOT_DEPLOYED,
        "Flink cluster clickstream has no TaskManager Deployment yet",
        id="taskmanager-deployment-absent",
    ),
    pytest.param(
        {
            "overview": None,
            "rest_error": "HTTPConnectionPool(host='clickstream-rest.analytics', port=8081): "
            "Max retries exceeded (Connection refused)",
        },
        Reason.REST_UNAVAILABLE,
        "Flink cluster clickstream: the JobManager REST API does not answer yet: "
        "HTTPConnectionPool(host='clickstream-rest.analytics', port=8081): "
        "Max retries exceeded (Connection refused)",
        id="rest-unavailable",
    ),
    pytest.param(
        {"overview": None},
        Reason.REST_UNAVAILABLE,
        "Flink cluster clickstream: the JobManager REST API does not answer yet",
        id="rest-not-asked",
    ),
    pytest.param(
        {"overview": overview(1, 2, 2)},
        Reason.TASK_MANAGERS_MISSING,
        "1 of 2 TaskManagers registered with the JobManager",
        id="taskmanagers-missing",
    ),
    pytest.param(
        {"overview": overview(2, 2, 2)},
        Reason.SLOTS_MISSING,
        "2 of 4 task slots registered (2 TaskManagers)",
        id="slots-missing",
    ),
]


@pytest.mark.parametrize(("overrides", "reason", "message"), PROGRESSING)
def test_each_progressing_situation(
    overrides: dict[str, Any], reason: Reason, message: str
) -> None:
    verdict = classify(snapshot(**overrides))
    assert (verdict.lifecycle, verdict.reason, verdict.message) == (
        Lifecycle.PROGRESSING,
        reason,
        message,
    )
    assert not verdict.terminal


def test_missing_and_deleted() -> None:
    missing = classify(snapshot(jobmanager_deployment=None, taskmanager_deployment=None, pods=[]))
    assert (missing.lifecycle, missing.reason, missing.message) == (
        Lifecycle.MISSING,
        Reason.NOT_DEPLOYED,
        "Flink cluster clickstream has no JobManager or TaskManager Deployment",
    )
    assert not missing.terminal
    deleted = classify(snapshot(jobmanager_deployment=deployment("jobmanager", deleting=True)))
    assert (deleted.lifecycle, deleted.reason, deleted.message) == (
        Lifecycle.DELETED,
        Reason.DELETED,
        "Flink cluster clickstream is being deleted (Deployment clickstream-jobmanager)",
    )
    assert deleted.terminal


def _crash(component: str, name: str, restarts: int) -> dict[str, Any]:
    return pod(
        component,
        name,
        containers=[waiting("CrashLoopBackOff", restarts=restarts, last=terminated())],
    )


def _pull(component: str, name: str) -> dict[str, Any]:
    return pod(component, name, phase="Pending", containers=[waiting("ErrImagePull", PULL_ERROR)])


@pytest.mark.parametrize(
    ("overrides", "reason", "pod_name"),
    [
        pytest.param(
            {
                "pods": [
                    _crash("jobmanager", JM_POD, 3),
                    _pull("taskmanager", TM0),
                    pod("taskmanager", TM1),
                ]
            },
            Reason.ERR_IMAGE_PULL,
            TM0,
            id="image-beats-crash-loop",
        ),
        pytest.param(
            {
                "pods": [
                    _crash("jobmanager", JM_POD, 2),
                    _crash("taskmanager", TM0, 9),
                    pod("taskmanager", TM1),
                ]
            },
            Reason.CRASH_LOOP_BACK_OFF,
            JM_POD,
            id="jobmanager-before-taskmanager",
        ),
        pytest.param(
            {
                "pods": [
                    pod("jobmanager"),
                    _crash("taskmanager", TM0, 2),
                    _crash("taskmanager", TM1, 7),
                ]
            },
            Reason.CRASH_LOOP_BACK_OFF,
            TM1,
            id="most-restarted-taskmanager",
        ),
        pytest.param(
            {
                "pods": [
                    pod("jobmanager"),
                    _crash("taskmanager", TM0, 3),
                    pod("taskmanager", TM1, unschedulable=SCHEDULER, unschedulable_ago=600),
                ],
                "taskmanager_deployment": deployment(
                    "taskmanager",
                    replicas=2,
                    available=0,
                    progressing="ProgressDeadlineExceeded",
                    replica_failure=QUOTA,
                ),
            },
            Reason.CRASH_LOOP_BACK_OFF,
            TM0,
            id="pod-cause-beats-deployment-conditions",
        ),
    ],
)
def test_the_most_specific_cause_wins(
    overrides: dict[str, Any], reason: Reason, pod_name: str
) -> None:
    verdict = classify(snapshot(**overrides))
    assert (verdict.lifecycle, verdict.reason, verdict.details.get("pod")) == (
        Lifecycle.FAILED,
        reason,
        pod_name,
    )


def test_failed_create_beats_the_progress_deadline() -> None:
    tm = deployment(
        "taskmanager",
        replicas=2,
        updated=1,
        progressing="ProgressDeadlineExceeded",
        replica_failure=QUOTA,
    )
    assert classify(snapshot(taskmanager_deployment=tm)).reason is Reason.FAILED_CREATE


def test_an_unobserved_spec_hides_the_old_pods_failures() -> None:
    overrides = {
        "jobmanager_deployment": deployment("jobmanager", generation=3, observed=2),
        "pods": with_jobmanager(_crash("jobmanager", JM_POD, 6)),
    }
    verdict = classify(snapshot(**overrides))
    assert (verdict.lifecycle, verdict.reason) == (
        Lifecycle.PROGRESSING,
        Reason.ROLLOUT_IN_PROGRESS,
    )


def test_pods_of_an_outdated_replica_set_do_not_fail_the_rollout() -> None:
    # The TaskManager Deployment rolls out ReplicaSet 5c6d7e8f9; an old pod still crashes.
    old = pod(
        "taskmanager",
        "clickstream-taskmanager-6f5e4d3c2-zzzzz",
        template_hash="6f5e4d3c2",
        containers=[waiting("CrashLoopBackOff", restarts=8, last=terminated())],
    )
    tm = deployment(
        "taskmanager", replicas=2, updated=1, status_replicas=2, progressing="ReplicaSetUpdated"
    )
    pods = [pod("jobmanager"), pod("taskmanager", TM0), old]
    verdict = classify(snapshot(taskmanager_deployment=tm, pods=pods))
    assert (verdict.lifecycle, verdict.reason) == (
        Lifecycle.PROGRESSING,
        Reason.ROLLOUT_IN_PROGRESS,
    )


@pytest.mark.parametrize(
    "gone",
    [
        pytest.param({"deleting": True}, id="terminating"),
        pytest.param({"phase": "Failed"}, id="evicted"),
    ],
)
def test_inactive_pods_are_ignored(gone: dict[str, Any]) -> None:
    crashed = pod(
        "taskmanager",
        "clickstream-taskmanager-5c6d7e8f9-qqqqq",
        containers=[waiting("CrashLoopBackOff", restarts=5, last=terminated())],
        **gone,
    )
    verdict = classify(snapshot(pods=[*with_taskmanager(pod("taskmanager", TM0)), crashed]))
    assert verdict.lifecycle is Lifecycle.READY


def test_thresholds_are_parameters() -> None:
    crashing = with_jobmanager(_crash("jobmanager", JM_POD, 1))
    assert classify(snapshot(pods=crashing), crashloop_restarts=1).lifecycle is Lifecycle.FAILED
    assert (
        classify(snapshot(pods=crashing), crashloop_restarts=3).lifecycle is Lifecycle.PROGRESSING
    )
    pending = with_taskmanager(
        pod("taskmanager", TM0, unschedulable=SCHEDULER, unschedulable_ago=5)
    )
    assert (
        classify(snapshot(pods=pending), unschedulable_grace=timedelta(0)).lifecycle
        is Lifecycle.FAILED
    )


def test_the_progress_deadline_fails_a_stalled_cluster() -> None:
    stalled = snapshot(overview=overview(1, 2, 2))
    # The latest progress is the Deployments' Progressing update, 60s before NOW.
    assert last_progress(stalled) == NOW - timedelta(seconds=60)
    assert (
        classify(stalled, progress_deadline=timedelta(minutes=5)).lifecycle is Lifecycle.PROGRESSING
    )
    verdict = classify(stalled, progress_deadline=timedelta(seconds=30))
    assert verdict == Verdict(
        Lifecycle.FAILED,
        Reason.PROGRESS_DEADLINE_EXCEEDED,
        "Flink cluster clickstream made no progress for 1m0s (deadline 30s); still waiting: "
        "1 of 2 TaskManagers registered with the JobManager",
        {
            "taskmanagers": 1,
            "slots_total": 2,
            "slots_available": 2,
            "expected_taskmanagers": 2,
            "expected_slots": 4,
            "waiting_for": "TaskManagersMissing",
        },
    )


def test_the_progress_deadline_never_touches_ready_or_undated_snapshots() -> None:
    assert classify(snapshot(), progress_deadline=timedelta(0)).lifecycle is Lifecycle.READY
    undated = ClusterSnapshot(
        jobmanager=DeploymentState(name="x-jobmanager", component="jobmanager"),
        taskmanager=DeploymentState(name="x-taskmanager", component="taskmanager"),
    )
    assert last_progress(undated) is None
    verdict = classify(undated, progress_deadline=timedelta(0))
    assert (verdict.lifecycle, verdict.reason) == (
        Lifecycle.PROGRESSING,
        Reason.ROLLOUT_IN_PROGRESS,
    )


@pytest.mark.parametrize(
    "decide",
    [
        lambda now: classify(snapshot(), now=now),
        lambda now: classify_cluster_job(snapshot(), now=now),
        lambda now: classify_operator_deployment(ClusterSnapshot(), target="job", now=now),
        lambda now: find_cluster_failure(snapshot(), now=now),
    ],
    ids=["cluster", "cluster-job", "operator", "failure"],
)
def test_now_must_be_timezone_aware(decide: Any) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(datetime(2025, 5, 1, 12, 0))
