"""Resource URLs, parsed (pure).

``/api/v1[/namespaces/<ns>]/<plural>[/<name>[/<subresource>[/<rest>]]]`` and the same
under ``/apis/<group>/<version>``. ``/api/v1/namespaces/<name>/status`` (and
``/finalize``) address the namespace itself, as on a real server.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Target", "parse_path"]

_NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(frozen=True)
class Target:
    """What a URL addresses; ``plural is None`` means the group-version itself."""

    group: str
    version: str
    plural: str | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    rest: str = ""


def _resource(group: str, version: str, parts: list[str]) -> Target | None:
    namespace = None
    if len(parts) >= 3 and parts[0] == "namespaces" and parts[2] not in _NAMESPACE_SUBRESOURCES:
        namespace, parts = parts[1], parts[2:]
    if not parts or not all(parts[:3]):
        return None
    return Target(
        group=group,
        version=version,
        plural=parts[0],
        namespace=namespace,
        name=parts[1] if len(parts) > 1 else None,
        subresource=parts[2] if len(parts) > 2 else None,
        rest="/".join(parts[3:]),
    )


def parse_path(path: str) -> Target | None:
    """The target of a resource URL (``None`` when it is no resource URL)."""
    parts = path.strip("/").split("/")
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return Target(group, version)
    return _resource(group, version, rest)
