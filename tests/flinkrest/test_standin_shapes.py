"""The simulated runtime's Flink REST stand-in answers in real Flink's shapes.

One scenario of REST calls -- every path the stand-in serves, successes and refusals --
runs twice through the sandbox API server's Service proxy: against a session cluster of
real Flink 2.3 processes (the ``local`` runtime) and against the same manifests on the
``simulated`` runtime. For each call the status codes must be equal and the JSON bodies
must have the same structure: the same keys (a map keyed by 32-hex ids compares its
values), the same JSON types (Flink writes a NaN double as ``"NaN"``: a number), a
``null`` on either side matching anything. Values are not compared: real Flink is the
reference for what the calls do, the scenario only checks the stand-in answers alike.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.clock import Timing
from flink_k8s_sandbox.flink import (
    CLICKSTREAM_SQL,
    SQL_RUNNER_CLASS,
    SQL_RUNNER_JAR,
    stage_usrlib,
)
from flink_k8s_sandbox.flinkstandin.server import ROUTES
from flink_k8s_sandbox.runtime.local import LocalRuntime

pytestmark = pytest.mark.slow

NAME = "shapes"
TIMING = Timing(probe_scale=0.1, backoff_base=1.0, backoff_max=5.0)
JOB = "ab" * 16
UNKNOWN = "f" * 32
_HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def _spec(state: Path) -> dict[str, Any]:
    return {
        "name": NAME,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1280m", "cpu": 1, "slots": 2, "replicas": 1},
        "savepoint_dir": (state / "savepoints").as_uri(),
        "flink_configuration": {
            "jobmanager.scheduler": "adaptive",
            "jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling": "0s",
            "jobmanager.adaptive-scheduler.executing.resource-stabilization-timeout": "0s",
            "jobmanager.adaptive-scheduler.rescale-trigger.max-delay": "0s",
        },
    }


# --- the client and the recording -----------------------------------------------------------


class Recorder:
    """Calls the cluster's REST API through the sandbox's Service proxy and keeps every
    answer as ``{name: (status, body)}``."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.base = f"{sandbox.url}/api/v1/namespaces/default/services/{NAME}-rest:rest/proxy"
        self.answers: dict[str, tuple[int, Any]] = {}
        self.calls: list[tuple[str, str, int]] = []
        """Every call sent: method, path (without the query) and status."""

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        data: bytes | None = None,
        ctype: str = "",
    ) -> tuple[int, Any]:
        if body is not None:
            data, ctype = json.dumps(body).encode(), "application/json"
        headers = {"Content-Type": ctype} if ctype else {}
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        self.calls.append((method, path.partition("?")[0], status))
        return status, json.loads(text) if text else None

    def record(self, name: str, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        status, answer = self.send(method, path, body, **kwargs)
        self.answers[name] = (status, answer)
        return answer

    def until(
        self,
        name: str,
        path: str,
        done: Callable[[Any], bool],
        timeout: float = 60,
        required: bool = True,
    ) -> Any:
        """Poll ``GET path`` until ``done(answer)``; record the last answer (``required``:
        fail when it never comes)."""
        deadline = time.monotonic() + timeout
        while True:
            status, answer = self.send("GET", path)
            if (status == 200 and done(answer)) or (not required and time.monotonic() > deadline):
                self.answers[name] = (status, answer)
                return answer
            if time.monotonic() > deadline:
                raise AssertionError(f"{name}: gave up waiting; last answer {status} {answer!r}")
            time.sleep(0.2)

    def upload(self, name: str, jar: Path) -> str:
        boundary = uuid.uuid4().hex
        data = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="jarfile"; '
                f'filename="{jar.name}"\r\nContent-Type: application/x-java-archive\r\n\r\n'
            ).encode()
            + jar.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        answer = self.record(
            name,
            "POST",
            "/jars/upload",
            data=data,
            ctype=f"multipart/form-data; boundary={boundary}",
        )
        return str(Path(answer["filename"]).name)


def _all_running(parallelism: int) -> Callable[[Any], bool]:
    def done(job: Any) -> bool:
        vertices = job["vertices"]
        return job["state"] == "RUNNING" and all(
            v["status"] == "RUNNING" and v["parallelism"] == parallelism for v in vertices
        )

    return done


def _completed(answer: Any) -> bool:
    return bool(answer["status"]["id"] == "COMPLETED")


def scenario(rest: Recorder, usrlib: Path) -> None:
    """Every call the stand-in serves, in an order that works on real Flink."""
    rest.until("overview", "/overview", lambda a: a["slots-total"] == 2, timeout=120)
    for path in ("/config", "/taskmanagers", "/jobmanager/config", "/jobs/overview", "/jars"):
        rest.record(f"GET {path}", "GET", path)
    jar_id = rest.upload("upload", usrlib / SQL_RUNNER_JAR)
    rest.record("jars", "GET", "/jars")
    run = {
        "entryClass": SQL_RUNNER_CLASS,
        "programArgsList": ["--script", str(usrlib / CLICKSTREAM_SQL.name)],
        "parallelism": 1,
        "jobId": JOB,
    }
    plan = {key: value for key, value in run.items() if key != "jobId"}
    rest.record("plan", "POST", f"/jars/{jar_id}/plan", plan)
    lacking = {**plan, "entryClass": "com.example.NotInTheJar"}
    rest.record("plan of a class the jar lacks", "POST", f"/jars/{jar_id}/plan", lacking)
    rest.record("plan of an unknown jar", "POST", "/jars/nope.jar/plan", {"entryClass": "x.Y"})
    rest.record("run a class the jar lacks", "POST", f"/jars/{jar_id}/run", lacking)
    rest.record("run", "POST", f"/jars/{jar_id}/run", run)
    rest.record("run again (same job id)", "POST", f"/jars/{jar_id}/run", run)
    rest.record("run an unknown jar", "POST", "/jars/nope.jar/run", {"entryClass": "x.Y"})
    job = rest.until("job", f"/jobs/{JOB}", _all_running(1))
    rest.record("jobs", "GET", "/jobs/overview")
    rest.record("overview with a job", "GET", "/overview")
    rest.record("taskmanagers with a job", "GET", "/taskmanagers")
    rest.record("exceptions", "GET", f"/jobs/{JOB}/exceptions")
    requirements = rest.record("requirements", "GET", f"/jobs/{JOB}/resource-requirements")
    vertex = job["vertices"][0]["id"]
    metrics = "busyTimeMsPerSecond,numRecordsInPerSecond,numRecordsOutPerSecond,noSuchMetric"
    # Flink's metric fetcher may take a while (or, through the sandbox, not answer at
    # all): an empty list is a valid answer, entries are compared when both have them.
    path = f"/jobs/{JOB}/vertices/{vertex}/subtasks/metrics?get={metrics}"
    rest.until("metrics", path, bool, timeout=5, required=False)
    trigger = uuid.uuid4().hex
    savepoint = {"cancel-job": False, "formatType": "CANONICAL", "triggerId": trigger}
    rest.record("savepoint", "POST", f"/jobs/{JOB}/savepoints", savepoint)
    rest.record("savepoint again (same trigger)", "POST", f"/jobs/{JOB}/savepoints", savepoint)
    rest.until("savepoint status", f"/jobs/{JOB}/savepoints/{trigger}", _completed)
    rest.record("unknown trigger", "GET", f"/jobs/{JOB}/savepoints/{UNKNOWN}")
    rest.record("checkpoints", "GET", f"/jobs/{JOB}/checkpoints")
    wider = {v: {"parallelism": {"lowerBound": 1, "upperBound": 2}} for v in requirements}
    rest.record("set no requirements", "PUT", f"/jobs/{JOB}/resource-requirements", {})
    rest.record("set requirements", "PUT", f"/jobs/{JOB}/resource-requirements", wider)
    rest.until("job rescaled", f"/jobs/{JOB}", _all_running(2))
    stop = {"drain": False, "formatType": "CANONICAL", "triggerId": uuid.uuid4().hex}
    rest.record("stop", "POST", f"/jobs/{JOB}/stop", stop)
    rest.until("stop status", f"/jobs/{JOB}/savepoints/{stop['triggerId']}", _completed)
    rest.until("job finished", f"/jobs/{JOB}", lambda a: a["state"] == "FINISHED")
    rest.record("jobs finished", "GET", "/jobs/overview")
    rest.record("cancel a finished job", "PATCH", f"/jobs/{JOB}?mode=cancel")
    rest.record("requirements of a finished job", "GET", f"/jobs/{JOB}/resource-requirements")
    late = uuid.uuid4().hex
    rest.record(
        "savepoint of a finished job", "POST", f"/jobs/{JOB}/savepoints", {"triggerId": late}
    )
    rest.until("failed savepoint status", f"/jobs/{JOB}/savepoints/{late}", _completed)
    second = "cd" * 16
    restore = {
        **run,
        "jobId": second,
        "savepointPath": rest.answers["stop status"][1]["operation"]["location"],
    }
    rest.record("run from the savepoint", "POST", f"/jars/{jar_id}/run", restore)
    rest.until("restored job", f"/jobs/{second}", _all_running(1))
    rest.record("restored checkpoints", "GET", f"/jobs/{second}/checkpoints")
    rest.record("cancel", "PATCH", f"/jobs/{second}?mode=cancel")
    rest.record("cancel again", "PATCH", f"/jobs/{second}?mode=cancel")
    rest.until("job cancelled", f"/jobs/{second}", lambda a: a["state"] == "CANCELED")
    rest.record("unknown job", "GET", f"/jobs/{UNKNOWN}")
    rest.record("malformed job id", "GET", "/jobs/xyz")
    rest.record("unknown path (GET)", "GET", "/no-such-path")
    rest.record("unknown path (POST)", "POST", "/no-such-path", {})
    rest.record("delete jar", "DELETE", f"/jars/{jar_id}")
    rest.record("delete jar again", "DELETE", f"/jars/{jar_id}")


# --- shapes ---------------------------------------------------------------------------------


def shape(value: Any) -> Any:
    """The structure of a JSON value: dicts of shapes, ``[merged element shape]``, type
    names; ``None`` for ``null``. A map keyed by 32-hex ids is ``{"<id>": shape}``."""
    if isinstance(value, dict):
        if value and all(_HEX_ID.match(key) for key in value):
            merged = None
            for item in value.values():
                merged = _merge(merged, shape(item))
            return {"<id>": merged}
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        merged = None
        for item in value:
            merged = _merge(merged, shape(item))
        return [merged]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float) or value in ("NaN", "Infinity", "-Infinity"):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _merge(left: Any, right: Any) -> Any:
    if left is None:
        return right
    if right is None:
        return left
    if isinstance(left, dict) and isinstance(right, dict):
        return {key: _merge(left.get(key), right.get(key)) for key in {*left, *right}}
    if isinstance(left, list) and isinstance(right, list):
        return [_merge(left[0], right[0])]
    return left if left == right else f"{left}|{right}"


def differences(real: Any, standin: Any, where: str = "") -> list[str]:
    """Where the two shapes differ (``None`` matches anything)."""
    if real is None or standin is None:
        return []
    if isinstance(real, dict) and isinstance(standin, dict):
        found = [f"{where}.{key}: only in real Flink" for key in real.keys() - standin.keys()]
        found += [f"{where}.{key}: only in the stand-in" for key in standin.keys() - real.keys()]
        for key in real.keys() & standin.keys():
            found += differences(real[key], standin[key], f"{where}.{key}")
        return found
    if isinstance(real, list) and isinstance(standin, list):
        return differences(real[0], standin[0], f"{where}[]")
    if real != standin and not set(str(real).split("|")) & set(str(standin).split("|")):
        return [f"{where}: real Flink {real}, stand-in {standin}"]
    return []


def test_shape_helpers_see_a_difference() -> None:
    real = shape({"a": 1, "b": [{"c": "x"}], "m": {UNKNOWN: {"p": 1}}, "n": None, "f": "NaN"})
    same = {"a": 2.5, "b": [{"c": "y"}], "m": {JOB: {"p": 3}}, "n": {"k": 1}, "f": 0.5}
    assert differences(real, shape(same)) == []
    other = {"a": "1", "b": [{"d": "x"}], "m": {JOB: {}}, "n": 1, "f": True}
    assert sorted(differences(real, shape(other))) == [
        ".a: real Flink number, stand-in string",
        ".b[].c: only in real Flink",
        ".b[].d: only in the stand-in",
        ".f: real Flink number, stand-in boolean",
        ".m.<id>.p: only in real Flink",
    ]


# --- the two clusters -----------------------------------------------------------------------


def _run(
    sandbox: SandboxServer, state: Path, usrlib: Path, monkeypatch: pytest.MonkeyPatch
) -> Recorder:
    kubeconfig = state / "kubeconfig"
    sandbox.write_kubeconfig(kubeconfig)
    connection = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}
    monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", json.dumps(connection))
    FlinkKubernetesHook().apply(render_manifests(load_cluster(_spec(state))))
    rest = Recorder(sandbox)
    scenario(rest, usrlib)
    return rest


@pytest.fixture(scope="module")
def usrlib(flink_sql_runner_jar: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stage_usrlib(tmp_path_factory.mktemp("usrlib"), jar=flink_sql_runner_jar)


@pytest.fixture(scope="module")
def recordings(
    usrlib: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Recorder, Recorder]]:
    started = time.monotonic()
    with pytest.MonkeyPatch.context() as patch:
        with SandboxServer(timing=TIMING) as sandbox:
            standin = _run(sandbox, tmp_path_factory.mktemp("standin"), usrlib, patch)
        simulated = time.monotonic() - started
        runtime = LocalRuntime(TIMING, workdir=tmp_path_factory.mktemp("pods"), usrlib=usrlib)
        with SandboxServer(runtime=runtime, timing=TIMING) as sandbox:
            real = _run(sandbox, tmp_path_factory.mktemp("real"), usrlib, patch)
    real_flink = time.monotonic() - started - simulated
    print(f"\nstand-in scenario {simulated:.1f}s, real Flink {real_flink:.1f}s")
    yield real, standin


def test_every_call_answers_with_real_flinks_status_and_shape(
    recordings: tuple[Recorder, Recorder],
) -> None:
    real, standin = recordings
    assert real.answers.keys() == standin.answers.keys()
    problems = []
    for name, (status, body) in real.answers.items():
        got_status, got_body = standin.answers[name]
        if got_status != status:
            problems.append(f"{name}: status {got_status}, real Flink {status}")
        problems += [f"{name}: {d}" for d in differences(shape(body), shape(got_body))]
    assert problems == [], "\n".join(problems)


def test_the_scenario_covers_every_path_the_standin_serves(
    recordings: tuple[Recorder, Recorder],
) -> None:
    _, standin = recordings
    missed = [
        f"{method} {pattern.pattern}"
        for method, pattern, _ in ROUTES
        if not any(
            m == method and pattern.match(path) and status < 300
            for m, path, status in standin.calls
        )
    ]
    assert missed == [], f"routes the scenario never calls successfully: {missed}"
