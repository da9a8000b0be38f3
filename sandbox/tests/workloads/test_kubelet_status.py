"""The kubelet's pure rules: pod phase and conditions, log sources, graceful deletion,
back-off, durations and image names."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from flink_k8s_sandbox.clock import Backoff, go_duration
from flink_k8s_sandbox.errors import ApiError
from flink_k8s_sandbox.podgrace import pod_deletion
from flink_k8s_sandbox.podlogs import log_container_id
from flink_k8s_sandbox.podstatus import (
    ContainerState,
    container_status,
    pod_conditions,
    pod_phase,
)
from flink_k8s_sandbox.runtime import image_reference

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _running(name: str = "app") -> ContainerState:
    state = ContainerState(name, "img")
    state.run("simulated://1", "t0")
    return state


def _stopped(code: int, name: str = "app", init: bool = False) -> ContainerState:
    state = ContainerState(name, "img", init=init)
    state.stop({"exitCode": code, "reason": "Completed" if code == 0 else "Error"})
    return state


def _backing_off() -> ContainerState:
    state = _stopped(1)
    state.wait("CrashLoopBackOff", "back-off 10s ...")
    return state


@pytest.mark.parametrize(
    ("policy", "init", "regular", "terminal", "phase"),
    [
        ("Always", [], [ContainerState("app", "img")], False, "Pending"),
        ("Always", [], [_running()], False, "Running"),
        ("Always", [], [_backing_off()], False, "Running"),  # CrashLoopBackOff stays Running
        ("Always", [], [_stopped(0)], False, "Running"),
        ("Never", [], [_stopped(0)], False, "Succeeded"),
        ("Never", [], [_stopped(2)], False, "Failed"),
        ("OnFailure", [], [_stopped(2)], False, "Running"),
        ("Always", [_running("init")], [ContainerState("app", "img")], False, "Pending"),
        ("Never", [_stopped(1, "init", True)], [ContainerState("app", "img")], False, "Failed"),
        ("Always", [], [_stopped(0)], True, "Succeeded"),  # deleted: terminal phase
        ("Always", [], [_stopped(137)], True, "Failed"),
    ],
)
def test_pod_phase(
    policy: str,
    init: list[ContainerState],
    regular: list[ContainerState],
    terminal: bool,
    phase: str,
) -> None:
    assert pod_phase({"restartPolicy": policy}, init, regular, terminal) == phase


def test_container_status_of_a_crash_looping_container() -> None:
    state = _backing_off()
    state.restart_count = 3
    assert container_status(state) == {
        "name": "app",
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s ..."}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
        "ready": False,
        "restartCount": 3,
        "image": "img",
        "imageID": "",
        "started": False,
    }


def test_pod_conditions_keep_transition_times_and_foreign_conditions() -> None:
    app = _running()
    app.ready = True
    old = [
        {"type": "Ready", "status": "True", "lastTransitionTime": "early"},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": "scheduled"},
        {"type": "example.com/gate", "status": "True"},
    ]
    conditions = pod_conditions("Running", True, [], [app], old, "now")
    assert [(c["type"], c["status"], c.get("lastTransitionTime")) for c in conditions] == [
        ("PodReadyToStartContainers", "True", "now"),
        ("Initialized", "True", "now"),
        ("Ready", "True", "early"),
        ("ContainersReady", "True", "now"),
        ("PodScheduled", "True", "scheduled"),
        ("example.com/gate", "True", None),
    ]
    waiting = pod_conditions(
        "Pending", True, [ContainerState("init", "i", init=True)], [], [], "now"
    )
    initialized = waiting[1]
    assert (initialized["status"], initialized["reason"], initialized["message"]) == (
        "False",
        "ContainersNotInitialized",
        "containers with incomplete status: [init]",
    )


def _pod(
    state: dict[str, Any], last: dict[str, Any] | None = None, cid: str = ""
) -> dict[str, Any]:
    status = {"name": "app", "state": state, "lastState": {"terminated": last} if last else {}}
    if cid:
        status["containerID"] = cid
    return {"metadata": {"name": "p"}, "status": {"containerStatuses": [status]}}


@pytest.mark.parametrize(
    ("pod", "previous", "answer"),
    [
        (_pod({"running": {}}, cid="c2"), False, "c2"),
        (_pod({"running": {}}, {"containerID": "c1"}, "c2"), True, "c1"),
        (_pod({"waiting": {"reason": "CrashLoopBackOff"}}, {"containerID": "c1"}), False, "c1"),
        (
            _pod({"waiting": {"reason": "ContainerCreating"}}),
            False,
            'container "app" in pod "p" is waiting to start: ContainerCreating',
        ),
        (
            _pod({"waiting": {"reason": "ErrImagePull"}}),
            False,
            'container "app" in pod "p" is waiting to start: image can\'t be pulled',
        ),
        (
            _pod({"running": {}}, cid="c2"),
            True,
            'previous terminated container "app" in pod "p" not found',
        ),
    ],
)
def test_log_container_id(pod: dict[str, Any], previous: bool, answer: str) -> None:
    try:
        assert log_container_id(pod, "app", previous) == answer
    except ApiError as error:
        assert (error.code, error.status["message"]) == (400, answer)


def _bound(**metadata: Any) -> dict[str, Any]:
    spec = {"nodeName": "n1", "terminationGracePeriodSeconds": 30}
    return {"metadata": {"generation": 1, **metadata}, "spec": spec, "status": {"phase": "Running"}}


@pytest.mark.parametrize(
    ("pod", "requested", "expected"),
    [
        (
            _bound(),
            None,
            (
                False,
                {
                    "deletionTimestamp": "2026-01-02T03:04:35Z",
                    "deletionGracePeriodSeconds": 30,
                    "generation": 2,
                },
            ),
        ),
        (_bound(), 0, (True, {"deletionGracePeriodSeconds": 0})),
        (
            _bound(),
            -5,
            (
                False,
                {
                    "deletionTimestamp": "2026-01-02T03:04:06Z",
                    "deletionGracePeriodSeconds": 1,
                    "generation": 2,
                },
            ),
        ),
        ({"metadata": {}, "spec": {}}, None, (True, {"deletionGracePeriodSeconds": 0})),
        (
            _bound(deletionTimestamp="2026-01-02T03:04:35Z", deletionGracePeriodSeconds=30),
            None,
            (False, {}),
        ),
        (
            _bound(deletionTimestamp="2026-01-02T03:04:35Z", deletionGracePeriodSeconds=30),
            10,
            (
                False,
                {"deletionTimestamp": "2026-01-02T03:04:15Z", "deletionGracePeriodSeconds": 10},
            ),
        ),
        (
            _bound(deletionTimestamp="2026-01-02T03:04:35Z", deletionGracePeriodSeconds=30),
            0,
            (True, {"deletionGracePeriodSeconds": 0}),
        ),
    ],
)
def test_pod_deletion(pod: dict[str, Any], requested: int | None, expected: Any) -> None:
    assert pod_deletion(pod, requested, NOW) == expected


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (10, "10s"),
        (80, "1m20s"),
        (300, "5m0s"),
        (0.4, "400ms"),
        (1.6, "1.6s"),
        (0, "0s"),
        (3700, "1h1m40s"),
    ],
)
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_backoff_doubles_to_its_cap_and_is_forgotten_after_quiet() -> None:
    backoff = Backoff(10, 40)
    assert not backoff.in_backoff_since("k", 0, 0)
    delays = [backoff.next("k", t, t) for t in (0, 1, 2, 3)]
    assert delays == [10, 20, 40, 40]
    assert backoff.in_backoff_since("k", 3, 20) and not backoff.in_backoff_since("k", 3, 44)
    assert backoff.next("k", 200, 200) == 10  # more than twice the cap later: starts over


@pytest.mark.parametrize(
    ("image", "reference"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("nginx:1.25", "docker.io/library/nginx:1.25"),
        ("flink/flink:1.20", "docker.io/flink/flink:1.20"),
        ("ghcr.io/org/app:v1", "ghcr.io/org/app:v1"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
        ("app@sha256:abc", "docker.io/library/app@sha256:abc"),
    ],
)
def test_image_reference(image: str, reference: str) -> None:
    assert image_reference(image) == reference
