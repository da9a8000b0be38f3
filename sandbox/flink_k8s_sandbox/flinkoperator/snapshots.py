"""Savepoint bookkeeping of the stand-in operator (pure but for ``rng``).

Where a savepoint goes (:func:`savepoint_location`), how a manual trigger is recorded
(:func:`trigger_info`) and how a finished savepoint lands in ``jobStatus.savepointInfo``
(:func:`record_savepoint`), as the operator's legacy ``SavepointInfo`` holds them
(``kubernetes.operator.snapshot.resource.enabled: false``: no FlinkStateSnapshot).
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flink_k8s_sandbox.flinkoperator.status import savepoint_dir, savepoint_name

__all__ = [
    "HISTORY_LIMIT",
    "fallback_savepoint_dir",
    "record_savepoint",
    "savepoint_location",
    "trigger_info",
]

Obj = dict[str, Any]
HISTORY_LIMIT = 10
"""Savepoints kept in ``savepointHistory`` (``kubernetes.operator.savepoint.history.max.count``)."""


def fallback_savepoint_dir(namespace: str, name: str) -> str:
    """Where a savepoint goes when the spec configures no directory (a ``file://`` URI
    under the system's temporary folder)."""
    root = Path(tempfile.gettempdir()) / "flink-k8s-sandbox" / "savepoints" / namespace / name
    return root.as_uri()


def savepoint_location(
    spec: Mapping[str, Any], namespace: str, name: str, job_id: str, rng: random.Random
) -> str:
    """``<savepoint dir>/savepoint-<6 of the job id>-<12 hex>``."""
    folder = savepoint_dir(spec) or fallback_savepoint_dir(namespace, name)
    return f"{folder.rstrip('/')}/{savepoint_name(job_id, rng)}"


def trigger_info(rng: random.Random, now_ms: int) -> Obj:
    """The ``savepointInfo`` fields of a manual savepoint in progress."""
    return {
        "triggerId": f"{rng.getrandbits(128):032x}",
        "triggerTimestamp": now_ms,
        "triggerType": "MANUAL",
        "formatType": "CANONICAL",
    }


def record_savepoint(
    job_status: Obj, location: str, trigger: str, nonce: int | None, now_ms: int
) -> None:
    """Make ``location`` the ``lastSavepoint``, append it to the history (capped at
    :data:`HISTORY_LIMIT`) and clear the trigger in progress."""
    info = job_status.setdefault("savepointInfo", {})
    entry: Obj = {
        "location": location,
        "timeStamp": now_ms,
        "triggerType": trigger,
        "formatType": "CANONICAL",
    }
    if nonce is not None:
        entry["triggerNonce"] = nonce
    info["lastSavepoint"] = entry
    info["savepointHistory"] = [*(info.get("savepointHistory") or []), entry][-HISTORY_LIMIT:]
    for key in ("triggerId", "triggerTimestamp", "triggerType"):
        info.pop(key, None)
