"""An HTTP fake of a Flink JobManager for failure injection (imported by the tests here).

:class:`FakeFlink` serves scripted answers on 127.0.0.1 from a background thread
(``http.server``), so the sync and the async hook talk to it over real sockets. Each
route has a queue of :class:`Answer`; the last one repeats. Every request is recorded
with its arrival time. Unscripted routes answer 404 the way Flink does.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ANSWERS: dict[str, Any] = json.loads(
    (Path(__file__).with_name("flink23_answers.json")).read_text(encoding="utf-8")
)
"""Answers recorded from a Flink 2.3.0 session cluster (stack traces trimmed)."""

# Trimmed from Flink 2.3's answers.
OVERVIEW = {
    "taskmanagers": 1,
    "slots-total": 2,
    "slots-available": 2,
    "jobs-running": 0,
    "jobs-finished": 0,
    "jobs-cancelled": 0,
    "jobs-failed": 0,
    "flink-version": "2.3.0",
    "flink-commit": "c0f8d1a",
}
JOB_ID = "f94b6f645c7df2034c249561eaa89d79"
TRIGGER_ID = "0123456789abcdef0123456789abcdef"


def flink_error(message: str, *, internal: bool = False) -> dict[str, Any]:
    """An error body as Flink writes one (a stack trace in the message)."""
    trace = (
        f"org.apache.flink.runtime.rest.handler.RestHandlerException: {message}\n"
        "\tat org.apache.flink.runtime.rest.handler.AbstractHandler.respondAsLeader"
        "(AbstractHandler.java:165)\n"
    )
    if internal:
        return {
            "errors": [
                "Internal server error.",
                f"<Exception on server side:\njava.util.concurrent.CompletionException: {trace}"
                "\nEnd of exception on server side>",
            ]
        }
    return {"errors": [trace]}


@dataclass(frozen=True)
class Answer:
    """One scripted answer: a status, a JSON body (or raw bytes), headers, and a delay."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Seen:
    """A request the fake received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    at: float


class FakeFlink:
    """Scripted answers per ``(method, path)``; use as a context manager."""

    def __init__(self, port: int = 0) -> None:
        self._routes: dict[tuple[str, str], list[Answer]] = {}
        self._lock = threading.Lock()
        self.requests: list[Seen] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def on(self, method: str, path: str, *answers: Answer) -> FakeFlink:
        """Answer ``method path`` with ``answers`` in turn (the last one repeats)."""
        with self._lock:
            self._routes[(method, path)] = list(answers)
        return self

    def seen(self, method: str, path: str) -> list[Seen]:
        """The requests received for ``method path``."""
        return [r for r in self.requests if (r.method, r.path) == (method, path)]

    def answer_for(self, seen: Seen) -> Answer:
        with self._lock:
            self.requests.append(seen)
            queue = self._routes.get((seen.method, seen.path))
            if not queue:
                return Answer(404, {"errors": [f"Not found: {seen.path}"]})
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def __enter__(self) -> FakeFlink:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(fake: FakeFlink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            seen = Seen(
                self.command, parts.path, parts.query, dict(self.headers), body, time.monotonic()
            )
            answer = fake.answer_for(seen)
            if answer.delay:
                time.sleep(answer.delay)
            raw = answer.body
            if raw is None:
                payload = b""
            elif isinstance(raw, bytes):
                payload = raw
            else:
                payload = json.dumps(raw).encode()
            try:
                self.send_response(answer.status)
                headers = {"Content-Type": "application/json; charset=UTF-8", **answer.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a read timeout)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


# --- both twins ----------------------------------------------------------------------------

TWINS = ("sync", "async")


def run_twin(twin: str, action: Any, **hook_kwargs: Any) -> Any:
    """Build the ``twin`` hook (``sync`` or ``async``) and return ``action(hook)``'s value
    (awaited for the async twin, which runs in a fresh event loop)."""
    import asyncio

    from airflow_provider_flink_k8s.hooks.flink_rest import AsyncFlinkRestHook, FlinkRestHook

    if twin == "sync":
        with FlinkRestHook(**hook_kwargs) as hook:
            return action(hook)

    async def main() -> Any:
        async with AsyncFlinkRestHook(**hook_kwargs) as hook:
            return await action(hook)

    return asyncio.run(main())
