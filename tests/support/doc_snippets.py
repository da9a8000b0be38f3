"""The code blocks of README.md and docs/*.md, for the tests that run them as written.

A ``python`` block holding ``with DAG(`` is a DAG file; a ``yaml`` block is a file the
prose just before it names in backticks (``specs/orders.yaml``), written beside the DAG
files of the same document, as are the repository files :data:`BESIDE` names. Any other
``python`` block is a script, run as is. A block right after an HTML comment
``<!-- switched ... -->`` is another provider's code, which the page shows turning into
the next block (``tests/docs/test_migration.py``); it is not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))
_FENCE = re.compile(r"^```([\w{}-]*)\n(.*?)^```", re.S | re.M)
_FILE_NAME = re.compile(r"`([\w./-]+\.ya?ml)`")
_PATH = re.compile(r"`([\w./-]+\.\w+)`")
BESIDE = {"migration": {"flink-deployment.yaml": "example_dags/specs/clickstream_operator.yaml"}}
"""Repository files a document's DAGs find beside them: ``{doc stem: {name: path}}``."""


@dataclass(frozen=True)
class Snippet:
    """One fenced code block of a document."""

    doc: Path
    line: int
    language: str
    text: str
    names: str | None
    """For a ``yaml`` block: the file name the prose before it gives."""
    switched: bool = False
    """Another provider's code, shown turning into the next block (not run)."""
    path: str | None = None
    """The last file path the prose before the block names in backticks, any kind."""

    @property
    def is_dag(self) -> bool:
        return self.language == "python" and "with DAG(" in self.text and not self.switched

    @property
    def id(self) -> str:
        return f"{self.doc.relative_to(REPO)}:{self.line}"


def snippets(doc: Path) -> list[Snippet]:
    """Every fenced block of ``doc``, in order."""
    text = doc.read_text(encoding="utf-8")
    found, previous_end = [], 0
    for match in _FENCE.finditer(text):
        prose = text[previous_end : match.start()]
        names = _FILE_NAME.findall(prose)
        paths = _PATH.findall(prose)
        found.append(
            Snippet(
                doc=doc,
                line=text.count("\n", 0, match.start()) + 1,
                language=match.group(1),
                text=match.group(2),
                names=names[-1] if names and match.group(1) == "yaml" else None,
                switched=prose.rstrip().endswith("-->")
                and prose.rstrip().rsplit("<!--", 1)[-1].strip().startswith("switched"),
                path=paths[-1] if paths else None,
            )
        )
        previous_end = match.end()
    return found


def all_snippets(language: str | None = None) -> list[Snippet]:
    """The blocks of every document (of one language)."""
    return [s for doc in DOCS for s in snippets(doc) if language in (None, s.language)]


def write_dag_snippets(folder: Path) -> dict[str, Path]:
    """Write each document's DAG blocks (and the files its yaml blocks name) under
    ``folder/<doc>/``: ``{snippet id: DAG file}``."""
    written = {}
    for doc in DOCS:
        blocks = snippets(doc)
        dags = [s for s in blocks if s.is_dag]
        if not dags:
            continue
        home = folder / doc.stem.lower()
        home.mkdir(parents=True, exist_ok=True)
        for name, source in BESIDE.get(doc.stem.lower(), {}).items():
            (home / name).write_text((REPO / source).read_text(encoding="utf-8"))
        for snippet in blocks:
            if snippet.names:
                target = home / snippet.names
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(snippet.text, encoding="utf-8")
        for snippet in dags:
            path = home / f"dag_line_{snippet.line}.py"
            path.write_text(snippet.text, encoding="utf-8")
            written[snippet.id] = path
    return written


def run_script(snippet: Snippet) -> str:
    """Run a script block as written in a fresh interpreter (from the repository root);
    its standard output. Fails the test with the block's place and error."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", snippet.text],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert run.returncode == 0, f"{snippet.id}:\n{run.stderr[-3000:]}"
    return run.stdout
