"""Graceful pod deletion: how a DELETE marks a pod and when it removes it at once (pure).

Paraphrased from the API server's pod strategy (``CheckGracefulDelete``) and
``rest.BeforeDelete``: the grace period is the request's ``gracePeriodSeconds``, else
the pod's ``terminationGracePeriodSeconds`` (30); an unscheduled or finished pod goes at
once. A graceful DELETE sets ``deletionTimestamp`` to now + grace and
``deletionGracePeriodSeconds`` (and bumps ``generation``); the kubelet stops the
containers and finishes with a DELETE of grace 0. A repeated DELETE may only shorten
the period (moving ``deletionTimestamp`` earlier); a negative period counts as 1 s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flink_k8s_sandbox.metadata import format_time

__all__ = ["pod_deletion"]

Obj = dict[str, Any]
_DEFAULT_GRACE = 30


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def pod_deletion(pod: Mapping[str, Any], requested: int | None, now: datetime) -> tuple[bool, Obj]:
    """``(immediately, metadata updates)`` for a DELETE of ``pod``.

    ``immediately`` means the pod goes now unless finalizers hold it (then with
    ``deletionGracePeriodSeconds: 0``); otherwise ``updates`` are what the marking writes
    (empty when a graceful deletion is already pending and not shortened).
    """
    metadata, spec = pod["metadata"], pod.get("spec", {})
    if requested is not None and requested < 0:
        requested = 1
    current = metadata.get("deletionGracePeriodSeconds")
    if metadata.get("deletionTimestamp"):
        if not current:
            return True, {"deletionGracePeriodSeconds": 0}
        if requested is None or requested >= current:
            return False, {}
        if requested == 0:
            return True, {"deletionGracePeriodSeconds": 0}
        moved = _parse(metadata["deletionTimestamp"]) - timedelta(seconds=current - requested)
        return False, {
            "deletionTimestamp": format_time(moved),
            "deletionGracePeriodSeconds": requested,
        }
    if requested is not None:
        period = requested
    else:
        period = int(spec.get("terminationGracePeriodSeconds", _DEFAULT_GRACE))
    if not spec.get("nodeName") or pod.get("status", {}).get("phase") in ("Failed", "Succeeded"):
        period = 0
    if period <= 0:
        return True, {"deletionGracePeriodSeconds": 0}
    updates: Obj = {
        "deletionTimestamp": format_time(now + timedelta(seconds=period)),
        "deletionGracePeriodSeconds": period,
    }
    if metadata.get("generation"):
        updates["generation"] = int(metadata["generation"]) + 1
    return False, updates
