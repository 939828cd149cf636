"""Target locks: at most one running WorkflowExecution per target (``spec.targetResource``).

Two remediations must never act on the same Deployment at once. The lock is a
``coordination.k8s.io/v1`` Lease, so it is crash-safe (it lives in the API server, not in a
controller's memory) and visible to other controllers (``kubectl get lease -A -l
kubernaut.ai/target-lock``):

* **Name**: ``kubernaut-target-<hash>``, the hash of the target's kind, namespace and name; it
  lives in the target's namespace, so workflows of every namespace meet at the same object.
* **Holder**: ``spec.holderIdentity`` is ``<namespace>/<name>/<uid>`` of the WorkflowExecution that
  holds it, which also owns it (an ownerReference, when it is in the same namespace) so garbage
  collection releases it with a deleted holder. Every write is conditional on the version read:
  of two controllers racing for a free Lease exactly one wins (409 for the other).
* **Waiting**: a workflow whose target is held stays ``Pending`` with condition ``TargetLocked``
  naming the holder. Workflows of a target carry the label ``kubernaut.ai/target-lock: <hash>``,
  so the waiters are found with one labelled list; a free lock goes to the earliest created
  waiter (creation time, then namespace/name), whichever waiter's reconcile notices first.
* **Release**: when the holder ends (its final status persisted) or is deleted, the Lease is freed
  (holder cleared, conditionally). The Lease freed is the one recorded on the workflow
  (annotation ``kubernaut.ai/target-lease``, written with the lock label before the lock is
  taken), not one compiled from the current spec: a spec edited underneath (``SpecModified``)
  may name another target. A holder that no longer exists, or has finished, is taken over
  (the crash between "finished" and "released" leaves nothing stuck).

``lockPolicy: fail`` does not wait: the workflow ends at once, Failed with reason
``Deduplicated``.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import Any

from compiler import ir
from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND
from targets.common.labels import MANAGED_BY, MANAGER

from .clock import Clock, rfc3339
from .cluster import Cluster, Conflict, JsonObject, NotFound

__all__ = [
    "LEASE_ANNOTATION",
    "LEASE_API_VERSION",
    "LOCK_LABEL",
    "LockState",
    "TargetLocks",
    "holder_identity",
    "lease_name",
    "lock_key",
]

LEASE_API_VERSION = "coordination.k8s.io/v1"
LEASE_KIND = "Lease"
#: On WorkflowExecutions with a target and on their Leases: the lock's hash.
LOCK_LABEL = "kubernaut.ai/target-lock"
_TARGET_ANNOTATION = "kubernaut.ai/target"
#: On WorkflowExecutions with a target: ``<namespace>/<name>`` of the Lease its lock is.
LEASE_ANNOTATION = "kubernaut.ai/target-lease"
_MANAGED_BY = {MANAGED_BY: MANAGER}
_TERMINAL = frozenset({"Succeeded", "Failed", "Cancelled"})
_RELEASE_TRIES = 3


def lock_key(target: ir.TargetRef) -> str:
    """The lock's hash: one per object, whatever API version a workflow names it with."""
    text = f"{target.kind.lower()}/{target.namespace}/{target.name}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def lease_name(target: ir.TargetRef) -> str:
    return f"kubernaut-target-{lock_key(target)}"


def describe(target: ir.TargetRef) -> str:
    return f"{target.kind} {target.namespace}/{target.name}"


def holder_identity(wfe: JsonObject) -> str:
    meta = wfe["metadata"]
    return f"{meta.get('namespace') or 'default'}/{meta['name']}/{meta.get('uid') or ''}"


@dataclass(frozen=True)
class LockState:
    """The outcome of :meth:`TargetLocks.acquire`: ``held`` by this workflow, or not, and then
    ``holder`` is who has it (``namespace/name``) or who is ahead in line."""

    held: bool
    holder: str | None = None
    message: str = ""


def _name_of(identity: str) -> str:
    return "/".join(identity.split("/")[:2])


class TargetLocks:
    """Acquire and release target Leases for the WorkflowExecution controller."""

    def __init__(self, cluster: Cluster, clock: Clock) -> None:
        self.cluster = cluster
        self.clock = clock

    # -- labels ------------------------------------------------------------------------------------

    def label(self, wfe: JsonObject, target: ir.TargetRef) -> JsonObject:
        """``wfe`` with the lock label (so waiters are found by a labelled list) and the Lease's
        annotation (so the release frees this Lease whatever the spec says later), written once."""
        labels = dict(wfe["metadata"].get("labels") or {})
        annotations = dict(wfe["metadata"].get("annotations") or {})
        key = lock_key(target)
        lease = f"{target.namespace}/{lease_name(target)}"
        if labels.get(LOCK_LABEL) == key and annotations.get(LEASE_ANNOTATION) == lease:
            return wfe
        changed = copy.deepcopy(wfe)
        changed["metadata"]["labels"] = {**labels, LOCK_LABEL: key}
        changed["metadata"]["annotations"] = {**annotations, LEASE_ANNOTATION: lease}
        return self.cluster.update(changed)

    # -- acquiring -----------------------------------------------------------------------------------

    def acquire(self, wfe: JsonObject, target: ir.TargetRef, *, started: bool) -> LockState:
        """Take the lock for ``wfe`` if it is free and ``wfe`` is first in line (or ``started``:
        it already holds it or held it before a crash). Raises Conflict when another controller
        wrote the Lease meanwhile (the caller retries)."""
        me = holder_identity(wfe)
        lease = self._lease(target)
        holder = str(((lease or {}).get("spec") or {}).get("holderIdentity") or "")
        if holder == me:
            return LockState(True)
        if holder and self._alive(holder):
            return LockState(False, _name_of(holder), f"{describe(target)} is locked by WorkflowExecution "
                                                      f"{_name_of(holder)}")
        if not started:
            first = self._first_waiter(target)
            if first is not None and holder_identity(first) != me:
                name = holder_identity(first)
                return LockState(False, _name_of(name), f"{describe(target)} is free; WorkflowExecution "
                                                        f"{_name_of(name)} was created earlier and goes first")
        self._take(wfe, target, lease)
        return LockState(True)

    def _lease(self, target: ir.TargetRef) -> JsonObject | None:
        try:
            return self.cluster.get(LEASE_API_VERSION, LEASE_KIND, lease_name(target), target.namespace)
        except NotFound:
            return None

    def _alive(self, identity: str) -> bool:
        """Whether the holder still exists and has not finished (else its lock may be taken over)."""
        parts = identity.split("/")
        if len(parts) != 3:
            return False
        namespace, name, uid = parts
        try:
            holder = self.cluster.get(WFE_API_VERSION, WFE_KIND, name, namespace)
        except NotFound:
            return False
        if uid and holder["metadata"].get("uid") != uid:
            return False  # a newer workflow of the same name
        # A cancelled or deleted holder still stops what it runs: it holds on until its final
        # status is written.
        return (holder.get("status") or {}).get("phase") not in _TERMINAL

    def _first_waiter(self, target: ir.TargetRef) -> JsonObject | None:
        """The earliest created workflow of the target that has not started and still may.

        Every WorkflowExecution is read here, not only the labelled ones: a workflow whose first
        reconcile (which labels it) has not happened yet, or failed, still goes first if it was
        created first. This runs only when the lock is free, once per waiter and handoff."""
        items = [w for w in self.cluster.list(WFE_API_VERSION, WFE_KIND).items if _targets(w, target)]
        waiting = [w for w in items
                   if (w.get("status") or {}).get("phase") not in _TERMINAL
                   and not (w.get("status") or {}).get("engine")
                   and not w["metadata"].get("deletionTimestamp")
                   and not (w.get("spec") or {}).get("cancel")
                   and (w.get("spec") or {}).get("lockPolicy", "wait") != "fail"]
        if not waiting:
            return None
        return min(waiting, key=lambda w: (str(w["metadata"].get("creationTimestamp") or ""),
                                           str(w["metadata"].get("namespace") or ""), w["metadata"]["name"]))

    def _take(self, wfe: JsonObject, target: ir.TargetRef, lease: JsonObject | None) -> None:
        now = rfc3339(self.clock.now())
        meta = wfe["metadata"]
        owners: list[dict[str, Any]] = []
        if (meta.get("namespace") or "default") == target.namespace and meta.get("uid"):
            owners = [{"apiVersion": wfe["apiVersion"], "kind": wfe["kind"], "name": meta["name"],
                       "uid": meta["uid"], "controller": False, "blockOwnerDeletion": False}]
        spec = {"holderIdentity": holder_identity(wfe), "acquireTime": now, "renewTime": now,
                "leaseTransitions": int(((lease or {}).get("spec") or {}).get("leaseTransitions") or 0)
                + (1 if lease is not None else 0)}
        if lease is None:
            self.cluster.create({
                "apiVersion": LEASE_API_VERSION, "kind": LEASE_KIND,
                "metadata": {"name": lease_name(target), "namespace": target.namespace,
                             "labels": {**_MANAGED_BY, LOCK_LABEL: lock_key(target)},
                             "annotations": {_TARGET_ANNOTATION: describe(target)},
                             "ownerReferences": owners},
                "spec": spec,
            })  # Conflict(already exists): someone else was faster
            return
        changed = copy.deepcopy(lease)
        changed["metadata"]["ownerReferences"] = owners
        changed["spec"] = {**(lease.get("spec") or {}), **spec}
        self.cluster.update(changed)  # conditional on the version read: Conflict if it changed

    # -- releasing -----------------------------------------------------------------------------------

    def release(self, wfe: JsonObject, target: ir.TargetRef) -> None:
        """Free ``target``'s Lease if ``wfe`` holds it (conditionally: a takeover in between wins).
        Raises Conflict when the Lease kept changing (the caller retries)."""
        self._free(wfe, target.namespace, lease_name(target))

    def release_recorded(self, wfe: JsonObject) -> bool:
        """Free the Lease recorded on ``wfe`` (:data:`LEASE_ANNOTATION`) if ``wfe`` holds it; False
        when none is recorded (a workflow without a target, or labelled by an older release).
        Only a Lease held by ``wfe`` itself is freed, so an edited annotation frees nothing else."""
        recorded = str((wfe["metadata"].get("annotations") or {}).get(LEASE_ANNOTATION) or "")
        namespace, _, name = recorded.partition("/")
        if not namespace or not name:
            return False
        self._free(wfe, namespace, name)
        return True

    def _free(self, wfe: JsonObject, namespace: str, name: str) -> None:
        for _ in range(_RELEASE_TRIES):
            try:
                lease: JsonObject | None = self.cluster.get(LEASE_API_VERSION, LEASE_KIND, name, namespace)
            except NotFound:
                lease = None
            if lease is None or (lease.get("spec") or {}).get("holderIdentity") != holder_identity(wfe):
                return  # gone, or taken over: not ours any more
            changed = copy.deepcopy(lease)
            changed["metadata"]["ownerReferences"] = []
            changed["spec"] = {k: v for k, v in (lease.get("spec") or {}).items() if k != "holderIdentity"}
            try:
                self.cluster.update(changed)
                return
            except NotFound:
                return
            except Conflict:
                continue  # written meanwhile: read it again
        raise Conflict(f"Lease {namespace}/{name} kept changing while being released")

    def holders(self, target: ir.TargetRef) -> str | None:
        """Who holds the target's Lease (``namespace/name/uid``), for tests and tools."""
        lease = self._lease(target)
        return ((lease or {}).get("spec") or {}).get("holderIdentity")


def _targets(wfe: JsonObject, target: ir.TargetRef) -> bool:
    """Whether ``wfe``'s spec names ``target`` (read from the raw spec: no compiling)."""
    raw = (wfe.get("spec") or {}).get("targetResource")
    if not isinstance(raw, dict):
        return False
    namespace = raw.get("namespace") or wfe["metadata"].get("namespace") or "default"
    return (str(raw.get("kind") or "").lower(), namespace, raw.get("name")) == \
        (target.kind.lower(), target.namespace, target.name)
