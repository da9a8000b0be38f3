"""How fast the pure core turns a spec into a plan and manifests.

Operators validate, plan and render on every run (and sensors re-plan to compare), so this
must stay far below a task's overhead. Prints figures and writes
``benchmarks/results/plan_and_render.json``.

    .venv/bin/python benchmarks/plan_and_render.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.resources import plan_cluster, taskmanager_memory
from airflow_provider_flink_k8s.spec import load_cluster

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent / "example_dags" / "specs" / "clickstream.yaml"


def rate(action: Callable[[], Any], seconds: float) -> dict[str, float]:
    """Run ``action`` repeatedly for about ``seconds``; return calls/s and mean latency."""
    calls, start = 0, time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        action()
        calls += 1
    elapsed = time.perf_counter() - start
    return {"per_second": round(calls / elapsed, 1), "mean_ms": round(1000 * elapsed / calls, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = parser.parse_args()
    spec_text = SPEC.read_text(encoding="utf-8")
    cluster = load_cluster(SPEC)
    results = {
        "load_and_validate_yaml": rate(lambda: load_cluster(spec_text), args.seconds),
        "taskmanager_memory": rate(
            lambda: taskmanager_memory({"taskmanager.memory.process.size": "4096m"}), args.seconds
        ),
        "plan_cluster": rate(lambda: plan_cluster(cluster), args.seconds),
        "render_manifests": rate(lambda: render_manifests(cluster), args.seconds),
    }
    report = {"python": platform.python_version(), "machine": platform.machine(), **results}
    for name, figures in results.items():
        print(f"{name:<24} {figures['per_second']:>10,.1f}/s  {figures['mean_ms']:>8.3f} ms")
    out = HERE / "results" / "plan_and_render.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
