"""The documentation site (``make docs``): docs/*.md, README.md and the API reference of both
packages, built by Sphinx with every warning an error. The wiring is checked without a
build; the ``slow`` test builds the site as ``make docs`` does, into a temporary folder."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PACKAGES = ("airflow_provider_flink_k8s", "flink_k8s_sandbox")


def _make_target(name: str) -> tuple[list[str], str]:
    """The prerequisites and the recipe of a Makefile target."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{name}:(.*)\n((?:\t.*\n)+)", makefile, re.M)
    assert match, f"no `{name}` target in the Makefile"
    return match.group(1).split(), match.group(2)


def _toctree_entries(page: Path) -> list[str]:
    """The documents the ``{toctree}`` blocks of a MyST page list (``Title <doc>`` -> doc)."""
    text = page.read_text(encoding="utf-8")
    entries = []
    for block in re.findall(r"^```\{toctree\}\n(.*?)^```", text, re.S | re.M):
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith(":"):
                entries.append(re.sub(r"^.*<(.+)>$", r"\1", line))
    return entries


def test_make_docs_builds_the_site_with_every_warning_an_error() -> None:
    prerequisites, recipe = _make_target("docs")
    assert prerequisites == ["$(STAMP)"]
    command = shlex.split(recipe.strip())
    assert command[0].endswith("sphinx-build")
    assert {"-W", "-n", "-E", "--keep-going"} <= set(command)
    assert command[-2:] == ["docs", "$(DOCS_OUT)"]
    assert re.search(r"^DOCS_OUT \?= out/docs$", (REPO / "Makefile").read_text(), re.M)
    # What the build needs comes with the one install every target starts from.
    _, install = _make_target(r"\$\(STAMP\)")
    assert '-c constraints.txt -e ./sandbox -e ".[dev,docs]"' in install


def test_the_docs_extra_is_pinned() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    extra = pyproject["project"]["optional-dependencies"]["docs"]
    names = {re.split(r"[<>=!~\[ ]", requirement)[0].lower() for requirement in extra}
    assert names == {"sphinx", "myst-parser", "furo"}
    pinned = {
        line.split("==")[0].lower()
        for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
    }
    assert names <= pinned


def test_ci_builds_the_site_after_the_tests() -> None:
    lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    steps = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert steps.index("make test") < steps.index("make docs")


def test_every_page_is_in_the_sites_toctree() -> None:
    entries = _toctree_entries(DOCS / "index.md")
    pages = sorted(page.stem for page in DOCS.glob("*.md") if page.stem != "index")
    assert sorted(entry for entry in entries if "/" not in entry) == pages
    assert "api/index" in entries
    # README.md is a page of the site: docs/readme.md includes it whole.
    assert "```{include} ../README.md\n" in (DOCS / "readme.md").read_text(encoding="utf-8")


def test_the_api_reference_covers_both_packages() -> None:
    source = (DOCS / "api" / "index.rst").read_text(encoding="utf-8")
    directive = source.split(".. autosummary::", 1)[1]
    assert ":recursive:" in directive
    listed = [line.strip() for line in directive.splitlines() if line.startswith("   ")]
    assert [name for name in listed if not name.startswith(":")] == list(PACKAGES)


@pytest.mark.slow
def test_the_site_builds_without_a_warning(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build = subprocess.run(
        ["make", "docs", f"DOCS_OUT={out}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-5000:]
    assert "WARNING" not in build.stderr and "ERROR" not in build.stderr, build.stderr[-5000:]
    for page in ("index", "readme", "airflow", "migration", "spec", "resources", "sandbox"):
        assert (out / f"{page}.html").is_file(), page
    generated = out / "api" / "generated"
    for module in ("airflow_provider_flink_k8s.operators", "flink_k8s_sandbox.pytest_plugin"):
        assert (generated / f"{module}.html").is_file(), module
    operators = (generated / "airflow_provider_flink_k8s.operators.deploy.html").read_text()
    assert 'id="airflow_provider_flink_k8s.operators.deploy.FlinkDeployOperator"' in operators
