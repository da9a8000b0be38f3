"""The SQL runner: its build cache, its statement splitting, and the demo job in
application mode (a ``standalone-job`` JobManager running ``clickstream.sql``)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest
from flink_processes import FlinkRest, load_pods, start_cluster
from polling import wait_until

from flink_k8s_sandbox.flink import (
    CLICKSTREAM_SQL,
    SQL_RUNNER_CLASS,
    build_sql_runner_jar,
    find_distribution,
    find_java,
    stage_usrlib,
)
from flink_k8s_sandbox.flink.sqlrunner import default_cache_dir


def _manifest(jar: Path) -> str:
    with zipfile.ZipFile(jar) as archive:
        return archive.read("META-INF/MANIFEST.MF").decode()


def _run_runner(jar: Path, *args: str) -> subprocess.CompletedProcess[str]:
    classpath = os.pathsep.join([str(jar), str(find_distribution().lib / "*")])
    return subprocess.run(
        [str(find_java().java), "-cp", classpath, SQL_RUNNER_CLASS, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_jar_names_its_main_class_and_is_reused(flink_sql_runner_jar: Path) -> None:
    assert "Main-Class: flinkk8s.SqlRunner" in _manifest(flink_sql_runner_jar)
    assert flink_sql_runner_jar.parent.parent.name == "sqlrunner"
    assert build_sql_runner_jar() == flink_sql_runner_jar


def test_concurrent_builds_make_one_jar_even_without_the_jar_tool(
    flink_ready: None, tmp_path: Path
) -> None:
    java = dataclasses.replace(find_java(), jar=None)  # pack with zipfile
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(build_sql_runner_jar(tmp_path, java=java)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 1 and len(results) == 4
    assert [path.name for path in (tmp_path / "sqlrunner").iterdir() if path.is_dir()] == [
        results[0].parent.name
    ]
    assert "Main-Class: flinkk8s.SqlRunner" in _manifest(results[0])
    assert _run_runner(results[0], "--dry-run", "--sql", "SELECT 1").stdout == "SELECT 1\n----\n"


def test_statements_split_at_semicolons_outside_quotes_and_comments(
    flink_sql_runner_jar: Path,
) -> None:
    sql = (
        "SET 'pipeline.name' = 'it''s; fine';\n"
        "SELECT ';' AS a, \"b;\" FROM t -- a comment; not a statement\n;"
        "/* block; comment */ EXECUTE STATEMENT SET BEGIN INSERT INTO x SELECT 1; "
        "INSERT INTO y SELECT 2; END;;"
    )

    result = _run_runner(flink_sql_runner_jar, "--dry-run", "--sql", sql, "-D", "a.b=1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("----\n") == [
        "SET 'pipeline.name' = 'it''s; fine'\n",
        "SELECT ';' AS a, \"b;\" FROM t\n",
        "EXECUTE STATEMENT SET BEGIN INSERT INTO x SELECT 1;\nINSERT INTO y SELECT 2;\nEND\n",
        "",
    ]


def test_the_demo_script_has_three_statements(flink_sql_runner_jar: Path) -> None:
    result = _run_runner(flink_sql_runner_jar, "--dry-run", "--script", str(CLICKSTREAM_SQL))

    statements = result.stdout.split("----\n")[:-1]
    assert [s.split()[0:3] for s in statements] == [
        ["CREATE", "TEMPORARY", "TABLE"],
        ["CREATE", "TEMPORARY", "TABLE"],
        ["INSERT", "INTO", "clicks_per_user"],
    ]


def test_an_unknown_argument_is_refused(flink_sql_runner_jar: Path) -> None:
    result = _run_runner(flink_sql_runner_jar, "--scrpit", "x.sql")

    assert result.returncode != 0
    assert "unknown argument --scrpit" in result.stderr


@pytest.mark.slow
def test_the_demo_job_runs_in_application_mode(flink_sql_runner_jar: Path, tmp_path: Path) -> None:
    usrlib = stage_usrlib(tmp_path / "usrlib", jar=flink_sql_runner_jar)
    checkpoints = tmp_path / "checkpoints"
    pods = load_pods("application_cluster")
    assert pods.jobmanager.args[0] == "standalone-job"

    started = time.monotonic()
    jobmanager, taskmanagers = start_cluster(
        pods, tmp_path, taskmanagers=1, usrlib=usrlib, mounts={"/tmp/flink": tmp_path}
    )
    try:
        rest = FlinkRest(jobmanager)
        jobmanager.wait_ready(timeout=120)
        jobs = wait_until(lambda: rest.get("/jobs/overview")["jobs"], 90, "the application's job")
        job_id = jobs[0]["jid"]
        rest.wait_job_running(job_id, timeout=120)
        print(f"\napplication job RUNNING {time.monotonic() - started:.1f}s after start")

        # The cluster's checkpointing (1 s, to /tmp/flink/checkpoints) applies to the job.
        wait_until(
            lambda: rest.get(f"/jobs/{job_id}/checkpoints")["counts"]["completed"] >= 1,
            60,
            "a completed checkpoint",
        )
        assert list(checkpoints.glob(f"{job_id}/chk-*"))
    finally:
        for process in [*taskmanagers, jobmanager]:
            process.stop()


def test_a_checkout_caches_the_jar_in_the_repository_and_an_install_in_the_users_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    repo = Path(__file__).resolve().parents[3]
    assert default_cache_dir() == repo / ".cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    # An installed copy (site-packages may hold some other project's pyproject.toml).
    site = tmp_path / "site-packages"
    (site / "flink_k8s_sandbox").mkdir(parents=True)
    (site / "pyproject.toml").write_text('[project]\nname = "other"\n')
    monkeypatch.setattr("flink_k8s_sandbox.flink.sqlrunner._PROJECT", site)
    assert default_cache_dir() == tmp_path / "flink-k8s-sandbox"
