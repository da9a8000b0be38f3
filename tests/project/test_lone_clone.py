"""A lone clone stands alone: no code, test, script or doc command reads a path outside
the repository (the project's notes and reference data live beside the checkout on the
developers' machines only, never beside a user's clone or an installed wheel)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_SUFFIXES = {".py", ".sh", ".toml", ".cfg", ".ini", ".md", ".yaml", ".yml", ".java"}
_SIBLING = "sha" + "red"  # spelt in two parts so this file does not match itself
_OUTSIDE = [
    re.compile(rf"\.\./{_SIBLING}\b"),
    re.compile(rf"\.parent\s*/\s*[\"']{_SIBLING}[\"']"),
    re.compile(rf"[\"']{_SIBLING}[\"']\s*/\s*[\"']reference[\"']"),
]


def _project_files() -> list[Path]:
    skip = {".git", ".venv", ".cache", "node_modules", "build", "dist", "out"}
    files = [
        path
        for path in REPO.rglob("*")
        if path.is_file()
        and not skip.intersection(path.relative_to(REPO).parts)
        and (path.suffix in _SUFFIXES or path.name in {"Makefile", "run"})
    ]
    assert len(files) > 100, "the scan found too few files: is REPO right?"
    return files


def test_no_file_reads_a_path_beside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in _project_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if any(pattern.search(line) for pattern in _OUTSIDE)
    ]
    assert offenders == []
