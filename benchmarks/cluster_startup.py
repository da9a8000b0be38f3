"""Start-up time of a session cluster in the sandbox's ``local`` runtime (not a test).

For 1, 2 and 4 TaskManagers (JobManager 1024m, TaskManagers 1024m with 1 slot each) it
measures, on this machine and in this run:

* sandbox ``registered_s`` (the headline) -- from :meth:`FlinkKubernetesHook.apply` of the
  rendered manifests until Flink's ``/overview``, read through the API server's *pod*
  proxy of the JobManager pod (found by the cluster's labels), shows N TaskManagers;
* sandbox ``service_ready_s`` (secondary) -- from the same apply until ``/overview`` read
  through the *Service* proxy shows every slot. The Service only routes to a Ready pod,
  so this also waits for the JobManager's readiness probe (the manifests' period, 1 s at
  ``probe_scale=0.1``): Kubernetes semantics a real cluster has too, not sandbox overhead;
* bare -- the same JobManager and TaskManagers (same rendered configuration) started
  directly with :func:`start_flink_process`, until ``/overview`` shows N TaskManagers.

Every side detects "registered" the same way: polling ``/overview`` every 100 ms.

The sandbox runs in-process with the tests' timing (probes 10x faster, 1 s back-off);
each cluster is deleted (and its processes gone) before the next measurement. Before the
timed runs, an untimed warm-up pair (sandbox, then bare) pays the one-off costs that are
neither side's start-up: the Airflow connection behind the hook (its first use imports
and configures Airflow's ORM, ~1 s), the sandbox's lazily compiled schemas, the JVM's
and the page cache's first read of Flink's jars. The timed runs then interleave in
ABBA order (sandbox, bare; bare, sandbox; ...) so that drift of a shared machine falls
on both sides alike; each row reports medians, and the median of the per-repeat paired
ratios (sandbox / bare of the same repeat). Target: the sandbox adds < 10% to
``registered_s``. Prints a table and writes ``benchmarks/results/cluster_startup.json``.

    .venv/bin/python benchmarks/cluster_startup.py [--repeats 5] [--taskmanagers 1 2 4]
        [--warmup 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from kubernetes import client, config

from airflow_provider_flink_k8s.exceptions import FlinkK8sError
from airflow_provider_flink_k8s.flinkrest import FlinkRestService, RetryPolicy
from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.manifests import label_selector, render_manifests, selector_labels
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.clock import Timing
from flink_k8s_sandbox.flink import find_distribution, live_processes
from flink_k8s_sandbox.runtime.local import LocalRuntime

_REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(_REPO / "tests" / "support"), str(_REPO / "sandbox" / "tests" / "support")]
from flink_processes import start_cluster  # noqa: E402
from flink_support import render_pods  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "cluster_startup.json"
NAMESPACE = "bench"
TIMING = Timing(probe_scale=0.1, backoff_base=1.0, backoff_max=5.0)
POLL = 0.1
TIMEOUT = 180.0
REST_PORT = 8081


def _spec(name: str, taskmanagers: int) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": NAMESPACE,
        "mode": "session",
        "target": "standalone",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 1, "replicas": taskmanagers},
        # A TaskManager that starts before its JobManager listens retries after
        # cluster.registration.error-delay (10 s by default): that race, not the sandbox,
        # would decide the figures, so both sides retry after 500 ms.
        "flink_configuration": {
            "heartbeat.interval": "1000",
            "heartbeat.timeout": "5000",
            "cluster.registration.error-delay": "500",
        },
    }


def _poll(check: Any, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(POLL)
    raise SystemExit(f"timed out after {TIMEOUT}s waiting for {what}")


def _wait_gone() -> None:
    _poll(lambda: not live_processes(), "every Flink process to exit")


class _PodProxy:
    """``/overview`` of a cluster's JobManager through the API server's pod proxy.

    Unlike the Service proxy it does not wait for the pod to be Ready: it answers as soon
    as the JobManager's REST endpoint does.
    """

    def __init__(self, api: client.ApiClient, name: str) -> None:
        self.core = client.CoreV1Api(api)
        cluster = load_cluster(_spec(name, 1))
        self.selector = label_selector(selector_labels(cluster, "jobmanager"))
        self.pod: str | None = None

    def _find_pod(self) -> str | None:
        pods = self.core.list_namespaced_pod(NAMESPACE, label_selector=self.selector)
        running = [
            pod.metadata.name
            for pod in pods.items
            if pod.status is not None
            and pod.status.pod_ip
            and pod.metadata.deletion_timestamp is None
        ]
        return running[0] if running else None

    def taskmanagers(self) -> int:
        """Registered TaskManagers, or -1 while the pod or its REST API is not there."""
        try:
            if self.pod is None:
                self.pod = self._find_pod()
                if self.pod is None:
                    return -1
            reply = self.core.connect_get_namespaced_pod_proxy_with_path(
                f"{self.pod}:{REST_PORT}",
                NAMESPACE,
                "overview",
                _preload_content=False,
                _request_timeout=5,
            )
            return int(json.loads(reply.data)["taskmanagers"])
        except client.ApiException as error:
            if error.status == 404:  # the pod went away: look it up again
                self.pod = None
            return -1
        except (OSError, ValueError, KeyError):
            return -1


def _sandbox_run(
    hook: FlinkKubernetesHook, api: client.ApiClient, kube: Path, name: str, taskmanagers: int
) -> tuple[float, float]:
    """``(registered_s, service_ready_s)`` of one sandbox start-up."""
    connection = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kube)}}
    os.environ["AIRFLOW_CONN_BENCH_K8S"] = json.dumps(connection)
    service = FlinkRestService.for_cluster(
        name, NAMESPACE, kubernetes_conn_id="bench_k8s", route="service_proxy"
    )
    rest = FlinkRestHook(service=service, retry=RetryPolicy.never())
    rest.get_endpoint()
    pod_proxy = _PodProxy(api, name)
    manifests = render_manifests(load_cluster(_spec(name, taskmanagers)))

    def service_ready() -> bool:
        try:
            return rest.overview().slots_total >= taskmanagers
        except FlinkK8sError:
            return False

    try:
        started = time.monotonic()
        hook.apply(manifests)
        _poll(
            lambda: pod_proxy.taskmanagers() >= taskmanagers,
            f"{taskmanagers} TaskManagers via the pod proxy",
        )
        registered = time.monotonic() - started
        # The Service proxy needs a Ready JobManager too, so it never answers earlier.
        _poll(service_ready, f"{taskmanagers} slots via the Service proxy")
        return registered, time.monotonic() - started
    finally:
        rest.close()
        hook.delete_cluster(name, NAMESPACE, timeout=120)
        _wait_gone()


def _bare_run(base: Path, taskmanagers: int) -> float:
    pods = render_pods(_spec("bare", taskmanagers))
    base.mkdir(parents=True)

    def registered() -> bool:
        try:
            with urllib.request.urlopen(jobmanager.rest_url + "/overview", timeout=5) as reply:
                return int(json.loads(reply.read())["taskmanagers"]) >= taskmanagers
        except (OSError, urllib.error.URLError, ValueError, KeyError):
            return False

    started = time.monotonic()
    jobmanager, started_taskmanagers = start_cluster(pods, base, taskmanagers)
    try:
        _poll(registered, f"{taskmanagers} TaskManagers (bare)")
        return time.monotonic() - started
    finally:
        for process in [*started_taskmanagers, jobmanager]:
            process.stop()
        _wait_gone()


def _row(
    repeats: int,
    count: int,
    hook: FlinkKubernetesHook,
    api: client.ApiClient,
    kube: Path,
    work: Path,
) -> dict[str, Any]:
    registered_times: list[float] = []
    ready_times: list[float] = []
    bare_times: list[float] = []
    for repeat in range(repeats):
        name = f"tm{count}-{repeat}"
        # ABBA: the side that goes first alternates.
        for side in ("sandbox", "bare") if repeat % 2 == 0 else ("bare", "sandbox"):
            if side == "sandbox":
                registered, ready = _sandbox_run(hook, api, kube, name, count)
                registered_times.append(registered)
                ready_times.append(ready)
            else:
                bare_times.append(_bare_run(work / "bare" / name, count))
        print(
            f"{count} TM run {repeat + 1}: sandbox {registered_times[-1]:.2f}s "
            f"(service ready {ready_times[-1]:.2f}s), bare {bare_times[-1]:.2f}s",
            flush=True,
        )
    registered_s = statistics.median(registered_times)
    bare_s = statistics.median(bare_times)
    paired = statistics.median(s / b for s, b in zip(registered_times, bare_times, strict=True))
    return {
        "taskmanagers": count,
        "registered_s": round(registered_s, 3),
        "bare_s": round(bare_s, 3),
        "overhead_pct": round(100 * (registered_s - bare_s) / bare_s, 1),
        "paired_overhead_pct": round(100 * (paired - 1), 1),
        "service_ready_s": round(statistics.median(ready_times), 3),
        "registered_runs_s": [round(t, 3) for t in registered_times],
        "service_ready_runs_s": [round(t, 3) for t in ready_times],
        "bare_runs_s": [round(t, 3) for t in bare_times],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per side and row")
    parser.add_argument("--taskmanagers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--warmup", type=int, default=1, help="untimed sandbox+bare pairs")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON to write")
    options = parser.parse_args()
    find_distribution()  # fail early without Flink's jars
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="cluster-startup-") as tmp:
        work = Path(tmp)
        runtime = LocalRuntime(TIMING, workdir=work / "pods")
        with SandboxServer(runtime=runtime, timing=TIMING) as sandbox:
            kube = work / "kubeconfig"
            sandbox.write_kubeconfig(kube)
            api = config.new_client_from_config(str(kube))
            client.CoreV1Api(api).create_namespace({"metadata": {"name": NAMESPACE}})
            hook = FlinkKubernetesHook(config_file=str(kube))
            try:
                for warmup in range(options.warmup):
                    name = f"warmup-{warmup}"
                    (registered, ready), bare = (
                        _sandbox_run(hook, api, kube, name, 1),
                        _bare_run(work / "bare" / name, 1),
                    )
                    print(
                        f"warm-up (untimed): sandbox {registered:.2f}s "
                        f"(service ready {ready:.2f}s), bare {bare:.2f}s"
                    )
                for count in options.taskmanagers:
                    rows.append(_row(options.repeats, count, hook, api, kube, work))
            finally:
                api.close()
    print(
        f"\n{'TMs':>4} {'sandbox s':>10} {'bare s':>8} {'overhead':>9} {'paired':>8} "
        f"{'svc-ready s':>12}"
    )
    for row in rows:
        print(
            f"{row['taskmanagers']:>4} {row['registered_s']:>10.2f} {row['bare_s']:>8.2f} "
            f"{row['overhead_pct']:>8.1f}% {row['paired_overhead_pct']:>7.1f}% "
            f"{row['service_ready_s']:>12.2f}"
        )
    met = {row["taskmanagers"]: row["overhead_pct"] < 10 for row in rows}
    verdict = ", ".join(f"{count} TM {'met' if ok else 'NOT met'}" for count, ok in met.items())
    print(f"target: sandbox overhead (registered_s) < 10% -- {verdict}")
    options.output.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "cluster_startup",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "python": platform.python_version(),
        "repeats": options.repeats,
        "warmup_pairs": options.warmup,
        "order": "ABBA (sandbox first on even repeats, bare first on odd ones)",
        "registered_poll_s": POLL,
        "columns": {
            "registered_s": "apply -> /overview via the JobManager pod's proxy shows N "
            "TaskManagers (headline; not gated by readiness)",
            "service_ready_s": "apply -> /overview via the Service proxy shows N slots "
            "(also waits for the JobManager to be Ready: readiness period 1 s here)",
            "bare_s": "processes started -> /overview shows N TaskManagers",
            "overhead_pct": "median registered_s vs median bare_s",
            "paired_overhead_pct": "median over repeats of registered_s / bare_s - 1",
        },
        "timing": "probe_scale=0.1, backoff_base=1.0",
        "target_overhead_pct": 10,
        "target_met": all(met.values()),
        "target_met_per_row": {str(count): ok for count, ok in met.items()},
        "rows": rows,
    }
    options.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {options.output}")


if __name__ == "__main__":
    main()
