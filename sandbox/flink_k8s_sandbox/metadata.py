"""Pure rules for ``metadata``: names, generateName, system fields, generation.

Nothing here touches the store; :mod:`.storage` applies these on each write.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import datetime, timezone
from typing import Any

from flink_k8s_sandbox.errors import ErrorType, FieldError
from flink_k8s_sandbox.resources import ResourceType

__all__ = [
    "SYSTEM_FIELDS",
    "carry_system_fields",
    "format_time",
    "generate_name",
    "new_uid",
    "spec_changed",
    "validate_name",
]

SYSTEM_FIELDS = (
    "uid",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
"""Fields of ``metadata`` only the server sets; writes from clients cannot change them."""

_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_DNS_LABEL_NAMES = {("", "namespaces"), ("", "services")}
_PATH_SEGMENT_NAMES = {
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
}


def new_uid() -> str:
    return str(uuid.uuid4())


def format_time(moment: datetime) -> str:
    """RFC 3339 with second precision in UTC: ``2024-01-02T03:04:05Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_name(prefix: str, rng: random.Random | None = None) -> str:
    """``generateName`` + five random characters, as the API server picks them."""
    pick = rng or random
    return prefix + "".join(pick.choice(_GENERATE_ALPHABET) for _ in range(5))


def validate_name(resource_type: ResourceType, name: str) -> list[FieldError]:
    """The name rule of a type: DNS label for namespaces/services, subdomain for most."""
    if resource_type.storage_key in _PATH_SEGMENT_NAMES:
        bad = name in (".", "..") or "/" in name or "%" in name
        detail = "may not contain '/' or '%'" if bad else ""
        return [FieldError(ErrorType.INVALID, "metadata.name", name, detail)] if bad else []
    if resource_type.storage_key in _DNS_LABEL_NAMES:
        ok = len(name) <= 63 and _LABEL.match(name) is not None
        message = _LABEL_MESSAGE
    else:
        ok = len(name) <= 253 and _SUBDOMAIN.match(name) is not None
        message = _SUBDOMAIN_MESSAGE
    return [] if ok else [FieldError(ErrorType.INVALID, "metadata.name", name, message)]


def carry_system_fields(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Copy the server-owned metadata of ``old`` into ``new`` (in place)."""
    old_meta = old.get("metadata", {})
    new_meta = new.setdefault("metadata", {})
    for key in SYSTEM_FIELDS:
        if key in old_meta:
            new_meta[key] = old_meta[key]
        else:
            new_meta.pop(key, None)


def spec_changed(resource_type: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether a write changes what ``metadata.generation`` counts.

    Everything but ``metadata`` (and ``status`` when the type has a status subresource;
    without one, a CR's status is ordinary content).
    """
    ignored = {"metadata", "apiVersion", "kind"}
    if resource_type.has_status:
        ignored.add("status")
    keys = (set(old) | set(new)) - ignored
    return any(old.get(key) != new.get(key) for key in keys)
