"""Per-pod faults the kubelet plays out, chosen by annotation, by rule or by image name.

Faults (``FAULTS``), each applying to every container of the pod unless narrowed:

- ``ImagePullBackOff`` (alias ``ErrImagePull``): pulling the image fails
  (``ErrImagePull``, then ``ImagePullBackOff`` while backing off);
- ``CrashLoopBackOff``: the container exits with ``exit-code`` (default 1) after
  ``kill-after-seconds`` (default 0) each time it starts, so it restarts with a growing
  back-off and ``restartCount``;
- ``CreateContainerConfigError``: the container cannot be created (the message defaults
  to ``configmap "sandbox-fault" not found``);
- ``NeverReady``: the container runs but its readiness never passes;
- ``KillAfter``: the container is killed (exit code 137) ``kill-after-seconds`` (default
  5) after each start; ``OOMKilled`` is the same with reason ``OOMKilled``.

Annotations on the pod (or its template) -- they win over rules:

- ``sandbox.flink-k8s.io/fault``: the fault name;
- ``sandbox.flink-k8s.io/fault-containers``: comma-separated container names it hits;
- ``sandbox.flink-k8s.io/kill-after-seconds``: seconds a container runs before it dies;
- ``sandbox.flink-k8s.io/exit-code``: the exit code of a crash;
- ``sandbox.flink-k8s.io/fault-message``: the message of a config error or pull failure.

Rules (:meth:`PodFaults.add`, also ``SandboxServer.pod_faults``) match pods by namespace
and name (shell patterns) and a label selector. An image whose name contains
``does-not-exist`` always fails to pull (before anything else). Faults are looked up
each time a container is (re)started, so a rule added later hits existing pods at their
next restart.
"""

from __future__ import annotations

import fnmatch
import itertools
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flink_k8s_sandbox.selectors import SelectorError, parse_label_selector

__all__ = [
    "ANNOTATION_PREFIX",
    "FAULTS",
    "FaultRule",
    "PodFault",
    "PodFaults",
    "fault_from_annotations",
]

ANNOTATION_PREFIX = "sandbox.flink-k8s.io/"
FAULTS = (
    "ImagePullBackOff",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "NeverReady",
    "KillAfter",
    "OOMKilled",
)
_ALIASES = {"ErrImagePull": "ImagePullBackOff"}
_DEFAULT_AFTER = {"KillAfter": 5.0, "OOMKilled": 5.0}
_MISSING_IMAGE = "does-not-exist"


@dataclass(frozen=True)
class PodFault:
    """One fault: ``kind`` (one of ``FAULTS``) and its parameters.

    :param containers: the container names hit; empty means all.
    :param after_seconds: how long a container runs before it crashes or is killed.
    :param exit_code: the exit code of a crash (default 1) or kill (137).
    :param message: the message of a config error or pull failure.
    """

    kind: str
    containers: frozenset[str] = frozenset()
    after_seconds: float | None = None
    exit_code: int | None = None
    message: str = ""

    def __post_init__(self) -> None:
        kind = _ALIASES.get(self.kind, self.kind)
        if kind not in FAULTS:
            raise ValueError(f"unknown pod fault {self.kind!r}; known: {', '.join(FAULTS)}")
        object.__setattr__(self, "kind", kind)

    def hits(self, container: str) -> bool:
        return not self.containers or container in self.containers

    @property
    def run_seconds(self) -> float:
        """How long a crashing or killed container runs."""
        if self.after_seconds is not None:
            return self.after_seconds
        return _DEFAULT_AFTER.get(self.kind, 0.0)

    @property
    def code(self) -> int:
        if self.exit_code is not None:
            return self.exit_code
        return 1 if self.kind == "CrashLoopBackOff" else 137

    def to_dict(self) -> dict[str, Any]:
        return {
            "fault": self.kind,
            "containers": sorted(self.containers),
            "afterSeconds": self.run_seconds,
            "exitCode": self.code,
            "message": self.message,
        }


@dataclass(frozen=True)
class FaultRule:
    """A fault for the pods matching ``namespace``/``name`` patterns and ``selector``."""

    id: int
    fault: PodFault
    namespace: str | None = None
    name: str | None = None
    selector: str | None = None
    _parsed: Any = field(default=None, compare=False, repr=False)

    def matches(self, pod: Mapping[str, Any]) -> bool:
        metadata = pod.get("metadata", {})
        if self.namespace and not fnmatch.fnmatchcase(
            metadata.get("namespace", ""), self.namespace
        ):
            return False
        if self.name and not fnmatch.fnmatchcase(metadata.get("name", ""), self.name):
            return False
        return self._parsed is None or bool(self._parsed.matches(metadata.get("labels") or {}))

    def to_dict(self) -> dict[str, Any]:
        where = {"namespace": self.namespace, "name": self.name, "selector": self.selector}
        return {"id": self.id, **{k: v for k, v in where.items() if v}, **self.fault.to_dict()}


def _names(text: str | Iterable[str] | None) -> frozenset[str]:
    if text is None:
        return frozenset()
    parts = text.split(",") if isinstance(text, str) else text
    return frozenset(p.strip() for p in parts if p.strip())


def _number(value: Any, kind: type[float] | type[int]) -> Any:
    try:
        return kind(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def fault_from_annotations(annotations: Mapping[str, str]) -> PodFault | None:
    """The fault the ``sandbox.flink-k8s.io/*`` annotations ask for (``None``: none or
    an unknown name)."""
    kind = annotations.get(ANNOTATION_PREFIX + "fault")
    if not kind:
        return None
    try:
        return PodFault(
            kind,
            containers=_names(annotations.get(ANNOTATION_PREFIX + "fault-containers")),
            after_seconds=_number(annotations.get(ANNOTATION_PREFIX + "kill-after-seconds"), float),
            exit_code=_number(annotations.get(ANNOTATION_PREFIX + "exit-code"), int),
            message=annotations.get(ANNOTATION_PREFIX + "fault-message", ""),
        )
    except ValueError:
        return None


class PodFaults:
    """Fault rules, usable from any thread; the kubelet asks :meth:`fault_for`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(
        self,
        fault: str | PodFault,
        *,
        namespace: str | None = None,
        name: str | None = None,
        selector: str | None = None,
        containers: str | Iterable[str] | None = None,
        after_seconds: float | None = None,
        exit_code: int | None = None,
        message: str = "",
    ) -> FaultRule:
        """Give matching pods a fault from their next container start on.

        :param fault: a fault name (``FAULTS``) or a :class:`PodFault`.
        :param namespace: a shell pattern for the namespace (``None``: any).
        :param name: a shell pattern for the pod name (``None``: any).
        :param selector: a label selector (``app=web,tier in (a,b)``).
        :raises ValueError: for an unknown fault or a bad selector.
        """
        if isinstance(fault, str):
            fault = PodFault(fault, _names(containers), after_seconds, exit_code, message)
        try:
            parsed = parse_label_selector(selector) if selector else None
        except SelectorError as error:
            raise ValueError(f"bad label selector {selector!r}: {error}") from error
        with self._lock:
            rule = FaultRule(next(self._ids), fault, namespace, name, selector, parsed)
            self._rules.append(rule)
        return rule

    def inject(self, **fault: Any) -> dict[str, Any]:
        """:meth:`add` with keyword arguments (``fault=...``); the rule as JSON."""
        kind = fault.pop("fault")
        return self.add(kind, **fault).to_dict()

    def remove(self, rule_id: int) -> bool:
        """Drop one rule; whether it existed."""
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        with self._lock:
            return tuple(self._rules)

    def fault_for(self, pod: Mapping[str, Any], container: str, image: str) -> PodFault | None:
        """The fault a container of ``pod`` suffers: a missing image, then annotations,
        then rules (the first added first)."""
        if _MISSING_IMAGE in image:
            return PodFault("ImagePullBackOff")
        annotated = fault_from_annotations(pod.get("metadata", {}).get("annotations") or {})
        if annotated is not None and annotated.hits(container):
            return annotated
        for rule in self.rules:
            if rule.matches(pod) and rule.fault.hits(container):
                return rule.fault
        return None
