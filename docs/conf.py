"""Sphinx configuration of the documentation site (``make docs``): the Markdown pages of
this folder (MyST), README.md as a page, and the API reference of both distributions,
generated from their docstrings (``api/index.rst``)."""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import tempfile
from typing import Any, TypeVar

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.nodes import make_refnode

# autodoc imports the modules, and importing Airflow writes its configuration into
# AIRFLOW_HOME: a throw-away one, so that a build leaves nothing in the user's home.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="flink-k8s-docs-airflow-"))

from airflow_provider_flink_k8s import __version__

project = "airflow-provider-flink-k8s"
copyright = "the airflow-provider-flink-k8s authors"
release = version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build"]

html_theme = "furo"
html_title = f"{project} {release}"

# Markdown: anchors for the `#heading` links the pages use, up to ### headings.
myst_heading_anchors = 3

# The API reference: one page per public module, each member documented where it is
# defined (a package's __all__ re-exports it, so documenting __all__ would describe it twice).
autosummary_generate = True
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "show-inheritance": True,
    "ignore-module-all": True,
}
autodoc_member_order = "bysource"

# Every cross-reference must resolve (`sphinx-build -n`), as far as it names our own
# objects: _ResolveByImport below decides which those are.
nitpicky = True

_PACKAGES = ("airflow_provider_flink_k8s", "flink_k8s_sandbox")


@functools.cache
def _module(name: str) -> Any:
    """The module ``name``, imported; ``None`` if there is none."""
    try:
        return importlib.import_module(name)
    except (ImportError, TypeError, ValueError):  # not a module, or not a name
        return None


@functools.cache
def _import(name: str) -> tuple[str, Any] | None:
    """The object a dotted name reaches by importing and attribute access, with its
    canonical name (where it is defined); ``None`` when the name reaches nothing. A
    last part that is not a class attribute (a dataclass or pydantic field) is taken as
    named on its class."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        obj = _module(".".join(parts[:split]))
        if obj is None:
            continue
        canonical = obj.__name__
        rest = parts[split:]
        for i, attr in enumerate(rest):
            if not hasattr(obj, attr):
                if i == len(rest) - 1 and inspect.isclass(obj):
                    return f"{canonical}.{attr}", None
                return None
            obj = getattr(obj, attr)
            module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
            if (inspect.isclass(obj) or inspect.isroutine(obj)) and module and qualname:
                canonical = f"{module}.{qualname}"
            else:
                canonical = f"{canonical}.{attr}"
        return canonical, obj
    return None


def _resolve(env: Any, builder: Any, node: Any, contnode: Any) -> Any:
    """A Python cross-reference resolved by importing what it names, as seen from where
    it is written (the class, the module, a parent package: a name imported or
    re-exported there, a sibling module), then linked where the object is documented.

    Only our own objects are checked: one of the standard library or a third-party
    package, a private name or a type variable (which the reference leaves out) is shown
    unlinked, since nothing resolves them without the network (no intersphinx).
    ``None`` when the name reaches nothing, or one of ours that is not documented."""
    target, module, cls = node["reftarget"].lstrip("."), node.get("py:module"), node.get("py:class")
    parents = module.split(".") if module else []
    scopes = [f"{module}.{cls}"] if module and cls else []
    scopes += [".".join(parents[:i]) for i in range(len(parents), 0, -1)]
    domain = env.get_domain("py")
    for scope in [*scopes, "", "builtins"]:
        found = _import(f"{scope}.{target}" if scope else target)
        if found is None:
            continue
        canonical, obj = found
        names = canonical.split(".")
        if names[0] not in _PACKAGES or isinstance(obj, TypeVar):
            return contnode
        if any(name.startswith("_") and not name.startswith("__") for name in names):
            return contnode
        entry = domain.objects.get(canonical)
        if entry is not None:
            return make_refnode(
                builder,
                node.get("refdoc") or env.docname,
                entry.docname,
                entry.node_id,
                contnode,
                canonical,
            )
    return None


_BY_SUFFIX: dict[str, list[str]] = {}
"""Documented objects by each dotted tail of their names (``Class.method``, ``method``)."""


class _ResolveByImport(SphinxPostTransform):
    """Every Python cross-reference is resolved by :func:`_resolve` first, as Python
    resolves the name, before the domain's search by suffix, which takes ``type`` or a
    module or class name that two packages share for any documented object of that name.
    A type annotation :func:`_resolve` cannot import (a name imported only for type
    checking) links to the one documented object of that name, as does any other
    reference; an annotation that names none, or several, stays unlinked. What is left,
    Sphinx resolves, or warns about."""

    default_priority = 5  # before Sphinx's ReferencesResolver (10)

    def run(self, **kwargs: Any) -> None:
        if not _BY_SUFFIX:  # once: every object is known by now
            for name in self.env.get_domain("py").objects:
                parts = name.split(".")
                for i in range(1, len(parts)):
                    _BY_SUFFIX.setdefault(".".join(parts[i:]), []).append(name)
        for node in list(self.document.findall(addnodes.pending_xref)):
            if node.get("refdomain") != "py":
                continue
            contnode = node[0].deepcopy() if node.children else nodes.Text(node["reftarget"])
            resolved = _resolve(self.env, self.app.builder, node, contnode)
            if resolved is None:
                named = _BY_SUFFIX.get(node["reftarget"].lstrip("."), [])
                if len(named) == 1:
                    node["reftarget"] = named[0]
                    continue
                if node.get("refspecific") is False:  # an annotation
                    resolved = contnode
            if resolved is not None:
                node.replace_self(resolved)


def setup(app: Any) -> None:
    app.add_post_transform(_ResolveByImport)
