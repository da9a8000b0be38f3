"""Which media type a response is written in (pure): JSON unless only protobuf will do."""

from __future__ import annotations

from flink_k8s_sandbox.protobuf.envelope import PROTOBUF

__all__ = ["only_protobuf"]


def only_protobuf(accept: str) -> bool:
    """Whether ``Accept`` lists protobuf and nothing else acceptable.

    client-go's typed clients send ``application/vnd.kubernetes.protobuf,
    application/json``; the sandbox answers those in JSON (which they read), and only a
    client that cannot take JSON gets protobuf. Ranges with ``q=0`` are refused ones.
    """
    kinds = []
    for media_range in accept.split(","):
        media_type, *params = (part.strip() for part in media_range.split(";"))
        if not media_type or any(p.replace(" ", "") in ("q=0", "q=0.0") for p in params):
            continue
        kinds.append(media_type.lower())
    return bool(kinds) and all(kind == PROTOBUF for kind in kinds)
