"""Flink's REST error answers: ``{"errors": [...]}`` with the status and wording its
handlers use, so a client reads a stand-in failure as it reads a real one.

Three forms, as Flink 2.x writes them:

- a handler's refusal (:func:`handler_error`): one string, the exception's first line
  (``org.apache.flink.runtime.rest.handler.RestHandlerException: <message>``), then its
  ``Caused by:`` lines;
- an unexpected failure (:func:`server_error`): 500 with ``["Internal server error.",
  "<Exception on server side:\\n<exception>\\n\\nEnd of exception on server side>"]``;
- an unknown path: 404, ``Unable to load requested file /x.`` for a GET (Flink's static
  file handler answers those), ``Not found: /x`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "FlinkRestFailure",
    "handler_error",
    "job_not_found",
    "server_error",
    "unknown_path",
]

_HANDLER = "org.apache.flink.runtime.rest.handler.RestHandlerException"
_STAND_IN_FRAME = "\tat flink-k8s-sandbox stand-in"


class FlinkRestFailure(Exception):
    """Raised by the stand-in's operations; becomes the answer ``status`` with ``errors``."""

    def __init__(self, status: int, errors: Sequence[str]) -> None:
        super().__init__(errors[0] if errors else str(status))
        self.status = status
        self.errors = list(errors)

    def body(self) -> dict[str, list[str]]:
        """The JSON answer."""
        return {"errors": self.errors}


def handler_error(
    status: int, message: str, causes: Sequence[str] = (), exception: str = _HANDLER
) -> FlinkRestFailure:
    """A handler's refusal: ``<exception>: <message>`` and each cause as ``Caused by:``."""
    lines = [f"{exception}: {message}", _STAND_IN_FRAME]
    lines += [f"Caused by: {cause}\n{_STAND_IN_FRAME}" for cause in causes]
    return FlinkRestFailure(status, ["\n".join(lines) + "\n"])


def server_error(exception: str) -> FlinkRestFailure:
    """A 500 as Flink words an exception it did not expect (``<class>: <message>``)."""
    detail = (
        f"<Exception on server side:\n{exception}\n{_STAND_IN_FRAME}\n\n"
        "End of exception on server side>"
    )
    return FlinkRestFailure(500, ["Internal server error.", detail])


def job_not_found(job_id: str) -> FlinkRestFailure:
    """404 for a job the JobManager does not know (the job detail handlers' wording)."""
    return handler_error(
        404, f"Job {job_id} not found", exception="org.apache.flink.runtime.rest.NotFoundException"
    )


def unknown_path(method: str, path: str) -> FlinkRestFailure:
    """404 for a path no handler serves."""
    if method == "GET":
        return FlinkRestFailure(404, [f"Unable to load requested file {path}."])
    return FlinkRestFailure(404, [f"Not found: {path}"])
