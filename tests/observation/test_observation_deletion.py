"""The deletion decision: nothing left is done, anything left is named."""

from __future__ import annotations

from airflow_provider_flink_k8s.observation import Lifecycle, Reason
from airflow_provider_flink_k8s.observation.deletion import classify_deletion


def test_nothing_left_is_ready() -> None:
    verdict = classify_deletion((), what="cluster default/orders")
    assert (verdict.lifecycle, verdict.reason) == (Lifecycle.READY, Reason.DELETED)
    assert verdict.terminal and verdict.message == "cluster default/orders: nothing is left"


def test_objects_left_are_named_and_keep_the_wait_going() -> None:
    left = ("Deployment/orders-jobmanager (finalizers: foregroundDeletion)", "Service/orders-rest")
    verdict = classify_deletion(left, what="cluster default/orders")
    assert (verdict.lifecycle, verdict.reason) == (Lifecycle.PROGRESSING, Reason.DELETING)
    assert "2 object(s) left: Deployment/orders-jobmanager (finalizers" in verdict.message
    assert verdict.details["remaining"] == list(left)
