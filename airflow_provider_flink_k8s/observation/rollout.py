"""Whether a Deployment finished rolling out, decided as ``kubectl rollout status`` does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_flink_k8s.observation.workloads import DeploymentState

__all__ = ["PROGRESS_DEADLINE_EXCEEDED", "deployment_rolled_out", "progress_deadline_exceeded"]

PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
"""The ``Progressing`` condition's reason once ``spec.progressDeadlineSeconds`` passed
without progress (``TimedOutReason`` in the Deployment controller)."""


def progress_deadline_exceeded(deployment: DeploymentState) -> bool:
    """Whether the controller gave up on the rollout (``Progressing`` is
    ``ProgressDeadlineExceeded``)."""
    condition = deployment.condition("Progressing")
    return condition is not None and condition.reason == PROGRESS_DEADLINE_EXCEEDED


def deployment_rolled_out(deployment: Mapping[str, Any] | DeploymentState) -> tuple[bool, str]:
    """Whether a Deployment's rollout is complete, and kubectl's words for where it is.

    Mirrors kubectl's ``DeploymentStatusViewer``, in order:

    =============================================  ====  ========================================
    status                                         done  message
    =============================================  ====  ========================================
    ``generation > observedGeneration``            no    Waiting for deployment spec update to be
                                                         observed...
    ``Progressing`` is past its deadline (1)       no    deployment "x" exceeded its progress
                                                         deadline (kubectl's error)
    ``updatedReplicas < spec.replicas``            no    ... N out of M new replicas have been
                                                         updated...
    ``replicas > updatedReplicas``                 no    ... N old replicas are pending
                                                         termination...
    ``availableReplicas < updatedReplicas``        no    ... N of M updated replicas are
                                                         available...
    otherwise                                      yes   deployment "x" successfully rolled out
    =============================================  ====  ========================================

    (1) its reason is ``ProgressDeadlineExceeded``.

    :param deployment: the raw Deployment (or one parsed already); counts the API left
        out are zero, a missing ``spec.replicas`` is the API's default of 1.
    :return: ``(done, message)``.
    """
    state = (
        deployment
        if isinstance(deployment, DeploymentState)
        else DeploymentState.from_k8s(deployment)
    )
    name = state.name
    if state.generation > state.observed_generation:
        return False, "Waiting for deployment spec update to be observed..."
    if progress_deadline_exceeded(state):
        return False, f'deployment "{name}" exceeded its progress deadline'
    waiting = f'Waiting for deployment "{name}" rollout to finish: '
    if state.updated_replicas < state.desired_replicas:
        return False, (
            f"{waiting}{state.updated_replicas} out of {state.desired_replicas} "
            "new replicas have been updated..."
        )
    if state.replicas > state.updated_replicas:
        old = state.replicas - state.updated_replicas
        return False, f"{waiting}{old} old replicas are pending termination..."
    if state.available_replicas < state.updated_replicas:
        return False, (
            f"{waiting}{state.available_replicas} of {state.updated_replicas} "
            "updated replicas are available..."
        )
    return True, f'deployment "{name}" successfully rolled out'
