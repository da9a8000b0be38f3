"""Label selectors: requirements, matching, and apimachinery's lexer and parser.

:func:`parse_label_selector` reads the ``labelSelector`` query parameter,
:func:`label_selector_from_dict` a ``metav1.LabelSelector`` (``matchLabels`` and
``matchExpressions``); both sort requirements by key, as Kubernetes does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flink_k8s_sandbox.selectors.errors import SelectorError
from flink_k8s_sandbox.selectors.validation import (
    invalid_value,
    label_key_errors,
    label_value_errors,
)

__all__ = [
    "LabelRequirement",
    "LabelSelector",
    "format_label_selector",
    "label_selector_from_dict",
    "parse_label_selector",
]

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
    errors = [invalid_value(key_path, key, "; ".join(e)) for e in [label_key_errors(key)] if e]
    if operator in ("in", "notin") and not vals:
        errors.append(
            invalid_value("values", vals, "for 'in', 'notin' operators, values set can't be empty")
        )
    elif operator in ("=", "==", "!=") and len(vals) != 1:
        errors.append(
            invalid_value("values", vals, "exact-match compatibility requires one single value")
        )
    elif operator in ("exists", "!") and vals:
        errors.append(
            invalid_value("values", vals, "values set must be empty for exists and does not exist")
        )
    elif operator in ("gt", "lt"):
        if len(vals) != 1:
            detail = "for 'Gt', 'Lt' operators, exactly one value is required"
            errors.append(invalid_value("values", vals, detail))
        for i, val in enumerate(vals):
            if not re.fullmatch(r"[+-]?\d+", val) or not -(2**63) <= int(val) < 2**63:
                detail = "for 'Gt', 'Lt' operators, the value must be an integer"
                errors.append(invalid_value(f"values[{i}]", val, detail))
    for i, val in enumerate(vals):
        if problems := label_value_errors(val):
            errors.append(invalid_value(f"values[{i}][{key}]", val, "; ".join(problems)))
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
        if problems := label_key_errors(key):
            raise SelectorError(invalid_value("<nil>", key, "; ".join(problems)))
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
