"""Kubernetes Events (``v1 Event``) about the objects kubernaut manages.

Repeats of the same (object, type, reason) are aggregated into one Event whose ``count`` grows
and whose ``lastTimestamp`` and message follow the latest occurrence — what ``kubectl describe``
shows as "(x3 over 2m)". The Event's name is derived from that triple, so aggregation survives a
controller restart and two replicas agree on it.

The recorder remembers the Events it wrote (a bounded LRU, like client-go's event correlator), so
a repeat is one update carrying the remembered resourceVersion — no GET first. Only when that
update meets a 409 (someone else wrote the Event, or it expired) or a create finds the name
taken (another replica, a restart) does it read the Event and aggregate onto what it finds.

Recording is best effort, as in client-go: an API error is logged and swallowed, never raised
into a reconcile, because an Event is an observation, not part of the desired state.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Literal

from .clock import Clock, RealClock, rfc3339
from .cluster import ApiError, Cluster, Conflict, JsonObject, NotFound

__all__ = ["EventRecorder", "EventType", "event_name"]

log = logging.getLogger(__name__)

EventType = Literal["Normal", "Warning"]

# client-go's recorder truncates messages to 1 KiB; longer ones are noise in `kubectl describe`.
_MAX_MESSAGE = 1024
_MAX_NAME = 253
_WRITE_ATTEMPTS = 12  # client-go: maxTriesPerEvent; conflicts beyond that drop the event
_REMEMBERED = 4096  # client-go's event cache size (maxLruCacheEntries)


def event_name(involved: Mapping[str, Any], event_type: str, reason: str) -> str:
    """``<object name>.<16 hex>``: stable for one (object uid or identity, type, reason)."""
    meta = involved.get("metadata") or {}
    identity = "/".join(str(x) for x in (
        meta.get("uid") or "", involved.get("apiVersion"), involved.get("kind"),
        meta.get("namespace") or "", meta.get("name"), event_type, reason))
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return f"{str(meta.get('name'))[: _MAX_NAME - 17]}.{digest}"


def _truncate(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 3] + "..."


class EventRecorder:
    """Writes aggregated core/v1 Events through a ``Cluster``."""

    def __init__(
        self,
        cluster: Cluster,
        component: str = "kubernaut",
        *,
        clock: Clock | None = None,
        instance: str | None = None,
        default_namespace: str = "default",
    ) -> None:
        self.cluster = cluster
        self.component = component
        self.clock: Clock = clock or RealClock()
        self.instance = instance
        self.default_namespace = default_namespace
        self._lock = threading.Lock()  # one read-modify-write per recorder at a time
        # (namespace, name) -> the Event as this recorder last wrote it, most recent last.
        self._written: OrderedDict[tuple[str, str], JsonObject] = OrderedDict()
        self._stale: set[tuple[str, str]] = set()  # read these before writing: someone else wrote them

    def normal(self, involved: Mapping[str, Any], reason: str, message: str) -> JsonObject | None:
        return self.event(involved, "Normal", reason, message)

    def warning(self, involved: Mapping[str, Any], reason: str, message: str) -> JsonObject | None:
        return self.event(involved, "Warning", reason, message)

    def event(
        self, involved: Mapping[str, Any], event_type: EventType, reason: str, message: str
    ) -> JsonObject | None:
        """Record one occurrence; returns the Event as stored, or None if it could not be written."""
        if event_type not in ("Normal", "Warning"):
            raise ValueError(f"event type must be Normal or Warning, not {event_type!r}")
        meta = involved.get("metadata") or {}
        namespace = meta.get("namespace") or self.default_namespace
        name = event_name(involved, event_type, reason)
        now = rfc3339(self.clock.now())
        with self._lock:
            for _ in range(_WRITE_ATTEMPTS):
                try:
                    return self._remember(self._write(involved, namespace, name, event_type, reason,
                                                      _truncate(message), now))
                except Conflict:
                    # AlreadyExists (created elsewhere) or a stale count: forget what we
                    # remembered, read the Event and aggregate onto it.
                    self._written.pop((namespace, name), None)
                    self._stale.add((namespace, name))
                    continue
                except NotFound:
                    self._written.pop((namespace, name), None)  # expired or deleted: create it again
                    continue
                except ApiError as exc:
                    log.warning("could not record %s event %s on %s/%s: %s", event_type, reason,
                                involved.get("kind"), meta.get("name"), exc)
                    return None
        log.warning("could not record %s event %s on %s/%s: too many conflicts", event_type, reason,
                    involved.get("kind"), meta.get("name"))
        return None

    def _remember(self, event: JsonObject) -> JsonObject:
        key = (event["metadata"].get("namespace") or self.default_namespace, event["metadata"]["name"])
        self._written[key] = event
        self._written.move_to_end(key)
        while len(self._written) > _REMEMBERED:
            self._written.popitem(last=False)
        return event

    def _write(self, involved: Mapping[str, Any], namespace: str, name: str, event_type: str,
               reason: str, message: str, now: str) -> JsonObject:
        key = (namespace, name)
        if key in self._stale:
            self._stale.discard(key)
            try:
                existing: JsonObject | None = self.cluster.get("v1", "Event", name, namespace)
            except NotFound:
                existing = None
        else:
            existing = self._written.get(key)
        if existing is None:
            return self.cluster.create(self._new(involved, namespace, name, event_type, reason, message, now))
        updated = dict(existing)
        updated["count"] = int(existing.get("count") or 1) + 1
        updated["lastTimestamp"] = now
        updated["message"] = message
        # update() carries existing's resourceVersion: a concurrent writer makes this a 409.
        return self.cluster.update(updated)

    def _new(self, involved: Mapping[str, Any], namespace: str, name: str, event_type: str, reason: str,
             message: str, now: str) -> JsonObject:
        meta = involved.get("metadata") or {}
        ref = {"apiVersion": involved.get("apiVersion"), "kind": involved.get("kind"),
               "name": meta.get("name")}
        if meta.get("namespace"):
            ref["namespace"] = meta["namespace"]
        if meta.get("uid"):
            ref["uid"] = meta["uid"]
        if meta.get("resourceVersion"):
            ref["resourceVersion"] = meta["resourceVersion"]
        source: dict[str, str] = {"component": self.component}
        event: JsonObject = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": ref,
            "type": event_type,
            "reason": reason,
            "message": message,
            "source": source,
            "reportingComponent": self.component,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
        }
        if self.instance:
            event["reportingInstance"] = self.instance
            source["host"] = self.instance
        return event

    def events_for(self, involved: Mapping[str, Any]) -> list[JsonObject]:
        """The Events recorded about ``involved`` (by uid when it has one), oldest first."""
        meta = involved.get("metadata") or {}
        namespace = meta.get("namespace") or self.default_namespace
        found = []
        for event in self.cluster.list("v1", "Event", namespace).items:
            ref = event.get("involvedObject") or {}
            same = (ref.get("uid") == meta["uid"]) if meta.get("uid") else (
                ref.get("kind") == involved.get("kind") and ref.get("name") == meta.get("name"))
            if same:
                found.append(event)
        return sorted(found, key=lambda e: (e.get("firstTimestamp") or "", e["metadata"]["name"]))
