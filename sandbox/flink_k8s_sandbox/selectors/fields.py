"""Field selectors: parsing, matching, and the field labels each kind accepts.

A field label reads a path of the object (``status.phase``); a few read another path,
fall back to one, or have a value when unset (``status.successful`` of a Job reads
``status.succeeded``, ``0`` when unset), as the kinds' selectable fields do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from flink_k8s_sandbox.selectors.errors import SelectorError

__all__ = [
    "FieldRequirement",
    "FieldSelector",
    "default_field_selectors",
    "parse_field_selector",
]

_EVENT_FIELDS = frozenset(
    {f"involvedObject.{f}" for f in ("kind", "namespace", "name", "uid", "apiVersion")}
    | {"involvedObject.resourceVersion", "involvedObject.fieldPath"}
    | {"reason", "reportingComponent", "source", "type"}
)
_KIND_FIELDS: dict[str, frozenset[str]] = {
    "Pod": frozenset(
        {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName"}
        | {"spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs"}
        | {"status.nominatedNodeName"}
    ),
    "Event": _EVENT_FIELDS,
    "Secret": frozenset({"type"}),
    "Namespace": frozenset({"status.phase"}),
    "Node": frozenset({"spec.unschedulable"}),
    "ReplicationController": frozenset({"status.replicas"}),
    "Service": frozenset({"spec.clusterIP", "spec.type"}),
    "Job": frozenset({"status.successful"}),
    "CertificateSigningRequest": frozenset({"spec.signerName"}),
}
_CLUSTER_SCOPED_WITH_RULES = frozenset({"Namespace", "Node", "CertificateSigningRequest"})
# label -> (path read, fallback path when empty, value when unset)
_READS: dict[str, tuple[str, str, str]] = {
    "source": ("source.component", "reportingComponent", ""),
    "status.successful": ("status.succeeded", "", "0"),
    "status.replicas": ("status.replicas", "", "0"),
    "spec.unschedulable": ("spec.unschedulable", "", "false"),
    "spec.hostNetwork": ("spec.hostNetwork", "", "false"),
    "status.podIPs": ("", "", ""),  # accepted, never set by the pod's selectable fields
}


def default_field_selectors(kind: str) -> frozenset[str]:
    """The field labels Kubernetes accepts for ``kind`` (``metadata.name`` and, for
    namespaced kinds, ``metadata.namespace``, plus the kind's own)."""
    meta = {"metadata.name"}
    if kind not in _CLUSTER_SCOPED_WITH_RULES:
        meta.add("metadata.namespace")
    return frozenset(meta) | _KIND_FIELDS.get(kind, frozenset())


def _read(obj: Mapping[str, Any], path: str) -> Any:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _field_value(obj: Mapping[str, Any], label: str) -> str:
    path, fallback, unset = _READS.get(label, (label, "", ""))
    value = _read(obj, path) if path else None
    if value in (None, "") and fallback:
        value = _read(obj, fallback)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    return unset


@dataclass(frozen=True)
class FieldRequirement:
    """One term: ``operator`` is ``=``, ``==`` or ``!=``; ``value`` is unescaped."""

    field: str
    operator: str
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj`` satisfies the term (a missing field reads as ``""``)."""
        return (_field_value(obj, self.field) == self.value) == (self.operator != "!=")


@dataclass(frozen=True)
class FieldSelector:
    """A parsed field selector: every term must match (empty matches everything)."""

    requirements: tuple[FieldRequirement, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether the selector does not restrict anything."""
        return not self.requirements

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj`` is selected."""
        return all(r.matches(obj) for r in self.requirements)

    def requires_exact_match(self, field: str) -> str | None:
        """The value an ``=``/``==`` term demands of ``field`` (``metadata.name=x``), if any."""
        for r in self.requirements:
            if r.field == field and r.operator != "!=":
                return r.value
        return None


def _split_terms(text: str) -> list[str]:
    terms, start, escaped = [], 0, False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:i])
            start = i + 1
    return [*terms, text[start:]]


def _unescape(value: str) -> str:
    out, escaped = [], False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise SelectorError(f"invalid field selector: unescaped character in value: {char}")
        else:
            out.append(char)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _unsupported(label: str, builtin_kind: str | None) -> SelectorError:
    """The refusal of the kind's field-label conversion function (or the generic one)."""
    if builtin_kind == "Job":
        return SelectorError(f"field label {json.dumps(label)} not supported for Job")
    if builtin_kind is None or builtin_kind in _KIND_FIELDS:
        return SelectorError(f"field label not supported: {label}")
    return SelectorError(
        f'{json.dumps(label)} is not a known field selector: only "metadata.name", '
        '"metadata.namespace"'
    )


def parse_field_selector(
    text: str, supported: Collection[str], *, builtin_kind: str | None = None
) -> FieldSelector:
    """Parse a ``fieldSelector`` query parameter against the labels ``supported``.

    :param text: the selector, e.g. ``metadata.name=x,status.phase!=Running``.
    :param supported: accepted field labels, usually :func:`default_field_selectors`.
    :param builtin_kind: the built-in kind listed, which picks the refusal wording: kinds
        with their own field labels (Pod, Event, ...) and custom resources (leave ``None``)
        say ``field label not supported: <f>``; other built-in kinds (Deployment,
        ConfigMap, ...) fall back to ``"<f>" is not a known field selector: only
        "metadata.name", "metadata.namespace"``; Job says ``field label "<f>" not
        supported for Job``.
    :raises SelectorError: for a malformed term or an unsupported field label.
    """
    found: list[FieldRequirement] = []
    for term in sorted(_split_terms(text)) if text else []:
        if not term:
            continue
        match = re.match(r"(.*?)(!=|==|=)(.*)", term, re.DOTALL)
        if match is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        field, operator, value = match.groups()
        found.append(FieldRequirement(field, operator, _unescape(value)))
    for requirement in found:
        if requirement.field not in supported:
            raise _unsupported(requirement.field, builtin_kind)
    return FieldSelector(tuple(found))
