"""Two distributions, one repository: the provider and the sandbox stand apart.

``airflow-provider-flink-k8s`` (the repository's root) is what a production Airflow worker
installs; ``flink-k8s-sandbox`` (``sandbox/``) is the offline cluster the demo and the
tests run on. Neither imports the other, the example DAGs import nothing of the sandbox,
and both build into wheels that work from a fresh virtual environment -- the demo
included.

The fresh environment gets its third-party packages from this one (linked, not
downloaded: nothing downloads at test time) and the two wheels, built here with this
environment's setuptools, installed into it without their dependencies. Neither the
repository nor its editable installs are on its path.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import tomllib
from demo_output import check_demo_output

REPO = Path(__file__).resolve().parents[2]
PROVIDER, SANDBOX = "airflow_provider_flink_k8s", "flink_k8s_sandbox"
# What a fresh environment does not take from this one: the two projects (their editable
# installs) and the packaging tools a venv brings itself.
_NOT_LINKED = (
    "airflow_provider_flink_k8s",
    "flink_k8s_sandbox",
    "__editable__",
    "_distutils_hack",
    "distutils-precedence.pth",
    "pip",
    "setuptools",
    "pkg_resources",
    "wheel",
)


def _mentions(path: Path, package: str) -> list[str]:
    """Where a Python file imports ``package`` or names it in a string (a dynamic import)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names = [first.value]
        found += [
            f"{path.relative_to(REPO)}:{node.lineno}"
            for name in names
            if name == package or name.startswith(f"{package}.")
        ]
    return found


@pytest.mark.parametrize(
    ("folder", "other"),
    [
        (REPO / PROVIDER, SANDBOX),
        (REPO / "sandbox" / SANDBOX, PROVIDER),
        (REPO / "sandbox" / "tests", PROVIDER),
        (REPO / "example_dags", SANDBOX),
    ],
    ids=["provider", "sandbox", "sandbox-tests", "example_dags"],
)
def test_neither_distribution_imports_the_other(folder: Path, other: str) -> None:
    files = sorted(folder.rglob("*.py"))
    assert len(files) > 2
    assert [where for path in files for where in _mentions(path, other)] == []


def test_installing_the_provider_installs_no_sandbox_and_no_flink() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    required = " ".join(project["dependencies"]).lower()
    assert "sandbox" not in required and "apache-flink" not in required
    assert "scripts" not in project  # the console script is the sandbox's
    sandbox = tomllib.loads((REPO / "sandbox" / "pyproject.toml").read_text())["project"]
    assert sandbox["scripts"] == {"flink-k8s-sandbox": "flink_k8s_sandbox.cli:main"}
    assert sandbox["entry-points"]["pytest11"] == {
        "flink_k8s_sandbox": "flink_k8s_sandbox.pytest_plugin"
    }
    assert not any("airflow" in dependency for dependency in sandbox["dependencies"])


def _copy_project(source: Path, target: Path, package: str) -> Path:
    """The files a source distribution of ``source`` holds: no caches, builds or tests."""
    target.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "NOTICE"):
        shutil.copy2(source / name, target / name)
    shutil.copytree(
        source / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
    )
    return target


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both wheels, built offline from copies of the two projects."""
    root = tmp_path_factory.mktemp("distributions")
    sources = [
        _copy_project(REPO, root / "provider", PROVIDER),
        _copy_project(REPO / "sandbox", root / "sandbox", SANDBOX),
    ]
    out = root / "wheels"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    done = subprocess.run(
        [*command, "--no-index", "-w", str(out), *map(str, sources)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    built = {path.name.split("-")[0]: path for path in out.glob("*.whl")}
    assert set(built) == {PROVIDER, SANDBOX}
    return built


def test_the_provider_wheel_holds_no_sandbox_module(wheels: dict[str, Path]) -> None:
    names = zipfile.ZipFile(wheels[PROVIDER]).namelist()
    assert any(name.startswith(f"{PROVIDER}/operators/") for name in names)
    assert [name for name in names if "sandbox" in name] == []
    assert [name for name in names if name.endswith(".py") and not name.startswith(PROVIDER)] == []


def test_the_sandbox_wheel_holds_its_data_and_its_plugin(wheels: dict[str, Path]) -> None:
    wheel = zipfile.ZipFile(wheels[SANDBOX])
    names = set(wheel.namelist())
    for data in (
        "flinkoperator/operator_crds/flinkdeployments.flink.apache.org-v1.yml",
        "flinkoperator/operator_crds/flinksessionjobs.flink.apache.org-v1.yml",
        "flinkoperator/operator_crds/NOTICE",
        "flink/java/flinkk8s/SqlRunner.java",
        "flink/log4j-console.properties",
        "pytest_plugin.py",
        "py.typed",
    ):
        assert f"{SANDBOX}/{data}" in names, data
    assert not any(name.startswith(PROVIDER) for name in names)
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    text = wheel.read(entry_points).decode()
    assert "[pytest11]" in text and "flink-k8s-sandbox = flink_k8s_sandbox.cli:main" in text


def _fresh_venv(root: Path, wheels: list[Path]) -> Path:
    """A new venv holding ``wheels`` and this venv's third-party packages; its python."""
    venv = root / "venv"
    subprocess.run(
        [sys._base_executable, "-m", "venv", "--without-pip", str(venv)],  # type: ignore[attr-defined]
        check=True,
        timeout=120,
    )
    python = venv / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        if not entry.name.startswith(_NOT_LINKED):
            (purelib / entry.name).symlink_to(entry)
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    subprocess.run(
        [*pip, "--no-deps", "--no-index", *map(str, wheels)],
        check=True,
        timeout=300,
    )
    # The `airflow` command the demo runs (its package is linked, its script is not).
    script = venv / "bin" / "airflow"
    script.write_text(
        f"#!{python}\nimport sys\nfrom airflow.__main__ import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    return python


@pytest.fixture(scope="module")
def fresh_python(wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _fresh_venv(tmp_path_factory.mktemp("fresh"), list(wheels.values()))


def _clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}


def test_the_installed_wheels_import_from_the_fresh_venv(
    fresh_python: Path, tmp_path: Path
) -> None:
    code = (
        "import airflow_provider_flink_k8s.operators as o, flink_k8s_sandbox.server as s\n"
        "print(o.__file__); print(s.__file__)"
    )
    done = subprocess.run(
        [str(fresh_python), "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_clean_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    venv = fresh_python.parent.parent
    for path in map(Path, done.stdout.split()):
        # Installed files, not the repository's (an editable install would point there).
        assert path.is_relative_to(venv) and not path.resolve().is_relative_to(REPO), path


@pytest.mark.slow
def test_the_demo_runs_from_the_installed_wheels(
    flink_ready: None, fresh_python: Path, tmp_path: Path
) -> None:
    dags = tmp_path / "example_dags"
    shutil.copytree(REPO / "example_dags", dags, ignore=shutil.ignore_patterns("__pycache__"))
    demo = [str(fresh_python.with_name("flink-k8s-sandbox")), "demo"]
    done = subprocess.run(
        [*demo, str(dags / "flink_batch_to_stream.py"), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_clean_env(),
        timeout=900,
        check=False,
    )
    log = tmp_path / "out" / "airflow.log"
    tail = log.read_text()[-8000:] if log.exists() else ""
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{tail}"
    check_demo_output(done.stdout)
