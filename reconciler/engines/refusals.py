"""When the API server refuses to create what runs a step (a V1 Job, the V2 PipelineRun).

Both engines decide alike, and say so at once instead of waiting for the workflow's timeout:

* **transient** answers (429, 5xx, timeouts) are not refusals: the caller lets them through to
  the controller's per-key backoff, as every other transient error;
* **a quota exceeded** (403 whose message says ``exceeded quota``, what the ResourceQuota
  admission plugin answers while the namespace is full) can pass later, when other pods finish:
  retried with backoff, and the reason is written to the status meanwhile;
* **anything else** (422 Invalid, 400, any other 403 — RBAC, an admission webhook, a quota that
  demands limits the object lacks) gives the same answer to the same request: the step fails now
  with the API server's reason (``Forbidden``).

An object of the step's name that already exists and belongs to someone else is also decided
here (:func:`foreign_owner`): following it would report someone else's work, and waiting for it
would never end, so the step fails now with ``NameConflict`` — unless it is left over from an
earlier workflow of the same name that garbage collection is about to remove.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..cluster import ApiError, is_transient

__all__ = ["QUOTA_EXCEEDED", "Refusal", "foreign_owner", "quota_retry_delay", "refusal"]

#: What the ResourceQuota admission plugin writes when a namespace's quota is used up.
QUOTA_EXCEEDED = "exceeded quota"
_FIRST_RETRY_SECONDS = 2.0
_MAX_RETRY_SECONDS = 60.0


@dataclass(frozen=True)
class Refusal:
    """The API server refused a create: ``retry`` (a quota) or fail with ``message``."""

    retry: bool
    message: str


def refusal(kind: str, name: str, exc: ApiError) -> Refusal | None:
    """How to treat ``exc``, the answer to creating ``kind`` ``name``; None when it is transient
    (the caller re-raises it for the usual backoff)."""
    if is_transient(exc):
        return None
    said = f"the API server refused to create {kind} {name}: {exc.status} {exc.reason}: {exc.message}"
    if exc.status == 403 and QUOTA_EXCEEDED in exc.message:
        return Refusal(True, said)
    return Refusal(False, said)


def quota_retry_delay(waited_seconds: float) -> float:
    """Seconds until the next try after waiting ``waited_seconds`` for a quota: half of what was
    waited so far (so tries thin out geometrically), between 2 and 60 seconds. Computed from
    recorded times, not from a counter a restart would lose."""
    return min(_MAX_RETRY_SECONDS, max(_FIRST_RETRY_SECONDS, waited_seconds / 2))


def foreign_owner(obj: Mapping[str, Any], uid: str, owner_kind: str, same_name: str) -> str | None:
    """Why ``obj`` (found under the name a step's object must have) is not its owner's, or None
    when it is ``uid``'s or may still become free: left over from an earlier ``owner_kind`` named
    ``same_name`` (being deleted with it) — then the caller waits, as before."""
    meta = obj.get("metadata") or {}
    refs = meta.get("ownerReferences") or []
    if not uid or any(ref.get("uid") == uid for ref in refs):
        return None
    if meta.get("deletionTimestamp"):
        return None
    if any(ref.get("kind") == owner_kind and ref.get("name") == same_name for ref in refs):
        return None  # an earlier incarnation's, which garbage collection removes
    owners = ", ".join(f"{ref.get('kind')} {ref.get('name')}" for ref in refs) or "nobody (created by hand)"
    return (f"{obj.get('kind')} {meta.get('namespace')}/{meta.get('name')} already exists and belongs to {owners}, "
            f"not to this {owner_kind}; rename one of the workflows or delete that object")
