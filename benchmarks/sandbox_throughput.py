"""Throughput of the embedded Kubernetes sandbox (not a test).

Starts ``flink-k8s-sandbox up`` in its own process (so the load generator does not share
its interpreter) and measures, over plain HTTP with aiohttp:

* GETs/s -- reads of one ConfigMap from ``--concurrency`` concurrent clients;
* writes/s -- merge patches of ConfigMaps from the same clients;
* watch delivery latency -- with ``--watches`` open watch streams on one namespace,
  the time from sending a write to each stream receiving its event (p50/p99).

Targets: >= 1,000 GETs/s, >= 300 writes/s, p99 < 50 ms with 500 open watches.
Prints a summary and writes ``benchmarks/results/sandbox_throughput.json``.

    .venv/bin/python benchmarks/sandbox_throughput.py [--seconds 3] [--watches 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

RESULTS = Path(__file__).resolve().parent / "results" / "sandbox_throughput.json"
NAMESPACE = "bench"
MERGE = {"Content-Type": "application/merge-patch+json"}
SEQ = re.compile(rb'"seq":"(\d+)"')


def _start(workdir: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "FLINK_K8S_SANDBOX_STATE_DIR": str(workdir / "state")}
    command = [sys.executable, "-m", "flink_k8s_sandbox.cli", "up"]
    command += ["--kubeconfig", str(workdir / "kubeconfig")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("flink-k8s-sandbox serving "):
        process.kill()
        raise SystemExit(f"sandbox did not start: {line!r}")
    return process, line.split()[2]


async def _prepare(session: aiohttp.ClientSession, url: str, objects: int) -> None:
    await session.post(f"{url}/api/v1/namespaces", json={"metadata": {"name": NAMESPACE}})
    for index in range(objects):
        body = {"metadata": {"name": f"cm-{index}"}, "data": {"n": "0"}}
        async with session.post(f"{url}/api/v1/namespaces/{NAMESPACE}/configmaps", json=body) as r:
            assert r.status == 201, await r.text()


async def _rate(worker: Any, concurrency: int, seconds: float) -> float:
    """Requests per second of ``concurrency`` copies of ``worker(index, deadline)``."""
    deadline = time.perf_counter() + seconds
    began = time.perf_counter()
    counts = await asyncio.gather(*(worker(i, deadline) for i in range(concurrency)))
    return sum(counts) / (time.perf_counter() - began)


async def _gets(
    session: aiohttp.ClientSession, url: str, concurrency: int, seconds: float
) -> float:
    async def worker(index: int, deadline: float) -> int:
        done = 0
        target = f"{url}/api/v1/namespaces/{NAMESPACE}/configmaps/cm-{index % 10}"
        while time.perf_counter() < deadline:
            async with session.get(target) as response:
                await response.read()
                assert response.status == 200
            done += 1
        return done

    return await _rate(worker, concurrency, seconds)


async def _writes(
    session: aiohttp.ClientSession, url: str, concurrency: int, seconds: float
) -> float:
    async def worker(index: int, deadline: float) -> int:
        done = 0
        target = f"{url}/api/v1/namespaces/{NAMESPACE}/configmaps/cm-{index % 10}"
        while time.perf_counter() < deadline:
            body = {"data": {f"w{index}": str(done)}}
            async with session.patch(target, json=body, headers=MERGE) as response:
                await response.read()
                assert response.status == 200, response.status
            done += 1
        return done

    return await _rate(worker, concurrency, seconds)


async def _watch_latency(url: str, watches: int, writes: int) -> list[float]:
    """Milliseconds from sending each write to each watch receiving its event."""
    sent: dict[str, float] = {}
    latencies: list[float] = []
    ready = asyncio.Event()
    opened = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(f"{url}/api/v1/namespaces/{NAMESPACE}/configmaps") as response:
            start = (await response.json())["metadata"]["resourceVersion"]

        async def watcher() -> None:
            nonlocal opened
            query = f"watch=true&resourceVersion={start}&fieldSelector=metadata.name%3Dprobe"
            target = f"{url}/api/v1/namespaces/{NAMESPACE}/configmaps?{query}&timeoutSeconds=120"
            async with session.get(target) as stream:
                opened += 1
                if opened == watches:
                    ready.set()
                received = 0
                while received < writes:
                    line = await stream.content.readline()
                    now = time.perf_counter()
                    found = SEQ.search(line)  # cheaper than parsing: the client is no bottleneck
                    if found and found.group(1).decode() in sent:
                        latencies.append((now - sent[found.group(1).decode()]) * 1000)
                        received += 1

        tasks = [asyncio.create_task(watcher()) for _ in range(watches)]
        await asyncio.wait_for(ready.wait(), 60)
        target = f"{url}/api/v1/namespaces/{NAMESPACE}/configmaps"
        async with session.post(target, json={"metadata": {"name": "probe"}}) as response:
            assert response.status == 201
        await asyncio.sleep(0.5)  # every stream has its ADDED event
        for seq in range(writes):
            sent[str(seq)] = time.perf_counter()
            body = {"data": {"seq": str(seq)}}
            async with session.patch(f"{target}/probe", json=body, headers=MERGE) as response:
                assert response.status == 200
            await asyncio.sleep(0.02)
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    return latencies


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await _prepare(session, url, 10)
        gets = await _gets(session, url, args.concurrency, args.seconds)
        writes = await _writes(session, url, args.concurrency, args.seconds)
    latencies = await _watch_latency(url, args.watches, args.watch_writes)
    return {
        "gets_per_second": round(gets, 1),
        "writes_per_second": round(writes, 1),
        "watch_latency_ms": {
            "watches": args.watches,
            "events_per_watch": args.watch_writes,
            "samples": len(latencies),
            "p50": round(statistics.median(latencies), 2),
            "p99": round(_percentile(latencies, 0.99), 2),
            "max": round(max(latencies), 2),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--watches", type=int, default=500)
    parser.add_argument("--watch-writes", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        process, url = _start(Path(workdir))
        try:
            result = asyncio.run(_measure(url, args))
        finally:
            process.terminate()
            process.communicate(timeout=30)
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    targets = {
        "gets_per_second": result["gets_per_second"] >= 1000,
        "writes_per_second": result["writes_per_second"] >= 300,
        "watch_p99_ms": result["watch_latency_ms"]["p99"] < 50,
    }
    result["targets_met"] = targets
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    latency = result["watch_latency_ms"]
    print(f"GETs/s:   {result['gets_per_second']:>8}  (target >= 1000)")
    print(f"writes/s: {result['writes_per_second']:>8}  (target >= 300)")
    print(
        f"watch delivery with {latency['watches']} watches: p50 {latency['p50']} ms, "
        f"p99 {latency['p99']} ms (target < 50 ms)"
    )
    print(f"results: {RESULTS}")
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
