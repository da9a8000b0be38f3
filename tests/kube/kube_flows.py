"""Drive a :mod:`airflow_provider_flink_k8s.kube` flow with scripted answers, no I/O.

The flows' contract is the steps they yield and what they return; these tests play the
server: a ``responder`` maps each request to an answer (a JSON object, bytes, or a
``KubernetesApiError`` to throw back in), and sleeps are recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_flink_k8s.exceptions import KubernetesApiError
from airflow_provider_flink_k8s.kube import ApiRequest, ApiResponse, Flow, Sleep

Answer = dict[str, Any] | bytes | KubernetesApiError
Responder = Callable[[ApiRequest], Answer]


@dataclass
class Run:
    """What a flow asked for, and what it returned."""

    requests: list[ApiRequest] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    result: Any = None


def run_flow(flow: Flow[Any], responder: Responder) -> Run:
    """Drive ``flow`` to its end; errors it does not catch propagate."""
    run = Run()
    outcome: ApiResponse | None = None
    error: KubernetesApiError | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(outcome)
        except StopIteration as done:
            run.result = done.value
            return run
        outcome, error = None, None
        if isinstance(step, Sleep):
            run.sleeps.append(step.seconds)
            continue
        run.requests.append(step)
        answer = responder(step)
        if isinstance(answer, KubernetesApiError):
            error = answer
        elif isinstance(answer, bytes):
            outcome = ApiResponse(200, answer)
        else:
            outcome = ApiResponse(200, json.dumps(answer).encode())


def not_found(what: str = 'x "y"') -> KubernetesApiError:
    from airflow_provider_flink_k8s.exceptions import ResourceNotFound

    return ResourceNotFound(404, "NotFound", f"{what} not found")
