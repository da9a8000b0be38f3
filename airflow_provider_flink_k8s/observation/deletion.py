"""Deletions as waits: a cluster's objects gone, or the FlinkSessionJobs on it.

Pure: the hook lists what is left (``Kind/name``, with the finalizers holding it); the
classifier decides.
"""

from __future__ import annotations

from collections.abc import Sequence

from airflow_provider_flink_k8s.observation.verdict import Lifecycle, Reason, Verdict

__all__ = ["classify_deletion"]


def classify_deletion(remaining: Sequence[str], *, what: str) -> Verdict:
    """Decide a wait for ``what`` to be gone:

    ===============================  ===========  ========
    objects left                     lifecycle    reason
    ===============================  ===========  ========
    none                             READY        Deleted
    some (named in the message)      PROGRESSING  Deleting
    ===============================  ===========  ========

    :param remaining: the objects left, as ``Kind/name`` (finalizers in parentheses).
    :param what: what is deleted, for messages (``cluster orders``).
    """
    if not remaining:
        return Verdict(Lifecycle.READY, Reason.DELETED, f"{what}: nothing is left")
    left = ", ".join(remaining)
    message = f"{what}: {len(remaining)} object(s) left: {left}"
    return Verdict.progressing(Reason.DELETING, message, remaining=list(remaining))
