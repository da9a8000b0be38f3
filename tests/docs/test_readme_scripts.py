"""README.md's scripts (python blocks without a DAG) run as written, in a fresh
interpreter, and print what the README says they print."""

from __future__ import annotations

from doc_snippets import REPO, run_script, snippets


def test_the_quick_start_runs_as_written_and_prints_the_plan_table() -> None:
    scripts = [s for s in snippets(REPO / "README.md") if s.language == "python" and not s.is_dag]
    assert scripts, "README.md has no quick start"
    printed = [run_script(script) for script in scripts]
    lines = printed[0].splitlines()
    # "2 TaskManagers, requests = Flink process sizes", as the comment says.
    (tm,) = [line for line in lines if line.startswith("TaskManager")]
    assert tm.split()[1:4] == ["2", "1/1", "1728Mi/1728Mi"], printed[0]
    assert "slots: 2 per TaskManager, 4 in all; parallelism 4" in lines
