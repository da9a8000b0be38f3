"""``GET /jobs/:jobid/checkpoints`` of a stand-in job: its savepoints and what it was
restored from, in the shape of Flink's ``CheckpointingStatistics``.

The stand-in takes no periodic checkpoints and holds no state: the statistics list the
savepoints it completed (sizes 0), newest first, and ``latest.restored`` the savepoint a
job was started from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["SavepointRecord", "checkpoint_statistics"]

_SUMMARY_KEYS = (
    "checkpointed_size", "state_size", "end_to_end_duration", "alignment_buffered",
    "processed_data", "persisted_data",
)  # fmt: skip


class SavepointRecord:
    """A completed savepoint as the statistics show it."""

    def __init__(
        self,
        checkpoint_id: int,
        triggered_ms: int,
        acked_ms: int,
        location: str,
        *,
        stop: bool,
        subtasks: int,
    ) -> None:
        self.checkpoint_id = checkpoint_id
        self.triggered_ms = triggered_ms
        self.acked_ms = acked_ms
        self.location = location
        self.stop = stop
        self.subtasks = subtasks

    def json(self) -> dict[str, Any]:
        return {
            "className": "completed",
            "id": self.checkpoint_id,
            "status": "COMPLETED",
            "is_savepoint": True,
            "savepointFormat": "CANONICAL",
            "trigger_timestamp": self.triggered_ms,
            "latest_ack_timestamp": self.acked_ms,
            "checkpointed_size": 0,
            "state_size": 0,
            "end_to_end_duration": self.acked_ms - self.triggered_ms,
            "alignment_buffered": 0,
            "processed_data": 0,
            "persisted_data": 0,
            "num_subtasks": self.subtasks,
            "num_acknowledged_subtasks": self.subtasks,
            "checkpoint_type": "SYNC_SAVEPOINT" if self.stop else "SAVEPOINT",
            "tasks": {},
            "external_path": self.location,
            "discarded": False,
        }


def _percentiles(values: Sequence[int]) -> dict[str, Any]:
    if not values:
        return {
            "min": 0,
            "max": 0,
            "avg": 0,
            **dict.fromkeys(("p50", "p90", "p95", "p99", "p999"), 0.0),
        }
    ordered = sorted(values)

    def quantile(q: float) -> float:
        return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])

    return {
        "min": ordered[0],
        "max": ordered[-1],
        "avg": sum(ordered) // len(ordered),
        "p50": quantile(0.5),
        "p90": quantile(0.9),
        "p95": quantile(0.95),
        "p99": quantile(0.99),
        "p999": quantile(0.999),
    }


def checkpoint_statistics(
    savepoints: Sequence[SavepointRecord],
    restored: tuple[int, int, str] | None,
) -> dict[str, Any]:
    """The statistics; ``restored``: ``(checkpoint id, restore time, path)`` or ``None``."""
    history = [record.json() for record in sorted(savepoints, key=lambda r: -r.checkpoint_id)]
    summary = {key: _percentiles([entry[key] for entry in history]) for key in _SUMMARY_KEYS}
    restored_json = None
    if restored is not None:
        checkpoint_id, restored_ms, path = restored
        restored_json = {
            "id": checkpoint_id,
            "restore_timestamp": restored_ms,
            "is_savepoint": True,
            "external_path": path,
        }
    return {
        "counts": {
            "restored": int(restored is not None),
            "total": len(history),
            "in_progress": 0,
            "completed": len(history),
            "failed": 0,
        },
        "summary": summary,
        "latest": {
            "completed": None,
            "savepoint": history[0] if history else None,
            "failed": None,
            "restored": restored_json,
        },
        "history": history,
    }
