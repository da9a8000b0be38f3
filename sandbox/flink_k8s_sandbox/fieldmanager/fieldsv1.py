"""Field paths and their FieldsV1 encoding, as ``metadata.managedFields`` spells them.

A path is a tuple of elements ``("f", name)`` (a field), ``("k", '{"name":"app"}')`` (a
list-map item, by its key fields), ``("v", '"x"')`` (a set item) or ``("i", "0")`` (an
item by index) -- the FieldsV1 spelling without the colon.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["Obj", "Path", "canon", "decode_fields", "encode_fields", "path_text", "sort_key"]

Obj = dict[str, Any]
Path = tuple[tuple[str, str], ...]
_RANK = {"f": 0, "k": 1, "v": 2, "i": 3}


def canon(value: Any) -> str:
    """The canonical JSON of ``value`` (compact, keys sorted), as key elements hold it."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def path_text(path: Path) -> str:
    """``fieldpath.Path.String()``: ``.spec.containers[name="app"].image``."""
    out = []
    for kind, text in path:
        if kind == "f":
            out.append("." + text)
        elif kind == "k":
            out.append("[" + ",".join(f"{k}={canon(v)}" for k, v in json.loads(text).items()) + "]")
        else:
            out.append(f"[={text}]" if kind == "v" else f"[{text}]")
    return "".join(out)


def sort_key(path: Path) -> tuple[tuple[int, int, str], ...]:
    """structured-merge-diff's iteration order: members before children, each sorted."""
    last = len(path) - 1
    return tuple((int(i != last), _RANK[k], t) for i, (k, t) in enumerate(path))


def decode_fields(tree: Mapping[str, Any], prefix: Path, out: set[Path]) -> None:
    """Add the paths of a ``fieldsV1`` tree below ``prefix`` to ``out``."""
    for key, sub in tree.items():
        if key == ".":
            out.add(prefix)
            continue
        kind, _, text = key.partition(":")
        element = (kind, text if kind in ("f", "i") else canon(json.loads(text)))
        if isinstance(sub, Mapping) and sub:
            decode_fields(sub, (*prefix, element), out)
        else:
            out.add((*prefix, element))


def encode_fields(paths: set[Path]) -> Obj:
    """The ``fieldsV1`` tree of ``paths``, members sorted as the apiserver writes them."""
    trie: dict[Any, Any] = {}
    for path in paths:
        node = trie
        for element in path:
            node = node.setdefault(element, {})
        node[None] = True  # a member; with children too it is written as ".": {}

    def emit(node: dict[Any, Any]) -> Obj:
        children = sorted((e for e in node if e is not None), key=lambda e: (_RANK[e[0]], e[1]))
        out: Obj = {".": {}} if None in node and children else {}
        return out | {f"{kind}:{text}": emit(node[(kind, text)]) for kind, text in children}

    return emit(trie)
