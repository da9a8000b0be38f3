"""README.md's layout table and docs/index.md list what the repository holds: every
top-level subpackage of both packages and every top-level folder (what .gitignore ignores
aside). A new one fails here until the two pages say what it is."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROVIDER = REPO / "airflow_provider_flink_k8s"
SANDBOX = REPO / "sandbox" / "flink_k8s_sandbox"
_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_FENCED = re.compile(r"^```.*?^```", re.S | re.M)


def _subpackages(package: Path) -> list[str]:
    return sorted(p.parent.name for p in package.glob("*/__init__.py"))


def _ignored(name: str) -> bool:
    """Whether .gitignore ignores a folder of this name (its patterns are names)."""
    patterns = [
        line.strip().rstrip("/")
        for line in (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return name == ".git" or any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def _folders(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.is_dir() and not _ignored(p.name))


def _table_names(text: str) -> set[str]:
    """The names in the first cells of a page's Markdown tables. A cell may name several:
    those after the first are relative to its parent (`` `a/b/`, `c/` `` names ``a/c/``;
    `` `a.b`, `.c` `` names ``a.c``)."""
    names = set()
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        cell = _CODE.findall(line.split("|")[1])
        if not cell:
            continue
        first = cell[0]
        names.add(first)
        for name in cell[1:]:
            if name.startswith("."):
                names.add(first.rsplit(".", 1)[0] + name)
            elif name.rstrip("/").count("/") == 0 and "/" in first.rstrip("/"):
                names.add(first.rstrip("/").rsplit("/", 1)[0] + "/" + name)
            else:
                names.add(name)
    return names


def _readme_layout() -> set[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return _table_names(section)


def _index_names() -> set[str]:
    index = _FENCED.sub("", (REPO / "docs" / "index.md").read_text(encoding="utf-8"))
    return _table_names(index) | set(_CODE.findall(index))


def test_the_layout_is_found() -> None:
    assert {"kube", "flinkrest", "targets", "hooks"} <= set(_subpackages(PROVIDER))
    assert {"runtime", "flink", "workloads"} <= set(_subpackages(SANDBOX))
    assert {".ci", "sandbox", "tests", "docs", "benchmarks", "example_dags"} <= set(_folders(REPO))
    assert "out" not in _folders(REPO) and ".venv" not in _folders(REPO)
    assert "airflow_provider_flink_k8s/hooks/" in _readme_layout()
    assert "airflow_provider_flink_k8s/triggers/" in _readme_layout()  # `sensors/`, `triggers/`


def test_the_readme_layout_lists_every_subpackage_and_folder() -> None:
    listed = _readme_layout()
    missing = [
        *(f"airflow_provider_flink_k8s/{name}/" for name in _subpackages(PROVIDER)),
        *(f"sandbox/flink_k8s_sandbox/{name}/" for name in _subpackages(SANDBOX)),
        *(f"{name}/" for name in _folders(REPO)),
        "sandbox/tests/",
    ]
    # tests/ holds a folder per package it tests; any other folder is listed.
    tests_of = {*_subpackages(PROVIDER), "example_dags"}
    missing += [f"tests/{name}/" for name in _folders(REPO / "tests")]
    missing = [
        name
        for name in missing
        if name not in listed and name.removeprefix("tests/").rstrip("/") not in tests_of
    ]
    assert not missing, f"README.md's layout table does not list {missing}"


def test_the_docs_index_lists_every_subpackage_and_folder() -> None:
    listed = _index_names()

    def has(module: str) -> bool:
        return any(name == module or name.startswith(module + ".") for name in listed)

    missing = [
        *(f"airflow_provider_flink_k8s.{name}" for name in _subpackages(PROVIDER)),
        *(f"flink_k8s_sandbox.{name}" for name in _subpackages(SANDBOX)),
    ]
    missing = [module for module in missing if not has(module)]
    missing += [f"{name}/" for name in _folders(REPO) if f"{name}/" not in listed]
    assert not missing, f"docs/index.md does not list {missing}"
