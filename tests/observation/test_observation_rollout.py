"""deployment_rolled_out: kubectl's rollout-status rules and words."""

from __future__ import annotations

from typing import Any

import pytest
from observation_builders import deployment

from airflow_provider_flink_k8s.observation import DeploymentState, deployment_rolled_out

WAITING = 'Waiting for deployment "clickstream-taskmanager" rollout to finish: '


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            deployment("taskmanager", replicas=2),
            (True, 'deployment "clickstream-taskmanager" successfully rolled out'),
            id="complete",
        ),
        pytest.param(
            deployment("taskmanager", replicas=2, generation=4, observed=3),
            (False, "Waiting for deployment spec update to be observed..."),
            id="spec-not-observed",
        ),
        pytest.param(
            deployment(
                "taskmanager", replicas=2, available=1, progressing="ProgressDeadlineExceeded"
            ),
            (False, 'deployment "clickstream-taskmanager" exceeded its progress deadline'),
            id="deadline-exceeded",
        ),
        pytest.param(
            deployment("taskmanager", replicas=3, updated=1, status_replicas=3),
            (False, f"{WAITING}1 out of 3 new replicas have been updated..."),
            id="updating",
        ),
        pytest.param(
            deployment("taskmanager", replicas=2, status_replicas=3),
            (False, f"{WAITING}1 old replicas are pending termination..."),
            id="old-replicas-terminating",
        ),
        pytest.param(
            deployment("taskmanager", replicas=2, available=0, progressing="ReplicaSetUpdated"),
            (False, f"{WAITING}0 of 2 updated replicas are available..."),
            id="not-available",
        ),
        pytest.param(
            deployment("taskmanager", replicas=0, progressing="NewReplicaSetAvailable"),
            (True, 'deployment "clickstream-taskmanager" successfully rolled out'),
            id="scaled-to-zero",
        ),
        pytest.param(
            {
                "metadata": {"name": "clickstream-taskmanager", "generation": 1},
                "spec": {"replicas": 2},
            },
            (False, "Waiting for deployment spec update to be observed..."),
            id="just-created-no-status",
        ),
        pytest.param(
            {
                "metadata": {"name": "clickstream-taskmanager", "generation": 1},
                "spec": {},
                "status": {"observedGeneration": 1},
            },
            (False, f"{WAITING}0 out of 1 new replicas have been updated..."),
            id="replicas-default-to-one",
        ),
    ],
)
def test_rollout_status_mirrors_kubectl(raw: dict[str, Any], expected: tuple[bool, str]) -> None:
    assert deployment_rolled_out(raw) == expected
    assert deployment_rolled_out(DeploymentState.from_k8s(raw)) == expected


def test_new_replica_set_comes_from_the_progressing_condition() -> None:
    for reason in (
        "NewReplicaSetCreated",
        "FoundNewReplicaSet",
        "ReplicaSetUpdated",
        "NewReplicaSetAvailable",
    ):
        state = DeploymentState.from_k8s(deployment("taskmanager", progressing=reason))
        assert state.new_replica_set == "clickstream-taskmanager-5c6d7e8f9", reason
    assert (
        DeploymentState.from_k8s(deployment("taskmanager", progressing=None)).new_replica_set
        is None
    )
