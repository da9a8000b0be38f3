"""Label and field selectors as the API server parses and matches them (pure).

Label selectors follow apimachinery ``pkg/labels/selector.go``: the same lexer, the same
parser (``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``,
``k>5``, ``k<5``; comma is AND; blanks are skipped) and the same error wording, which the
server returns as a 400 BadRequest. Requirements are kept sorted by key, as Kubernetes
sorts them, so :meth:`LabelSelector.__str__` prints what ``kubectl`` and a Scale's
``status.selector`` show.

Field selectors follow ``pkg/fields/selector.go``: only ``=``, ``==`` and ``!=``, terms
split on unescaped commas, values unescaped (``\\,``, ``\\=``, ``\\\\``), no blank
trimming. A label the kind does not support is refused with the wording of the kind's
field-label conversion function (``field label not supported: <f>`` for most kinds).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FieldRequirement",
    "FieldSelector",
    "LabelRequirement",
    "LabelSelector",
    "SelectorError",
    "default_field_selectors",
    "format_label_selector",
    "label_selector_from_dict",
    "parse_field_selector",
    "parse_label_selector",
]


class SelectorError(ValueError):
    """Raised when a selector is refused; the message is the API server's (a 400)."""


# --- label key and value validation (apimachinery util/validation) --------------------

_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_VALUE_FMT = f"({_NAME_FMT})?"
_DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN_FMT = _DNS_LABEL + "(\\." + _DNS_LABEL + ")*"
_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character"
)


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _label_key_errors(key: str) -> list[str]:
    parts = key.split("/")
    if len(parts) > 2:
        return [
            "a qualified name "
            + _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    errors: list[str] = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                errors.append("prefix part must be no more than 253 characters")
            if not re.fullmatch(_DNS_SUBDOMAIN_FMT, prefix):
                msg = (
                    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                    "characters, '-' or '.', and must start and end with an alphanumeric character"
                )
                errors.append("prefix part " + _regex_error(msg, _DNS_SUBDOMAIN_FMT, "example.com"))
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if not re.fullmatch(_NAME_FMT, name):
        errors.append(
            "name part " + _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errors


def _label_value_errors(value: str) -> list[str]:
    errors = ["must be no more than 63 characters"] if len(value) > 63 else []
    if not re.fullmatch(_VALUE_FMT, value):
        msg = "a valid label must be an empty string or consist" + _NAME_MSG[len("must consist") :]
        errors.append(_regex_error(msg, _VALUE_FMT, "MyValue", "my_value", "12345"))
    return errors


def _invalid(path: str, value: Any, detail: str) -> str:
    """``field.Invalid(path, value, detail).Error()``."""
    if isinstance(value, str):
        shown = json.dumps(value)
    else:  # a []string, printed as Go's %#v
        shown = "[]string{" + ", ".join(json.dumps(v) for v in value) + "}"
    return f"{path}: Invalid value: {shown}: {detail}"


# --- label selectors ---------------------------------------------------------------------

_SYMBOLS = "=!(),><"
_TOKENS = {")": "CLOSE", ",": "COMMA", "!": "NOT", "==": "DEQ", "=": "EQ", ">": "GT"}
_TOKENS |= {"in": "IN", "<": "LT", "!=": "NEQ", "notin": "NOTIN", "(": "OPEN"}
_OPERATORS = {"IN": "in", "EQ": "=", "DEQ": "==", "GT": "gt", "LT": "lt", "NOTIN": "notin"}
_OPERATORS["NEQ"] = "!="
_BINARY = "in, notin, =, ==, !=, gt, lt"
_SYMBOL_OF = {"=": "=", "==": "==", "!=": "!=", "in": " in ", "notin": " notin ", "gt": ">"}
_SYMBOL_OF["lt"] = "<"


@dataclass(frozen=True)
class LabelRequirement:
    """One requirement: ``operator`` is ``=``, ``==``, ``!=``, ``in``, ``notin``, ``exists``,
    ``!`` (does not exist), ``gt`` or ``lt``; ``values`` keeps the order given."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this requirement (Kubernetes' rules, including a
        missing key satisfying ``!=`` and ``notin``)."""
        present = self.key in labels
        if self.operator in ("exists", "!"):
            return present == (self.operator == "exists")
        if self.operator in ("in", "=", "=="):
            return present and labels[self.key] in self.values
        if self.operator in ("notin", "!="):
            return not present or labels[self.key] not in self.values
        if not present or not re.fullmatch(r"[+-]?\d+", labels[self.key]):
            return False
        have, want = int(labels[self.key]), int(self.values[0])
        return have > want if self.operator == "gt" else have < want

    def __str__(self) -> str:
        if self.operator in ("exists", "!"):
            return ("!" if self.operator == "!" else "") + self.key
        shown = ",".join(sorted(self.values)) if len(self.values) > 1 else "".join(self.values)
        if self.operator in ("in", "notin"):
            shown = f"({shown})"
        return f"{self.key}{_SYMBOL_OF[self.operator]}{shown}"


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector: every requirement must match (empty matches everything).

    ``nothing=True`` is ``labels.Nothing()`` (a nil ``LabelSelector``): it matches no object.
    """

    requirements: tuple[LabelRequirement, ...] = ()
    nothing: bool = False

    @property
    def empty(self) -> bool:
        """Whether the selector does not restrict anything."""
        return not self.requirements and not self.nothing

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether an object with ``labels`` is selected."""
        return not self.nothing and all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _requirement(key: str, operator: str, values: Iterable[str], key_path: str) -> LabelRequirement:
    """``labels.NewRequirement``: validate, then build (errors are aggregated)."""
    vals = tuple(values)
    errors = [_invalid(key_path, key, "; ".join(e)) for e in [_label_key_errors(key)] if e]
    if operator in ("in", "notin") and not vals:
        errors.append(
            _invalid("values", vals, "for 'in', 'notin' operators, values set can't be empty")
        )
    elif operator in ("=", "==", "!=") and len(vals) != 1:
        errors.append(
            _invalid("values", vals, "exact-match compatibility requires one single value")
        )
    elif operator in ("exists", "!") and vals:
        errors.append(
            _invalid("values", vals, "values set must be empty for exists and does not exist")
        )
    elif operator in ("gt", "lt"):
        if len(vals) != 1:
            detail = "for 'Gt', 'Lt' operators, exactly one value is required"
            errors.append(_invalid("values", vals, detail))
        for i, val in enumerate(vals):
            if not re.fullmatch(r"[+-]?\d+", val) or not -(2**63) <= int(val) < 2**63:
                detail = "for 'Gt', 'Lt' operators, the value must be an integer"
                errors.append(_invalid(f"values[{i}]", val, detail))
    for i, val in enumerate(vals):
        if problems := _label_value_errors(val):
            errors.append(_invalid(f"values[{i}][{key}]", val, "; ".join(problems)))
    if errors:
        raise SelectorError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
    return LabelRequirement(key, operator, vals)


def _lex(text: str) -> list[tuple[str, str]]:
    """The apimachinery lexer: ``(token, literal)`` pairs ending with ``("END", "")``."""
    items: list[tuple[str, str]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos >= len(text):
            items.append(("END", ""))
            return items
        start = pos
        if text[pos] in _SYMBOLS:
            best = ""
            while pos < len(text) and text[pos] in _SYMBOLS:
                if text[start : pos + 1] in _TOKENS:
                    best = text[start : pos + 1]
                elif best:
                    break
                pos += 1
            pos = start + len(best)  # every single symbol is a token, so best is never ""
            items.append((_TOKENS[best], best))
            continue
        while pos < len(text) and text[pos] not in _SYMBOLS and text[pos] not in " \t\r\n":
            pos += 1
        word = text[start:pos]
        items.append((_TOKENS.get(word, "ID") if word in ("in", "notin") else "ID", word))


class _LabelParser:
    """``labels.Parser``: a recursive-descent parser over the scanned items."""

    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.pos = 0

    def peek(self, values: bool = True) -> tuple[str, str]:
        tok, lit = self.items[self.pos]
        return ("ID" if values and tok in ("IN", "NOTIN") else tok), lit

    def take(self, values: bool = True) -> tuple[str, str]:
        item = self.peek(values)
        self.pos += 1
        return item

    def parse(self) -> list[LabelRequirement]:
        found: list[LabelRequirement] = []
        while True:
            tok, lit = self.peek()
            if tok == "END":
                return found
            if tok not in ("ID", "NOT"):
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                found.append(self.requirement())
            except SelectorError as error:
                raise SelectorError(f"unable to parse requirement: {error}") from None
            tok, lit = self.take()
            if tok == "END":
                return found
            if tok != "COMMA":
                raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self.peek()
            if tok not in ("ID", "NOT"):
                raise SelectorError(f"found '{lit}', expected: identifier after ','")

    def requirement(self) -> LabelRequirement:
        tok, key = self.take()
        negated = tok == "NOT"
        if negated:
            tok, key = self.take()
        if tok != "ID":
            raise SelectorError(f"found '{key}', expected: identifier")
        if problems := _label_key_errors(key):
            raise SelectorError(_invalid("<nil>", key, "; ".join(problems)))
        if negated or self.peek()[0] in ("END", "COMMA"):
            return _requirement(key, "!" if negated else "exists", (), "key")
        tok, lit = self.take(values=False)
        if tok not in _OPERATORS:
            raise SelectorError(f"found '{lit}', expected: {_BINARY}")
        operator = _OPERATORS[tok]
        values = self.set_values() if operator in ("in", "notin") else self.exact_value()
        return _requirement(key, operator, sorted(values), "key")

    def set_values(self) -> set[str]:
        tok, lit = self.take()
        if tok != "OPEN":
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.peek()
        if tok == "CLOSE":
            self.take()
            return {""}
        if tok not in ("ID", "COMMA"):
            raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")
        values: set[str] = set()
        while True:
            tok, word = self.take()
            if tok == "ID":
                values.add(word)
                after, lit2 = self.peek()
                if after == "CLOSE":
                    break
                if after != "COMMA":
                    raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            elif tok == "COMMA":
                after = self.peek()[0]
                if not values or after in ("CLOSE", "COMMA"):
                    values.add("")
                if after == "CLOSE":
                    break
            else:
                raise SelectorError(f"found '{word}', expected: ',', or identifier")
        if self.take()[0] != "CLOSE":
            raise SelectorError(f"found '{lit}', expected: ')'")
        return values

    def exact_value(self) -> set[str]:
        if self.peek()[0] in ("END", "COMMA"):
            return {""}
        tok, lit = self.take()
        if tok != "ID":
            raise SelectorError(f"found '{lit}', expected: identifier")
        return {lit}


def parse_label_selector(text: str) -> LabelSelector:
    """Parse a ``labelSelector`` query parameter (``""`` selects everything).

    :raises SelectorError: with the API server's message when the selector is malformed.
    """
    found = _LabelParser(text).parse()
    return LabelSelector(tuple(sorted(found, key=lambda r: r.key)))


_MATCH_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def label_selector_from_dict(selector: Mapping[str, Any] | None) -> LabelSelector:
    """``metav1.LabelSelectorAsSelector``: ``{matchLabels, matchExpressions}`` to a selector.

    ``None`` selects nothing and ``{}`` everything, as in Kubernetes.

    :raises SelectorError: for an unknown operator or invalid keys and values.
    """
    if selector is None:
        return LabelSelector(nothing=True)
    found = [
        _requirement(key, "=", [value], "key")
        for key, value in (selector.get("matchLabels") or {}).items()
    ]
    for expression in selector.get("matchExpressions") or []:
        operator = expression.get("operator")
        if operator not in _MATCH_OPERATORS:
            raise SelectorError(f"{json.dumps(operator)} is not a valid label selector operator")
        values = list(expression.get("values") or [])
        found.append(
            _requirement(expression.get("key", ""), _MATCH_OPERATORS[operator], values, "key")
        )
    return LabelSelector(tuple(sorted(found, key=lambda r: r.key)))


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """The string form of a ``LabelSelector`` dict, e.g. ``app=x,component in (jm,tm)``.

    Requirements sorted by key, set values sorted: what a Scale's ``status.selector`` holds.
    """
    return str(label_selector_from_dict(selector))


# --- field selectors -----------------------------------------------------------------------

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
