"""Shared pieces of the observation models: a frozen pydantic base, UTC timestamps, and
tolerant readers of raw API dicts.

The readers take what a hook got back: raw JSON (camelCase keys, zero values and empty
lists left out, timestamps as RFC 3339 strings) -- the preferred input -- or the
``kubernetes`` client's ``to_dict()`` (snake_case keys, ``None`` for absent fields,
timestamps as ``datetime``). A missing or malformed field reads as absent; nothing raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict

__all__ = [
    "FrozenModel",
    "Timestamp",
    "format_duration",
    "get",
    "get_int",
    "get_items",
    "get_mapping",
    "get_str",
    "get_timestamp",
    "require_aware",
    "to_utc",
]


class FrozenModel(BaseModel):
    """Base of every observation model: immutable, and tolerant of unknown keys on input
    (a newer writer's extra fields are ignored, not refused)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def require_aware(now: datetime) -> datetime:
    """``now`` in UTC.

    :raises ValueError: if ``now`` is naive (its zone would be a guess).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    return now.astimezone(timezone.utc)


Timestamp = Annotated[datetime, AfterValidator(to_utc)]
"""A datetime stored in UTC (round-trips through JSON as ISO 8601)."""

_UPPER = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(key: str) -> str:
    return _UPPER.sub("_", key).lower()


def get(raw: Mapping[str, Any] | None, key: str) -> Any:
    """``raw[key]`` (camelCase), else its snake_case twin; ``None`` when absent."""
    if not isinstance(raw, Mapping):
        return None
    value = raw.get(key)
    if value is None:
        value = raw.get(_snake(key))
    return value


def get_mapping(raw: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    """A nested object, or an empty mapping when absent or not an object."""
    value = get(raw, key)
    return value if isinstance(value, Mapping) else {}


def get_items(raw: Mapping[str, Any] | None, key: str) -> list[Mapping[str, Any]]:
    """The objects of a nested list (non-objects skipped); empty when absent."""
    value = get(raw, key)
    if not isinstance(value, (list, tuple)):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def get_str(raw: Mapping[str, Any] | None, key: str) -> str | None:
    """A string field; ``None`` when absent (other scalars are converted)."""
    value = get(raw, key)
    if value is None or isinstance(value, (Mapping, list, tuple)):
        return None
    return str(value)


def get_int(raw: Mapping[str, Any] | None, key: str, default: int = 0) -> int:
    """An integer field; ``default`` when absent or not a number (the API omits zeros)."""
    value = get(raw, key)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return default
    try:
        return int(value)
    except ValueError:
        return default


def get_timestamp(raw: Mapping[str, Any] | None, key: str) -> datetime | None:
    """An RFC 3339 timestamp (or a ``datetime``) in UTC; ``None`` when absent or malformed."""
    value = get(raw, key)
    if isinstance(value, datetime):
        return to_utc(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        # Python 3.10's fromisoformat does not read "Z".
        return to_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def format_duration(value: timedelta) -> str:
    """A duration as Go and kubectl print it, to the second: ``45s``, ``2m5s``, ``1h0m0s``."""
    seconds = max(0, int(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{minutes}m{seconds}s"
    return f"{seconds}s"
