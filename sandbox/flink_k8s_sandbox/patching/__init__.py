"""The three PATCH bodies as the API server applies them (pure; inputs are never mutated).

* :func:`apply_json_patch` (:mod:`.jsonpatch`) -- RFC 6902 with the quirks of
  ``evanphx/json-patch`` v4 that the apiserver uses.
* :func:`apply_merge_patch` (:mod:`.mergepatch`) -- RFC 7386 (``null`` deletes; nulls
  inside new objects are pruned).
* :func:`apply_strategic_merge_patch` (:mod:`.strategic`) -- apimachinery
  ``strategicpatch`` for built-in kinds, directives and list order included.

Every failure is a :class:`PatchError` (:mod:`.errors`) carrying the HTTP ``code`` and
``reason`` the real server answers with: a body that does not decode is 400 ``BadRequest``;
a JSON patch operation that fails (``test``, a missing path, a bad index) is 422 ``Invalid``
with apimachinery's generic message (the operation's own error is in ``detail``); SMP
format errors are 400, list-of-lists and ``$retainKeys`` mismatches 422, and the remaining
SMP errors (missing merge key, unknown directive) are 500 with no reason, because the
apiserver does not translate them either.

The merge keys of the built-in kinds (:class:`FieldSchema`, :func:`list_strategy`,
:func:`merge_key_table`), which server-side apply (:mod:`.fieldmanager`) reads too, are in
:mod:`.schema`.
"""

from __future__ import annotations

from flink_k8s_sandbox.patching.errors import PatchError
from flink_k8s_sandbox.patching.jsonpatch import apply_json_patch
from flink_k8s_sandbox.patching.mergepatch import apply_merge_patch
from flink_k8s_sandbox.patching.schema import (
    FieldSchema,
    ListStrategy,
    list_strategy,
    merge_key_table,
    root_schema,
)
from flink_k8s_sandbox.patching.strategic import apply_strategic_merge_patch

__all__ = [
    "FieldSchema",
    "ListStrategy",
    "PatchError",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_strategic_merge_patch",
    "list_strategy",
    "merge_key_table",
    "root_schema",
]
