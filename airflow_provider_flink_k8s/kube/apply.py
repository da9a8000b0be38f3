"""Server-side apply of rendered manifests: which objects, where they live, what changed.

:func:`apply_flow` checks every manifest first (all problems in one :class:`SpecError`),
resolves each kind (:func:`resolve`, discovery for kinds not known up front), then per
object reads the live one and applies the manifest with one field manager. Applying the
same manifests twice changes nothing: the API server keeps the resourceVersion of a no-op
apply, and :func:`classify_apply` reports such objects as ``unchanged``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from airflow_provider_flink_k8s.exceptions import (
    ResourceConflict,
    ResourceNotFound,
    SpecError,
    SpecProblem,
)
from airflow_provider_flink_k8s.kube.requests import (
    ApiRequest,
    Flow,
    apply_request,
    create_request,
    fetch,
    fetch_or_none,
    get_request,
)
from airflow_provider_flink_k8s.kube.resources import (
    ResourceRef,
    ResourceTable,
    discovery_path,
    refs_from_resource_list,
)

__all__ = [
    "AppliedObject",
    "ApplyOutcome",
    "ApplyResult",
    "ApplyTarget",
    "ClaimResult",
    "apply_flow",
    "check_manifests",
    "claim_flow",
    "classify_apply",
    "live_flow",
    "plan_apply",
    "resolve",
]

# Metadata the server maintains: a difference there is not a change we made.
_SERVER_METADATA = frozenset(
    {"resourceVersion", "managedFields", "generation", "creationTimestamp", "uid", "selfLink"}
)


class ApplyOutcome(str, Enum):
    """What applying did to one object (kubectl's words)."""

    CREATED = "created"
    CONFIGURED = "configured"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ApplyTarget:
    """One manifest, resolved: its kind's place, namespace and name."""

    ref: ResourceRef
    namespace: str | None
    name: str
    manifest: Mapping[str, Any]


@dataclass(frozen=True)
class AppliedObject:
    """One object after the apply."""

    api_version: str
    kind: str
    namespace: str | None
    name: str
    outcome: ApplyOutcome
    resource_version: str | None
    generation: int | None = None

    def __str__(self) -> str:
        group = f".{self.api_version.rpartition('/')[0]}" if "/" in self.api_version else ""
        return f"{self.kind.lower()}{group}/{self.name} {self.outcome.value}"


@dataclass(frozen=True)
class ApplyResult:
    """Every applied object, in apply order."""

    objects: tuple[AppliedObject, ...]
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        """Whether any object was created or configured."""
        return any(o.outcome is not ApplyOutcome.UNCHANGED for o in self.objects)

    def count(self, outcome: ApplyOutcome) -> int:
        """How many objects had ``outcome``."""
        return sum(1 for o in self.objects if o.outcome is outcome)

    def summary(self) -> str:
        """``2 created, 1 configured, 3 unchanged`` (``(dry run)`` appended when it was)."""
        parts = [f"{self.count(outcome)} {outcome.value}" for outcome in ApplyOutcome]
        return ", ".join(parts) + (" (dry run)" if self.dry_run else "")


def check_manifests(manifests: Sequence[Any]) -> list[SpecProblem]:
    """Every manifest's missing ``apiVersion``, ``kind`` or ``metadata.name``."""
    problems = []
    for index, manifest in enumerate(manifests):
        where = f"manifests[{index}]"
        if not isinstance(manifest, Mapping):
            problems.append(SpecProblem(where, "must be a mapping (a Kubernetes object)"))
            continue
        for key in ("apiVersion", "kind"):
            if not isinstance(manifest.get(key), str) or not manifest[key]:
                problems.append(SpecProblem(f"{where}.{key}", "is required"))
        metadata = manifest.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        if not isinstance(name, str) or not name:
            problems.append(SpecProblem(f"{where}.metadata.name", "is required"))
    return problems


def plan_apply(
    manifests: Sequence[Mapping[str, Any]], table: ResourceTable, namespace: str | None
) -> list[ApplyTarget]:
    """Where each manifest goes: its kind from ``table``, its own namespace or ``namespace``.

    :raises SpecError: listing every namespaced manifest without a namespace, and every
        kind ``table`` does not know.
    """
    targets, problems = [], []
    for index, manifest in enumerate(manifests):
        ref = table.lookup(manifest["apiVersion"], manifest["kind"])
        if ref is None:
            problems.append(SpecProblem(f"manifests[{index}].kind", "unknown kind"))
            continue
        own = (manifest["metadata"].get("namespace") or namespace) if ref.namespaced else None
        if ref.namespaced and not own:
            rule = "is required for a namespaced kind (or pass namespace=)"
            problems.append(SpecProblem(f"manifests[{index}].metadata.namespace", rule))
            continue
        targets.append(ApplyTarget(ref, own, manifest["metadata"]["name"], manifest))
    if problems:
        raise SpecError(problems, subject="manifests")
    return targets


def _comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_METADATA}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": metadata}


def classify_apply(
    before: Mapping[str, Any] | None, after: Mapping[str, Any], *, dry_run: bool = False
) -> ApplyOutcome:
    """What an apply did, from the object before and the apply's answer.

    ==========================================================  ==========
    ``before``                                                   outcome
    ==========================================================  ==========
    absent                                                       CREATED
    same resourceVersion as ``after`` (not a dry run)            UNCHANGED
    same content as ``after`` (status and server metadata        UNCHANGED
    aside: someone else wrote the status in between, or a
    dry run, whose answer keeps the old resourceVersion)
    otherwise                                                    CONFIGURED
    ==========================================================  ==========
    """
    if before is None:
        return ApplyOutcome.CREATED
    version = (before.get("metadata") or {}).get("resourceVersion")
    if not dry_run and version and version == (after.get("metadata") or {}).get("resourceVersion"):
        return ApplyOutcome.UNCHANGED
    if _comparable(before) == _comparable(after):
        return ApplyOutcome.UNCHANGED
    return ApplyOutcome.CONFIGURED


def resolve(table: ResourceTable, api_version: str, kind: str) -> Flow[ResourceRef]:
    """The kind's place: from ``table``, else from discovery (then remembered).

    :raises ResourceNotFound: when the server does not serve the kind (no CRD, say).
    """
    ref = table.lookup(api_version, kind)
    if ref is None:
        body = yield from fetch_or_none(ApiRequest("GET", discovery_path(api_version)))
        table.add(refs_from_resource_list(api_version, body or {}))
        ref = table.lookup(api_version, kind)
    if ref is None:
        message = f'no matches for kind "{kind}" in version "{api_version}"'
        raise ResourceNotFound(404, "NoKindMatch", message)
    return ref


def _applied(target: ApplyTarget, outcome: ApplyOutcome, after: Mapping[str, Any]) -> AppliedObject:
    metadata = after.get("metadata") or {}
    generation = metadata.get("generation")
    return AppliedObject(
        target.ref.api_version,
        target.ref.kind,
        target.namespace,
        target.name,
        outcome,
        metadata.get("resourceVersion"),
        generation if isinstance(generation, int) else None,
    )


def live_flow(
    manifests: Sequence[Mapping[str, Any]],
    *,
    table: ResourceTable,
    namespace: str | None = None,
) -> Flow[list[dict[str, Any] | None]]:
    """The live object of each manifest, in order (``None`` where it does not exist): what
    :func:`apply_flow` would apply over.

    :raises SpecError: listing every malformed manifest.
    :raises ResourceNotFound: for a kind the server does not serve.
    """
    problems = check_manifests(manifests)
    if problems:
        raise SpecError(problems, subject="manifests")
    for manifest in manifests:
        yield from resolve(table, manifest["apiVersion"], manifest["kind"])
    live: list[dict[str, Any] | None] = []
    for target in plan_apply(manifests, table, namespace):
        live.append(
            (yield from fetch_or_none(get_request(target.ref, target.namespace, target.name)))
        )
    return live


def apply_flow(
    manifests: Sequence[Mapping[str, Any]],
    *,
    table: ResourceTable,
    dry_run: bool = False,
    namespace: str | None = None,
) -> Flow[ApplyResult]:
    """Apply ``manifests`` in order (server-side apply, see :func:`.apply_request`).

    :raises SpecError: before anything is sent, listing every malformed manifest.
    :raises ResourceNotFound: for a kind the server does not serve, before anything is written.
    """
    problems = check_manifests(manifests)
    if problems:
        raise SpecError(problems, subject="manifests")
    for manifest in manifests:
        yield from resolve(table, manifest["apiVersion"], manifest["kind"])
    applied = []
    for target in plan_apply(manifests, table, namespace):
        current = get_request(target.ref, target.namespace, target.name)
        before = yield from fetch_or_none(current)
        request = apply_request(target.ref, target.namespace, target.manifest, dry_run=dry_run)
        after = yield from fetch(request)
        applied.append(_applied(target, classify_apply(before, after, dry_run=dry_run), after))
    return ApplyResult(tuple(applied), dry_run)


@dataclass(frozen=True)
class ClaimResult:
    """A create-only write: whether it created the object, and the object (the created
    one, or the existing one as read back; ``None`` when that was gone by then)."""

    created: bool
    live: dict[str, Any] | None


def claim_flow(
    manifest: Mapping[str, Any], *, table: ResourceTable, namespace: str | None = None
) -> Flow[ClaimResult]:
    """Create ``manifest`` (``POST``, create-only); on ``409 AlreadyExists`` read the
    existing object back. Of two racing claims exactly one creates.

    :raises SpecError: for a malformed manifest.
    :raises ResourceNotFound: for a kind the server does not serve.
    :raises ResourceConflict: for a 409 that is not ``AlreadyExists``.
    """
    problems = check_manifests([manifest])
    if problems:
        raise SpecError(problems, subject="manifests")
    yield from resolve(table, manifest["apiVersion"], manifest["kind"])
    (target,) = plan_apply([manifest], table, namespace)
    try:
        created = yield from fetch(create_request(target.ref, target.namespace, manifest))
    except ResourceConflict as error:
        if error.reason != "AlreadyExists":
            raise
        live = yield from fetch_or_none(get_request(target.ref, target.namespace, target.name))
        return ClaimResult(False, live)
    return ClaimResult(True, created)
