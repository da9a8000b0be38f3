""":class:`PatchError` and the refusals the apiserver answers a bad patch with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flink_k8s_sandbox.patching.values import go_string, json_type

__all__ = [
    "GO_MAP",
    "INVALID",
    "PatchError",
    "bad_request",
    "cannot_decode",
    "internal_error",
    "no_merge_key",
]

INVALID = "the server rejected our request due to an error in our request"
"""apimachinery's generic message of a 422 ``Invalid`` patch."""
GO_MAP = "map[string]interface {}"
"""The Go type a JSON object body decodes into."""


class PatchError(ValueError):
    """Raised when a patch is refused; ``str()`` is the ``Status`` message.

    :param code: the HTTP status the server answers (400, 409, 413, 422 or 500).
    :param reason: the ``Status`` reason (``""`` when Kubernetes leaves it unset).
    :param detail: the underlying error when the message is generic (e.g. json-patch).
    :param causes: ``details.causes`` entries, if any.
    """

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        detail: str = "",
        causes: Sequence[Mapping[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.detail = detail
        self.causes: tuple[dict[str, str], ...] = tuple(dict(c) for c in causes)


def cannot_decode(value: Any, go_type: str) -> str:
    """``encoding/json``'s message for ``value`` that does not fit ``go_type``."""
    return f"json: cannot unmarshal {json_type(value)} into Go value of type {go_type}"


def bad_request(message: str) -> PatchError:
    """A 400 ``BadRequest``."""
    return PatchError(400, "BadRequest", message)


def internal_error(message: str) -> PatchError:
    """A 500 with no reason (an error the apiserver does not translate)."""
    return PatchError(500, "", message)


def no_merge_key(item: Any, key: str) -> PatchError:
    """A list item of a strategic merge patch lacks its merge key (500)."""
    return internal_error(f"map: {go_string(item)} does not contain declared merge key: {key}")
