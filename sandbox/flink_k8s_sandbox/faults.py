"""Fault injection: failing, slow or cut requests, dropped watches, lost history.

:class:`FaultInjector` (``SandboxServer.faults``) holds request rules and acts on open
watches; it is usable from any thread. A rule matches requests by method (``None``:
any) and a regular expression searched in the URL path, for its next ``times``
matching requests (``None``: until removed), and then

- ``fail``: answers with the ``Status`` the API server sends for that code
  (429 ``TooManyRequests`` ``Too many requests, please try again later.``; 500
  ``InternalError`` ``Internal error occurred: ...``; 503 ``ServiceUnavailable``; 504
  ``Timeout``; 409 ``Conflict`` worded for the addressed object), with a
  ``Retry-After`` header and ``details.retryAfterSeconds`` when ``retry_after`` is given
  (client-go, hence kubectl, retries any such answer up to 10 times; the ``kubernetes``
  client's urllib3 retries GET/PUT/DELETE on 429/503 with ``Retry-After`` up to 3 times,
  never POST/PATCH; kubernetes_asyncio never retries);
- ``delay``: waits ``seconds`` before the request is served;
- ``reset``: closes the connection without an answer.

:meth:`FaultInjector.drop_watches` ends open watch streams early (cleanly, as when an
API server goes away: the Python ``Watch`` reconnects from its last resourceVersion,
kubernetes_asyncio's stream ends) or, with ``abort=True``, cuts their connections
(the client sees a broken chunked response). :meth:`FaultInjector.compact` forgets the
watch history, so a watch resuming from an older resourceVersion gets an in-band
``ERROR`` 410 ``Expired``. :meth:`FaultInjector.pod` hands per-pod faults to the
kubelet's ``pod_faults`` when the server has one.

The same is reachable over HTTP: ``GET/POST/DELETE /sandbox/faults``
(:mod:`.faultroutes`).
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.routing import Target, parse_path
from flink_k8s_sandbox.state import ApiState

__all__ = ["FaultInjector", "RequestFault", "fault_status"]

Obj = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
StateCall = Callable[[Callable[[ApiState], Any]], Any]
_CURRENT: contextvars.ContextVar[web.Request | None] = contextvars.ContextVar(
    "sandbox_request", default=None
)
_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
_DEFAULT_MESSAGES = {
    429: "Too many requests, please try again later.",
    500: "injected fault",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted",
}


def fault_status(
    code: int, path: str, message: str | None, retry_after: int | None
) -> errors.ApiError:
    """The ``Status`` error an injected failure answers with (``Retry-After`` included)."""
    text = message or _DEFAULT_MESSAGES.get(code, "injected fault")
    details: Obj = {"retryAfterSeconds": retry_after} if retry_after else {}
    if code == 500:
        error = errors.internal_error(text)
        error.status["details"].update(details)
    elif code == 409:
        target = parse_path(path) or Target("", "")
        detail = message or errors.OBJECT_MODIFIED
        error = errors.conflict(target.group, target.plural or "", target.name or "", detail)
    elif code == 504:
        error = errors.ApiError(errors.status_failure(504, "Timeout", f"Timeout: {text}", details))
    elif code == 503 and not details:
        error = errors.ApiError(errors.status_failure(503, "ServiceUnavailable", text))
    else:
        error = errors.ApiError(errors.status_failure(code, _REASONS.get(code, ""), text, details))
    if retry_after:
        error.headers["Retry-After"] = str(retry_after)
    return error


@dataclass
class RequestFault:
    """One rule: which requests it matches and what it does to them."""

    id: int
    action: str
    method: str | None
    path: str
    times: int | None
    status: int = 0
    retry_after: int | None = None
    message: str | None = None
    seconds: float = 0.0
    matched: int = 0
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pattern = re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.pattern.search(path))

    def to_dict(self) -> Obj:
        """The rule as ``GET /sandbox/faults`` shows it."""
        shown: Obj = {
            "id": self.id,
            "action": self.action,
            "method": self.method,
            "path": self.path,
        }
        shown["times"] = self.times
        if self.action == "fail":
            shown.update(status=self.status, retryAfter=self.retry_after, message=self.message)
        if self.action == "delay":
            shown["seconds"] = self.seconds
        shown["matched"] = self.matched
        return shown


class _TrackedWatches(set[asyncio.Queue[Any]]):
    """``ApiState.watch_queues`` that also remembers which request each queue serves."""

    def __init__(self, queues: set[asyncio.Queue[Any]]) -> None:
        super().__init__(queues)
        self.requests: dict[int, tuple[asyncio.Queue[Any], web.Request]] = {}

    def add(self, queue: asyncio.Queue[Any]) -> None:
        super().add(queue)
        request = _CURRENT.get()
        if request is not None:
            self.requests[id(queue)] = (queue, request)

    def discard(self, queue: object) -> None:
        super().discard(queue)
        self.requests.pop(id(queue), None)


class FaultInjector:
    """Request faults, watch drops and history compaction for one sandbox.

    :param call: runs a function with the server's :class:`ApiState` on its loop
        (``SandboxServer.call``).
    :param pod_faults: returns the kubelet's pod-fault API, when there is one.
    """

    def __init__(self, call: StateCall, pod_faults: Callable[[], Any] | None = None) -> None:
        self._call = call
        self._pod_faults = pod_faults
        self._lock = threading.Lock()
        self._rules: list[RequestFault] = []
        self._ids = itertools.count(1)

    # -- rules -------------------------------------------------------------------

    def _add(
        self, action: str, method: str | None, path: str, times: int | None, **extra: Any
    ) -> RequestFault:
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for every request)")
        rule = RequestFault(
            next(self._ids), action, method.upper() if method else None, path, times, **extra
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def fail(
        self,
        status: int = 500,
        *,
        method: str | None = None,
        path: str = "",
        times: int | None = 1,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> RequestFault:
        """Answer the next ``times`` matching requests with a ``status`` failure.

        :param path: a regular expression searched in the URL path (``""``: every path).
        :param retry_after: seconds for ``Retry-After`` and ``details.retryAfterSeconds``.
        :raises ValueError: for a status that is no error or ``times`` below 1.
        """
        if not 400 <= status <= 599:
            raise ValueError(f"status {status} is not an error status")
        return self._add(
            "fail", method, path, times, status=status, retry_after=retry_after, message=message
        )

    def delay(
        self, seconds: float, *, method: str | None = None, path: str = "", times: int | None = None
    ) -> RequestFault:
        """Hold the next ``times`` matching requests (``None``: all) for ``seconds``."""
        return self._add("delay", method, path, times, seconds=float(seconds))

    def reset(
        self, *, method: str | None = None, path: str = "", times: int | None = 1
    ) -> RequestFault:
        """Close the connection of the next ``times`` matching requests without an answer."""
        return self._add("reset", method, path, times)

    @property
    def rules(self) -> list[RequestFault]:
        with self._lock:
            return list(self._rules)

    def remove(self, rule_id: int) -> bool:
        """Remove one rule; ``False`` when there is none with that id."""
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self, *, pods: bool = False) -> None:
        """Remove every request rule (and, with ``pods``, the kubelet's pod-fault rules)."""
        with self._lock:
            self._rules.clear()
        target = self._pod_target()
        if pods and target is not None:
            target.clear()

    def _take(self, method: str, path: str) -> tuple[float, RequestFault | None]:
        """Count the request against the matching rules: (total delay, failing rule)."""
        seconds, failing = 0.0, None
        with self._lock:
            for rule in list(self._rules):
                if not rule.matches(method, path) or (
                    rule.action != "delay" and failing is not None
                ):
                    continue
                rule.matched += 1
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times == 0:
                        self._rules.remove(rule)
                if rule.action == "delay":
                    seconds += rule.seconds
                else:
                    failing = rule
        return seconds, failing

    # -- watches and history -----------------------------------------------------

    def attach(self, state: ApiState) -> None:
        """Track ``state``'s watch streams by request (done by the server at start)."""
        if not isinstance(state.watch_queues, _TrackedWatches):
            state.watch_queues = _TrackedWatches(state.watch_queues)

    def drop_watches(self, path: str = "", *, abort: bool = False) -> int:
        """End the open watches whose URL path matches ``path``; return how many.

        :param abort: cut the connection instead of ending the response.
        """
        pattern = re.compile(path)

        def drop(state: ApiState) -> int:
            tracked = state.watch_queues
            entries = (
                list(tracked.requests.values()) if isinstance(tracked, _TrackedWatches) else []
            )
            count = 0
            for queue, request in entries:
                if not pattern.search(request.path):
                    continue
                if abort and request.transport is not None:
                    request.transport.abort()
                else:
                    queue.put_nowait(None)
                count += 1
            return count

        return int(self._call(drop))

    def compact(self) -> None:
        """Forget the retained watch events of every type (resuming watches get 410)."""
        self._call(lambda state: state.store.compact())

    # -- pods --------------------------------------------------------------------

    def pod(self, **fault: Any) -> Any:
        """Hand a per-pod fault to the kubelet (``SandboxServer.pod_faults``).

        :raises RuntimeError: when the server runs no kubelet with pod faults.
        """
        target = self._pod_target()
        if target is None:
            raise RuntimeError("this sandbox has no pod faults (no kubelet runs)")
        return target.inject(**fault)

    def pod_rules(self) -> list[Obj]:
        """The kubelet's pod-fault rules, as JSON (empty without a kubelet)."""
        target = self._pod_target()
        return [rule.to_dict() for rule in target.rules] if target is not None else []

    def _pod_target(self) -> Any:
        return self._pod_faults() if self._pod_faults is not None else None

    # -- the middleware ----------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Apply the rules to each API request (``/sandbox/`` admin paths are exempt)."""
        if request.path.startswith("/sandbox/"):
            return await handler(request)
        token = _CURRENT.set(request)
        try:
            seconds, rule = self._take(request.method, request.path)
            if seconds:
                await asyncio.sleep(seconds)
            if rule is not None and rule.action == "reset":
                return await _reset(request)
            if rule is not None:
                raise fault_status(rule.status, request.path, rule.message, rule.retry_after)
            return await handler(request)
        finally:
            _CURRENT.reset(token)


async def _reset(request: web.Request) -> web.StreamResponse:
    """Cut the connection; the handler is cancelled when aiohttp notices."""
    if request.transport is not None:
        request.transport.abort()
    await asyncio.sleep(5)
    return web.Response(status=503)
