"""The provider's exceptions: one tree, caught at the depth a caller needs.

::

    FlinkK8sError                 root of everything this provider raises
    ├── SpecError                 a cluster spec breaks a rule (lists every problem)
    │   └── ArgumentError         a task's argument breaks its rule (names it first)
    ├── FlinkConfigurationError   Flink would refuse this configuration (also a ValueError)
    ├── DeploymentFailed          a cluster or job reached a failed state (``reason`` says why)
    ├── DeploymentTimeout         a wait gave up while the cluster or job was still progressing
    ├── FlinkRestError            a call to Flink's REST API failed (``status``, ``errors``)
    │   ├── FlinkRestNotFound     Flink answered 404: no such job, jar, trigger or route
    │   └── FlinkRestUnavailable  no answer from Flink: refused, timed out, 502/503/504, or the
    │                             Kubernetes proxy found no Service or endpoints
    ├── SavepointFailed           Flink finished a savepoint with a failure (``cause`` says why)
    ├── RecordedError             an error of another type, rebuilt from its JSON record
    └── KubernetesApiError        the Kubernetes API refused a request (``status``, ``reason``)
        ├── ResourceNotFound      404: the object (or its kind) does not exist
        ├── ResourceConflict      409: already exists, a stale resourceVersion, a field conflict
        └── KubernetesUnavailable no answer: connection refused or reset, a timeout

    SpecWarning (a UserWarning)   a spec is accepted but may not mean what its author meant

Later layers (hooks, sensors) add their branches here, so a DAG author can catch
``FlinkK8sError`` and know nothing from the transport leaks through.

Four kinds of failure, each raised as one branch, whatever task or layer meets it:

=====================  =================================  =====================================
kind                   raised as                          carries; what to do
=====================  =================================  =====================================
a bad argument         :class:`SpecError` (a task's       the field and the rule it breaks;
                       own argument: its subclass         nothing was sent or changed: fix the
                       :class:`ArgumentError`; Flink's    argument and run again
                       configuration rules:
                       :class:`FlinkConfigurationError`)
a refused request      :class:`KubernetesApiError`        the API's status, reason and message
                       (:class:`ResourceConflict`,        (:class:`ResourceConflict`: someone
                       :class:`ResourceNotFound`),        else owns or changed the object);
                       :class:`FlinkRestError`; no        ``...Unavailable``: retried already,
                       answer: ``...Unavailable``         a task retry may succeed
a failed cluster/job   :class:`DeploymentFailed`,         ``reason`` (``CrashLoopBackOff``,
                       :class:`SavepointFailed`           ``JobFailed``...), the message, the
                                                          cause (``details``, ``cause``, the
                                                          ``__cause__`` error)
a timeout              :class:`DeploymentTimeout`         the last ``reason`` waited on, the
                                                          seconds waited
=====================  =================================  =====================================

A request whose precondition the user must meet is a bad argument, not a failure: a
savepoint or rescale of "the cluster's job" on a cluster running no RUNNING job, or
several, raises :class:`SpecError` on ``job_id`` naming the cluster and its jobs
(:func:`~airflow_provider_flink_k8s.observation.job.running_job`) -- nothing failed and
nothing changed; run the job, or name one.

An error that must cross a deferral -- a failed deploy defers while its cluster is
deleted, then fails with the error it had -- travels as a JSON record in the trigger's
kwargs (never pickle): :func:`error_record` and :func:`error_from_record`, built on the
same ``__reduce__`` that keeps each class's fields through pickling.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = [
    "ArgumentError",
    "DeploymentFailed",
    "DeploymentTimeout",
    "FlinkConfigurationError",
    "FlinkK8sError",
    "FlinkRestError",
    "FlinkRestNotFound",
    "FlinkRestUnavailable",
    "KubernetesApiError",
    "KubernetesUnavailable",
    "RecordedError",
    "ResourceConflict",
    "ResourceNotFound",
    "SavepointFailed",
    "SpecError",
    "SpecProblem",
    "SpecWarning",
    "error_from_record",
    "error_record",
]


class FlinkK8sError(Exception):
    """Root of every error this provider raises on purpose."""


@dataclass(frozen=True)
class SpecProblem:
    """One broken rule: which field (dotted path) and the rule it breaks."""

    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}" if self.field else self.rule


class SpecError(FlinkK8sError, ValueError):
    """Raised when a cluster spec is refused; ``problems`` lists every broken rule."""

    def __init__(self, problems: Iterable[SpecProblem], *, subject: str = "cluster spec") -> None:
        self.problems: tuple[SpecProblem, ...] = tuple(problems)
        self.subject = subject
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid {subject} ({count} {noun}):\n{lines}")

    def __reduce__(self) -> tuple[Any, ...]:
        # BaseException would pass only the text, which is not a list of problems.
        problems = [(problem.field, problem.rule) for problem in self.problems]
        return (_rebuild_spec_error, (problems, self.subject))


class ArgumentError(SpecError):
    """Raised when a task's argument breaks its rule: a bad argument like a spec's field
    (``except SpecError`` catches both), whose message starts with the argument's name
    (``argument``) and says the rule -- as a DAG file's import error shows it."""

    def __init__(self, argument: str, message: str) -> None:
        self.argument = argument
        self.problems = (SpecProblem(argument, message),)
        self.subject = f"argument {argument}"
        # The message alone, not SpecError's list: it already names the argument.
        ValueError.__init__(self, message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ArgumentError, (self.argument, str(self)))


class SpecWarning(UserWarning):
    """Warned (``warnings.warn``) when a spec is accepted but may not mean what its author
    meant, e.g. memory in units a Kubernetes user reads as decimal; the message says how it
    is read. Airflow logs it; turn it into an error with a ``warnings`` filter."""


class FlinkConfigurationError(FlinkK8sError, ValueError):
    """Raised when Flink itself would refuse a configuration; the message is Flink's reason."""


class DeploymentFailed(FlinkK8sError):
    """Raised when a cluster or job failed; ``reason`` is a cause from
    :class:`~airflow_provider_flink_k8s.observation.verdict.Reason` (``CrashLoopBackOff``,
    ``JobFailed``...) and ``message`` says what happened, for a person."""

    def __init__(
        self, reason: str, message: str, *, details: Mapping[str, Any] | None = None
    ) -> None:
        self.reason = reason
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(f"{reason}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the fields through pickling (BaseException would pass only the text).
        return (_rebuild_failed, (self.reason, self.message, self.details))


class DeploymentTimeout(FlinkK8sError):
    """Raised when a wait gave up before the cluster or job got where it was going;
    ``reason`` is the last cause it was still waiting on (``TaskManagersMissing``...)."""

    def __init__(
        self, message: str, *, reason: str | None = None, waited_seconds: float | None = None
    ) -> None:
        self.message = message
        self.reason = reason
        self.waited_seconds = waited_seconds
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_timeout, (self.message, self.reason, self.waited_seconds))


class FlinkRestError(FlinkK8sError):
    """Raised when a call to Flink's REST API fails: Flink (or a proxy in front of it)
    answered with an error, or -- in :class:`FlinkRestUnavailable` -- did not answer.

    :param message: what failed, for a person: the call, the status and Flink's message.
    :param method: the HTTP method of the call.
    :param path: the API path (``/jobs/<id>``), never the URL: no host, no credentials.
    :param status: the HTTP status, or ``None`` when nothing answered.
    :param errors: Flink's messages (the ``errors`` of its body, stack traces cut off), or
        the ``message`` of a Kubernetes ``Status`` from the API server's proxy.
    :param retry_after: seconds the server asked to wait (``Retry-After``), if it did.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        errors: Iterable[str] = (),
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.errors: tuple[str, ...] = tuple(errors)
        self.retry_after = retry_after
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        fields = (self.message, self.method, self.path, self.status, self.errors)
        return (_rebuild_rest_error, (type(self), *fields, self.retry_after, self._extra()))

    def _extra(self) -> dict[str, Any]:
        return {}


class FlinkRestNotFound(FlinkRestError):
    """Raised when Flink answers 404: the job, jar, savepoint trigger or route does not exist."""


class FlinkRestUnavailable(FlinkRestError):
    """Raised when Flink did not answer: connection refused or timed out, a gateway's
    502/503/504, Flink's own 503 (no leader), or the Kubernetes API server's proxy
    failing to reach it (``no endpoints available``, no such Service or Endpoints).

    :param request_sent: whether the request may have reached Flink (a read timed out, the
        connection dropped mid-answer; the default); ``False`` when it certainly did not
        (refused, connect timeout, an unready proxy), which makes even a non-idempotent
        call safe to repeat.
    """

    def __init__(self, message: str, *, request_sent: bool = True, **fields: Any) -> None:
        self.request_sent = request_sent
        super().__init__(message, **fields)

    def _extra(self) -> dict[str, Any]:
        return {"request_sent": self.request_sent}


class SavepointFailed(FlinkK8sError):
    """Raised when Flink completed a savepoint (or stop-with-savepoint) with a failure;
    ``cause`` is Flink's reason, stack trace cut off."""

    def __init__(self, job_id: str, trigger_id: str, cause: str) -> None:
        self.job_id = job_id
        self.trigger_id = trigger_id
        self.cause = cause
        super().__init__(f"savepoint {trigger_id} of job {job_id} failed: {cause}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (SavepointFailed, (self.job_id, self.trigger_id, self.cause))


class RecordedError(FlinkK8sError):
    """Raised in place of an error that crossed a deferral as a JSON record
    (:func:`error_record`) when its type cannot be rebuilt from the record: neither this
    provider's, nor a Python builtin, nor one the reader named. ``type_name`` is the
    original type's qualified name, ``message`` its text; the message shows both."""

    def __init__(self, type_name: str, message: str) -> None:
        self.type_name = type_name
        self.message = message
        super().__init__(f"{type_name}: {message}" if message else type_name)

    def __reduce__(self) -> tuple[Any, ...]:
        return (RecordedError, (self.type_name, self.message))


def _rebuild_rest_error(
    cls: type[FlinkRestError],
    message: str,
    method: str,
    path: str,
    status: int | None,
    errors: tuple[str, ...],
    retry_after: float | None,
    extra: dict[str, Any],
) -> FlinkRestError:
    return cls(
        message,
        method=method,
        path=path,
        status=status,
        errors=errors,
        retry_after=retry_after,
        **extra,
    )


class KubernetesApiError(FlinkK8sError):
    """Raised when the Kubernetes API refused a request, or (subclass
    :class:`KubernetesUnavailable`) did not answer.

    ``message`` is the API's own ``Status`` message (``deployments.apps "x" not found``),
    never a header, a token or the kubeconfig.

    :param status: the HTTP status (``None`` when there was no answer).
    :param reason: the ``Status`` reason (``NotFound``, ``Invalid``...), else the HTTP phrase.
    :param message: the ``Status`` message.
    :param retry_after: seconds the server asked to wait (``Retry-After``), if it did.
    """

    def __init__(
        self,
        status: int | None,
        reason: str,
        message: str,
        *,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after
        code = f"{status} " if status is not None else ""
        super().__init__(f"Kubernetes API: {code}{reason}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_api_error,
            (type(self), self.status, self.reason, self.message, self.retry_after),
        )


class ResourceNotFound(KubernetesApiError):
    """Raised when an object, or the kind of one, does not exist (404)."""


class ResourceConflict(KubernetesApiError):
    """Raised when a write conflicts (409): the object already exists, a stale
    resourceVersion, or a field another manager owns."""


class KubernetesUnavailable(KubernetesApiError):
    """Raised when the API server did not answer (connection refused or reset, a timeout),
    after the retries gave up; ``status`` is ``None``."""


def _rebuild_api_error(
    cls: type[KubernetesApiError],
    status: int | None,
    reason: str,
    message: str,
    retry_after: float | None,
) -> KubernetesApiError:
    return cls(status, reason, message, retry_after=retry_after)


def _rebuild_failed(reason: str, message: str, details: dict[str, Any]) -> DeploymentFailed:
    return DeploymentFailed(reason, message, details=details)


def _rebuild_timeout(
    message: str, reason: str | None, waited_seconds: float | None
) -> DeploymentTimeout:
    return DeploymentTimeout(message, reason=reason, waited_seconds=waited_seconds)


def _rebuild_spec_error(problems: Iterable[Iterable[str]], subject: str) -> SpecError:
    return SpecError([SpecProblem(*problem) for problem in problems], subject=subject)


# -- errors as JSON records -------------------------------------------------------------

_CAUSE_DEPTH = 3
"""How many ``__cause__`` links :func:`error_record` keeps (a record must stay small)."""


@cache
def _own_errors() -> Mapping[str, Callable[..., BaseException]]:
    """What a record may name to rebuild one of this module's errors: its classes and the
    ``__reduce__`` helpers above, by name (a record never names anything else)."""
    return {
        name: value
        for name, value in globals().items()
        if (isinstance(value, type) and issubclass(value, FlinkK8sError))
        or (name.startswith("_rebuild_") and callable(value))
    }


def _plain(value: Any) -> Any:
    """``value`` as plain JSON: tuples become lists, this module's error classes
    ``{"error_class": name}``, anything else JSON cannot hold its text."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return str.__str__(value)  # a str subclass (an enum) as its plain text
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, type):
        name = value.__name__
        if _own_errors().get(name) is value:
            return {"error_class": name}
    return str(value)


def _unplain(value: Any, own: Mapping[str, Callable[..., BaseException]]) -> Any:
    """The inverse of :func:`_plain` for the error classes it names."""
    if isinstance(value, list):
        return [_unplain(item, own) for item in value]
    if isinstance(value, dict):
        if set(value) == {"error_class"} and value["error_class"] in own:
            return own[value["error_class"]]
        return {key: _unplain(item, own) for key, item in value.items()}
    return value


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def error_record(error: BaseException, *, depth: int = _CAUSE_DEPTH) -> dict[str, Any]:
    """``error`` as plain JSON, to rebuild with :func:`error_from_record` after a deferral
    (a trigger's kwargs are JSON: an exception cannot travel as itself).

    ``{"type": "module.Qualname", "message": str, "rebuild": name | None, "args": [...],
    "cause": record | None}``: this provider's errors keep every field, through the same
    ``__reduce__`` pickling uses (``rebuild`` names its helper or class); any other error
    keeps its ``args`` (as far as JSON holds them) and its text. The traceback is not
    kept: log it before deferring.

    :param depth: how many ``__cause__`` links to keep.
    """
    own = _own_errors()
    rebuild: str | None = None
    args: tuple[Any, ...] = error.args
    if isinstance(error, FlinkK8sError):
        reduced = error.__reduce__()
        helper, reduced_args = reduced[0], reduced[1]
        name = getattr(helper, "__name__", "")
        if isinstance(reduced_args, tuple) and own.get(name) is helper:
            rebuild, args = name, reduced_args
    cause = error.__cause__
    return {
        "type": _type_name(type(error)),
        "message": str(error),
        "rebuild": rebuild,
        "args": _plain(args),
        "cause": error_record(cause, depth=depth - 1) if cause is not None and depth else None,
    }


def error_from_record(
    record: Mapping[str, Any], *, known: Iterable[type[BaseException]] = ()
) -> BaseException:
    """The error :func:`error_record` recorded, of the same type with the same fields:
    this provider's errors, Python's builtin exceptions and the ``known`` types (built
    from their ``args``). Any other type, or a record that no longer builds, gives a
    :class:`RecordedError` naming the type, with the message. Never raises; nothing but
    those types is ever imported or called.
    """
    type_name = str(record.get("type") or "Exception")
    message = str(record.get("message") or "")
    args = record.get("args")
    own = _own_errors()
    error: BaseException | None = None
    try:
        positional = list(_unplain(args, own)) if isinstance(args, list) else [message]
        rebuild = record.get("rebuild")
        allowed = {_type_name(cls): cls for cls in known}
        module, _, name = type_name.rpartition(".")
        if isinstance(rebuild, str) and rebuild in own:
            error = own[rebuild](*positional)
        elif type_name in allowed:
            error = allowed[type_name](*positional)
        elif module == "builtins":
            builtin = getattr(builtins, name, None)
            if isinstance(builtin, type) and issubclass(builtin, Exception):
                error = builtin(*positional)
    except Exception:  # a record that no longer fits its type's constructor
        error = None
    if not isinstance(error, BaseException):
        error = RecordedError(type_name, message)
    cause = record.get("cause")
    if isinstance(cause, Mapping):
        error.__cause__ = error_from_record(cause, known=known)
    return error
