"""Shared objects found in sync are not diffed again while they stay at the same version.

Every workflow's start applies what its engine shares with other workflows (the action types'
ServiceAccounts and RBAC, V2's meta-Task) with the diff-based loop (``reconciler.apply``): read,
diff the owned fields, write only what differs. Nearly always nothing differs, and diffing the
same desired object against the same observed version again for every workflow was a large part
of a workflow's start (the meta-Task is big). :class:`InSync` remembers, per object, the version
(uid and resourceVersion) it found in sync with a desired object, and the next plan leaves out an
object whose observed version and desired content are both unchanged. Any write to the object
(by anyone) gives it another resourceVersion, so nothing stale is ever trusted.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence

from ..apply import Action, ObjectKey, Plan, object_key, plan
from ..cluster import JsonObject

__all__ = ["InSync"]

_DEFAULT_SIZE = 1024


class InSync:
    """:func:`reconciler.apply.plan` that skips the objects it last found in sync (bounded, thread-safe)."""

    def __init__(self, max_entries: int = _DEFAULT_SIZE) -> None:
        self.max_entries = max_entries
        # key -> (uid, resourceVersion, the desired object it was in sync with)
        self._seen: OrderedDict[ObjectKey, tuple[str, str, JsonObject]] = OrderedDict()
        self._lock = threading.Lock()

    def plan(self, desired: Sequence[JsonObject], observed: Sequence[JsonObject], *,
             owned_selector: Mapping[str, str], default_namespace: str) -> Plan:
        """The plan for the objects not known to be in sync (for those it would be no-ops)."""
        live = {object_key(obj): obj for obj in observed}
        skipped: set[ObjectKey] = set()
        for obj in desired:
            key = object_key(obj)
            if key in live and self._in_sync(key, obj, live[key]):
                skipped.add(key)
        the_plan = plan([obj for obj in desired if object_key(obj) not in skipped],
                        [obj for key, obj in live.items() if key not in skipped],
                        owned_selector=owned_selector, default_namespace=default_namespace)
        for change in the_plan.changes:
            if (change.action is Action.NOOP and not change.waiting and change.desired is not None
                    and change.observed is not None):
                self._remember(change.key, change.desired, change.observed)
        return the_plan

    def _in_sync(self, key: ObjectKey, desired: JsonObject, live: JsonObject) -> bool:
        with self._lock:
            seen = self._seen.get(key)
        if seen is None:
            return False
        uid, version, was = seen
        meta = live["metadata"]
        return (meta.get("uid"), meta.get("resourceVersion")) == (uid, version) and desired == was

    def _remember(self, key: ObjectKey, desired: JsonObject, live: JsonObject) -> None:
        meta = live["metadata"]
        uid, version = meta.get("uid"), meta.get("resourceVersion")
        if not uid or not version:
            return
        entry = (str(uid), str(version), copy.deepcopy(desired))
        with self._lock:
            self._seen[key] = entry
            self._seen.move_to_end(key)
            while len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)
