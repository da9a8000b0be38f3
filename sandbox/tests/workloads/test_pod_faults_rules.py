"""Which fault a container suffers: image names, annotations, rules (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from flink_k8s_sandbox.podfaults import PodFault, PodFaults, fault_from_annotations

PREFIX = "sandbox.flink-k8s.io/"


def _pod(name: str = "web-1", namespace: str = "ns", **annotations: str) -> dict[str, Any]:
    metadata = {
        "name": name,
        "namespace": namespace,
        "labels": {"app": "web"},
        "annotations": {
            PREFIX + key.replace("_", "-"): value for key, value in annotations.items()
        },
    }
    return {"metadata": metadata}


def test_annotations_are_parsed() -> None:
    annotations = {
        PREFIX + "fault": "CrashLoopBackOff",
        PREFIX + "fault-containers": "app, sidecar",
        PREFIX + "kill-after-seconds": "2.5",
        PREFIX + "exit-code": "3",
    }
    fault = fault_from_annotations(annotations)
    assert fault == PodFault("CrashLoopBackOff", frozenset({"app", "sidecar"}), 2.5, 3)
    assert fault is not None and (fault.run_seconds, fault.code) == (2.5, 3)
    assert fault_from_annotations({PREFIX + "fault": "Bogus"}) is None
    assert fault_from_annotations({}) is None


@pytest.mark.parametrize(
    ("kind", "run_seconds", "code"),
    [("CrashLoopBackOff", 0.0, 1), ("KillAfter", 5.0, 137), ("OOMKilled", 5.0, 137)],
)
def test_defaults(kind: str, run_seconds: float, code: int) -> None:
    assert (PodFault(kind).run_seconds, PodFault(kind).code) == (run_seconds, code)


def test_aliases_and_unknown_names() -> None:
    assert PodFault("ErrImagePull").kind == "ImagePullBackOff"
    with pytest.raises(ValueError, match="unknown pod fault 'Nope'"):
        PodFault("Nope")


def test_precedence_image_then_annotation_then_rules() -> None:
    faults = PodFaults()
    faults.add("NeverReady", namespace="n*", selector="app=web")
    assert faults.fault_for(_pod(), "app", "nginx") == PodFault("NeverReady")
    annotated = _pod(fault="KillAfter")
    assert faults.fault_for(annotated, "app", "nginx") == PodFault("KillAfter")
    assert faults.fault_for(annotated, "app", "x/does-not-exist:1") == PodFault("ImagePullBackOff")
    narrowed = _pod(fault="KillAfter", fault_containers="sidecar")
    assert faults.fault_for(narrowed, "app", "nginx") == PodFault("NeverReady")
    assert faults.fault_for(_pod(namespace="other"), "app", "nginx") is None


def test_rules_by_name_pattern_and_removal() -> None:
    faults = PodFaults()
    rule = faults.add("CrashLoopBackOff", name="web-*", containers="app", exit_code=2)
    assert faults.fault_for(_pod("web-7"), "app", "x") == PodFault(
        "CrashLoopBackOff", frozenset({"app"}), None, 2
    )
    assert faults.fault_for(_pod("web-7"), "sidecar", "x") is None
    assert faults.fault_for(_pod("api-1"), "app", "x") is None
    assert faults.remove(rule.id) and not faults.remove(rule.id)
    assert faults.rules == ()


def test_inject_returns_the_rule_as_json() -> None:
    faults = PodFaults()
    rule = faults.inject(fault="OOMKilled", selector="app=web", after_seconds=1)
    assert rule == {
        "id": 1,
        "selector": "app=web",
        "fault": "OOMKilled",
        "containers": [],
        "afterSeconds": 1,
        "exitCode": 137,
        "message": "",
    }
    with pytest.raises(ValueError, match="bad label selector"):
        faults.add("NeverReady", selector="app in (")
