"""The seam to :mod:`.fieldmanager`: ``managedFields`` on every write, apply conflicts as 409.

:class:`FieldTracker` supplies the clock and turns :class:`~.fieldmanager.ApplyConflict`
into the API server's ``Conflict`` Status (``details.causes`` with reason
``FieldManagerConflict``, no name or kind, as apimachinery's ``NewApplyConflict``).
A main-resource write to a kind with a status subresource does not own ``status``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flink_k8s_sandbox import errors, fieldmanager
from flink_k8s_sandbox.errors import ApiError
from flink_k8s_sandbox.patching import PatchError
from flink_k8s_sandbox.resources import ResourceType

__all__ = ["FieldTracker"]

Obj = dict[str, Any]


def _api_error(error: PatchError) -> ApiError:
    details = {"causes": list(error.causes)} if error.causes else None
    return ApiError(errors.status_failure(error.code, error.reason, error.message, details))


def _check_applied(rt: ResourceType, name: str, applied: Obj) -> None:
    version = applied.get("apiVersion")
    if version != rt.api_version:
        raise errors.bad_request(
            "Incorrect version specified in apply patch. "
            f"Specified patch version: {version}, expected: {rt.api_version}"
        )
    if applied.get("kind") != rt.kind:
        raise errors.bad_request(
            f"the kind in the data ({applied.get('kind')}) does not match the expected kind "
            f"({rt.kind})"
        )
    metadata = applied.get("metadata") or {}
    if metadata.get("name") != name:
        raise errors.bad_request(
            f"the name of the object ({metadata.get('name')}) does not match the name on the "
            f"URL ({name})"
        )


class FieldTracker:
    """Records field ownership with a clock.

    :param now: the timestamp written into ``managedFields[].time``.
    """

    def __init__(self, now: Callable[[], str]) -> None:
        self.now = now

    def updated(
        self,
        rt: ResourceType,
        old: Obj | None,
        new: Obj,
        manager: str,
        subresource: str | None = None,
    ) -> Obj:
        """``new`` with ``managedFields`` updated for a non-apply write by ``manager``."""
        return fieldmanager.record_update(
            old,
            new,
            manager=manager or "unknown",
            subresource=subresource,
            now=self.now(),
            ignore_status=rt.has_status and subresource is None,
        )

    def applied(
        self,
        rt: ResourceType,
        name: str,
        live: Obj | None,
        applied: Obj,
        manager: str,
        force: bool,
        subresource: str | None = None,
    ) -> Obj:
        """The result of server-side apply of ``applied`` over ``live`` (``None``: create).

        :raises ApiError: 400 for a mismatched configuration, 409 on conflicts (with
            ``FieldManagerConflict`` causes), 500 for a configuration that has no typed form.
        """
        _check_applied(rt, name, applied)
        try:
            return fieldmanager.apply(
                live,
                applied,
                manager=manager,
                force=force,
                now=self.now(),
                subresource=subresource,
                ignore_status=rt.has_status and subresource is None,
            )
        except PatchError as error:
            raise _api_error(error) from error
