"""Apply conflicts: the fields other managers own that an apply would change (409)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from flink_k8s_sandbox.patching import PatchError

__all__ = ["ApplyConflict", "Conflict", "manager_identifier"]


@dataclass(frozen=True)
class Conflict:
    """One field another manager owns and this apply would change."""

    manager: str
    api_version: str
    field_path: str
    operation: str = "Update"
    subresource: str = ""

    @property
    def description(self) -> str:
        """``printManager``: ``"mgr"``, plus ``with subresource "scale"`` and, for Update
        managers, ``using apps/v1``."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        return text + (f" using {self.api_version}" if self.operation == "Update" else "")

    @property
    def identifier(self) -> str:
        """The manager identifier Kubernetes sorts conflicts by (JSON of the entry)."""
        return manager_identifier(self.manager, self.operation, self.api_version, self.subresource)


def manager_identifier(manager: str, operation: str, api_version: str, subresource: str) -> str:
    """The JSON Kubernetes identifies a managedFields entry by (``apiVersion`` for Update only)."""
    entry = {"manager": manager, "operation": operation}
    if operation == "Update" and api_version:
        entry["apiVersion"] = api_version
    if subresource:
        entry["subresource"] = subresource
    return json.dumps(entry, separators=(",", ":"))


class ApplyConflict(PatchError):
    """Raised when an apply would change fields other managers own (409 ``Conflict``).

    ``conflicts`` keeps the order Kubernetes reports; ``causes`` are the Status causes
    (``reason: FieldManagerConflict``, ``message: conflict with "mgr" using apps/v1``,
    ``field: .spec.replicas``).
    """

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        self.conflicts = tuple(conflicts)
        causes = [
            {"reason": "FieldManagerConflict", "message": f"conflict with {c.description}"}
            | {"field": c.field_path}
            for c in self.conflicts
        ]
        super().__init__(409, "Conflict", _conflict_message(self.conflicts), causes=causes)


def _conflict_message(conflicts: Sequence[Conflict]) -> str:
    if len(conflicts) == 1:
        only = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {only.description}: {only.field_path}"
    lines: list[str] = []
    for identifier in sorted({c.identifier for c in conflicts}):
        mine = [c for c in conflicts if c.identifier == identifier]
        lines.append(f"conflicts with {mine[0].description}:")
        lines.extend(f"- {c.field_path}" for c in mine)
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
