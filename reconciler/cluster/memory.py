"""``MemoryCluster``: an embedded, in-process Kubernetes API server with honest semantics.

What it does like a real API server: server-set uid / creationTimestamp / a global, monotonically
increasing resourceVersion / generation (bumped only when the desired state changes); 404, 409
AlreadyExists and 409 Conflict on stale writes; 422 on invalid names, labels and immutable
fields; status as a subresource; server-side apply with managed fields; label selectors; watches
with bounded replay, 410 Expired and bookmarks; finalizers; owner-reference garbage collection;
dry runs. Identical writes are not committed (no new revision, no event).

What it leaves out, on purpose: admission webhooks, schema validation of CRDs, namespaces as
prerequisites (objects may live in a namespace that was never created; deleting a Namespace does
not delete its contents), and controllers (no Pod ever runs; simulated workloads live elsewhere).

Concurrency: one re-entrant lock serialises every request; watches wait on a condition of that
lock, so a blocked ``Watch.next`` never holds up writers. A request body is copied in once, into
a read-only snapshot (checked to be plain JSON on the same walk), and stored objects are never
edited: a new version shares what it did not change. Every watcher of a change shares one
snapshot of it (``snapshots``: copy.deepcopy to edit), and so does every answer to a client made
with ``read_only_answers`` (kubernaut's controllers: client-go's "never mutate what the cache
gave you"); other callers get a private, mutable copy, as from a real API server.
Bounded for long runs: the request log keeps the newest records (exact counts of all), and
Events expire ``event_ttl`` seconds after their last write, as with the API server's --event-ttl.
"""

from __future__ import annotations

import builtins
import random
import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from ..clock import Clock, RealClock, rfc3339
from .base import JsonObject, LabelSelector, ObjectList, Propagation
from .deletion import Deleter, is_terminating
from .errors import ApiError, ApiTimeout, BadRequest, Conflict, Invalid, NotFound
from .event_ttl import DEFAULT_EVENT_TTL, EVENT_KINDS, EventExpiry
from .faults import WRITE_VERBS, FaultDecision, FaultInjector
from .memory_client import MemoryClient
from .memory_watch import MemoryWatch, WatchHub
from .objects import SERVER_METADATA, generation_content, immutable_violation, merge_patch
from .request_log import DEFAULT_MAX_RECORDS, RequestLog, RequestRecord
from .resources import TEKTON_ADDON, ResourceRegistry, ResourceType, default_registry
from .selectors import selector_from
from .server_side_apply import server_side_apply
from .snapshots import FrozenDict, freeze, json_copy
from .store import Key, Store, key_of
from .validation import json_body, validate_object

__all__ = ["MemoryCluster"]

T = TypeVar("T")
Outcome = tuple[T, int, bool]  # (answer, HTTP status, no-op)

_UNKNOWN_RESOURCE = "the server could not find the requested resource"
_PROPAGATIONS = ("Background", "Foreground", "Orphan")
# The alphabet apiserver uses for generateName suffixes (no vowels: no accidental words).
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_MAX_GENERATE_BASE = 58  # 63 - 5: the suffix always fits
_NO_FAULT = FaultDecision()  # immutable: shared by every request no injector touches


class MemoryCluster:
    """An in-memory ``Cluster``. ``seed`` makes uids and generated names reproducible."""

    def __init__(
        self,
        *,
        tekton_installed: bool = True,
        clock: Clock | None = None,
        seed: int | None = None,
        history_size: int = 1000,
        faults: FaultInjector | None = None,
        registry: ResourceRegistry | None = None,
        request_log_size: int = DEFAULT_MAX_RECORDS,
        event_ttl: float | None = DEFAULT_EVENT_TTL,
    ) -> None:
        """``request_log_size``: requests retained in :attr:`requests` (counts stay exact);
        ``event_ttl``: seconds after its last write an Event is deleted (None: never), the API
        server's ``--event-ttl``."""
        self.clock: Clock = clock or RealClock()
        #: Fault injector consulted on every request; assign or replace at any time (None: off).
        self.faults = faults
        self._registry = registry or default_registry()
        self._addons = {TEKTON_ADDON} if tekton_installed else set()
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._hub = WatchHub(threading.Condition(self._lock), history_size)
        self._store = Store(self._hub)
        self._deleter = Deleter(self._store, self._timestamp)
        self._log = RequestLog(request_log_size)
        self._events = EventExpiry(event_ttl, self._expire_event)
        self._client = threading.local()  # .name: who the current thread's request is for
        # Container logs by (namespace, pod, container): the kubelet's, not the API server's, so
        # they sit beside the store (no resourceVersion, no watch events), written by simulators.
        self._pod_logs: dict[tuple[str, str, str], str] = {}

    # -- the Cluster interface -------------------------------------------------------------------

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> JsonObject:
        def handle(rt: ResourceType, _body: None) -> Outcome[JsonObject]:
            return self._answer(self._existing(rt, self._key(rt, namespace, name))), 200, False

        return self._request("get", api_version, kind, namespace, name, handle)

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: LabelSelector = None,
    ) -> ObjectList:
        def handle(rt: ResourceType, _body: None) -> Outcome[ObjectList]:
            selector = selector_from(label_selector)
            scope = namespace if rt.namespaced else None
            items = [self._answer(o) for o in self._store.items((api_version, kind), scope)
                     if selector.matches(o["metadata"].get("labels"))]
            return ObjectList(items, str(self._store.revision)), 200, False

        return self._request("list", api_version, kind, namespace, None, handle)

    def create(self, obj: JsonObject, *, dry_run: bool = False) -> JsonObject:
        api_version, kind, namespace, name = _identity(obj)

        def handle(rt: ResourceType, body: JsonObject) -> Outcome[JsonObject]:
            # Only the top level and metadata are edited here; the rest stays the frozen body.
            meta = dict(body.get("metadata") or {})
            new = {**body, "metadata": meta}
            if meta.get("resourceVersion"):
                raise BadRequest("resourceVersion should not be set on objects to be created")
            self._place(rt, meta)
            if not meta.get("name"):
                meta["name"] = self._generate_name(rt, meta)
            if self._store.get(self._key_of(rt, meta)) is not None:
                raise self._already_exists(rt, meta["name"])
            return self._commit_new(rt, new, dry_run), 201, False

        return self._request("create", api_version, kind, namespace, name, handle, obj=obj, dry_run=dry_run)

    def update(self, obj: JsonObject, *, dry_run: bool = False) -> JsonObject:
        api_version, kind, namespace, name = _identity(obj)

        def handle(rt: ResourceType, body: JsonObject) -> Outcome[JsonObject]:
            meta = dict(body.get("metadata") or {})
            candidate = {**body, "metadata": meta}
            self._place(rt, meta)
            stored = self._existing(rt, self._key_of(rt, _require_name(rt, meta)))
            self._check_preconditions(rt, stored, meta.get("resourceVersion"), meta.get("uid"))
            # The stored parts are read-only snapshots: the new version shares them.
            for field in SERVER_METADATA:
                if field in stored["metadata"]:
                    meta[field] = stored["metadata"][field]
                else:
                    meta.pop(field, None)
            if rt.status_subresource:
                candidate.pop("status", None)
                if "status" in stored:
                    candidate["status"] = stored["status"]
            return self._commit_change(rt, stored, candidate, dry_run)

        return self._request("update", api_version, kind, namespace, name, handle, obj=obj, dry_run=dry_run)

    def apply(
        self,
        obj: JsonObject,
        *,
        field_manager: str = "kubernaut",
        force: bool = True,
        dry_run: bool = False,
    ) -> JsonObject:
        api_version, kind, namespace, name = _identity(obj)

        def handle(rt: ResourceType, body: JsonObject) -> Outcome[JsonObject]:
            if not field_manager:
                raise BadRequest("fieldManager is required for apply requests")
            meta = dict(body.get("metadata") or {})
            self._place(rt, meta)
            key = self._key_of(rt, _require_name(rt, meta))
            stored = self._store.get(key)
            if stored is None and meta.get("resourceVersion"):
                raise self._not_found(rt, meta["name"])
            if stored is not None:
                self._check_preconditions(rt, stored, meta.get("resourceVersion"), meta.get("uid"))
            skeleton = {"apiVersion": api_version, "kind": kind,
                        "metadata": {k: meta[k] for k in ("name", "namespace") if k in meta}}
            candidate = server_side_apply(stored or skeleton, body, rt, manager=field_manager, force=force,
                                          timestamp=self._timestamp())
            if stored is None:
                return self._commit_new(rt, candidate, dry_run), 201, False
            return self._commit_change(rt, stored, candidate, dry_run)

        return self._request("apply", api_version, kind, namespace, name, handle, obj=obj, dry_run=dry_run)

    def patch_status(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None,
        status: JsonObject,
        *,
        resource_version: str | None = None,
    ) -> JsonObject:
        def handle(rt: ResourceType, _body: None) -> Outcome[JsonObject]:
            if not rt.status_subresource:
                raise NotFound(_UNKNOWN_RESOURCE)  # no /status endpoint for this kind
            if not isinstance(status, dict):
                raise BadRequest("a status patch must be a JSON object")
            patch = json_body(status, "status")
            stored = self._existing(rt, self._key(rt, namespace, name))
            self._check_preconditions(rt, stored, resource_version, None)
            # Stored objects are never mutated: the new version shares the untouched parts (spec,
            # most of status), and the patched status is frozen as it is built.
            candidate = {**stored, "metadata": dict(stored["metadata"])}
            candidate["status"] = merge_patch(stored.get("status") or FrozenDict(), patch)
            if not candidate["status"] and "status" not in stored:
                del candidate["status"]
            return self._commit_change(rt, stored, candidate, dry_run=False)

        return self._request("patch_status", api_version, kind, namespace, name, handle)

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        propagation: Propagation = "Background",
        dry_run: bool = False,
    ) -> None:
        def handle(rt: ResourceType, _body: None) -> Outcome[None]:
            if propagation not in _PROPAGATIONS:
                raise BadRequest(f"propagationPolicy must be one of {', '.join(_PROPAGATIONS)}")
            key = self._key(rt, namespace, name)
            self._existing(rt, key)
            if not dry_run:
                self._deleter.delete(key, propagation)
            return None, 200, False

        self._request("delete", api_version, kind, namespace, name, handle, dry_run=dry_run)

    def watch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: LabelSelector = None,
        resource_version: str | None = None,
        allow_bookmarks: bool = False,
    ) -> MemoryWatch:
        """See ``Cluster.watch``. An expired resourceVersion is reported as one ERROR event (410,
        reason Expired) after which the watch is closed — client-go/kopf semantics."""

        def handle(rt: ResourceType, _body: None) -> Outcome[MemoryWatch]:
            scope = namespace if rt.namespaced else None
            watch = MemoryWatch(self._hub, (api_version, kind), scope, selector_from(label_selector),
                                allow_bookmarks, lambda: self._store.revision,
                                round_expires=self._watch_round_expires(kind))
            if resource_version == "0":
                for obj in self._store.items((api_version, kind), scope):
                    watch.added(obj)
            elif resource_version is not None:
                changes = self._hub.since(_parse_revision(resource_version))
                if changes is None:
                    watch.expire(ApiError(410, "Expired", f"too old resource version: {resource_version} "
                                                          f"({self._hub.compacted_through + 1})"))
                for change in changes or ():
                    watch.offer(change)
            watch.start()
            return watch, 200, False

        return self._request("watch", api_version, kind, namespace, None, handle)

    def has_kind(self, api_version: str, kind: str) -> bool:
        rt = self._registry.find(api_version, kind)
        with self._lock:
            return rt is not None and (rt.addon is None or rt.addon in self._addons)

    def read_pod_log(self, namespace: str, pod: str, container: str | None = None) -> str:
        """``PodLogs``: what a simulator wrote for the container (the first one when None)."""
        with self._lock:
            if container is None:
                container = next((c for (ns, p, c) in self._pod_logs if (ns, p) == (namespace, pod)), None)
            text = self._pod_logs.get((namespace, pod, container or ""))
        if text is None:
            raise NotFound(f'container "{container}" in pod "{pod}" has no log' if container
                           else f'pods "{pod}" not found')
        return text

    # -- helpers for tests and for ``kubernaut run`` ------------------------------------------------

    def client(self, name: str, *, read_only_answers: bool = False) -> MemoryClient:
        """This cluster as seen by a client called ``name``: its requests are logged (and
        counted by :meth:`request_counts`) under that name. ``read_only_answers``: the client
        never edits what it receives, so it is answered with the stored read-only snapshots
        themselves rather than a copy of each (editing one raises ``TypeError``)."""
        return MemoryClient(self, name, read_only_answers=read_only_answers)

    def acting_as(self, name: str, *, read_only_answers: bool = False) -> _ActingAs:
        """A context manager: this thread's requests inside the block are logged as made by
        client ``name`` (and answered with read-only snapshots when ``read_only_answers``)."""
        return _ActingAs(self._client, name, read_only_answers)

    def request_counts(self) -> dict[tuple[str, str, str], int]:
        """Exact counts of every request so far by (client, verb, kind), however many the
        bounded log still retains."""
        return self._log.counts()

    def write_pod_log(self, namespace: str, pod: str, container: str, text: str) -> None:
        """Record a container's log (the simulated kubelet's side of ``read_pod_log``)."""
        with self._lock:
            self._pod_logs[(namespace, pod, container)] = text

    def pod_logs(self) -> builtins.list[tuple[str, str, str, str]]:
        """Every recorded log as (namespace, pod, container, text), in key order."""
        with self._lock:
            return [(*key, text) for key, text in sorted(self._pod_logs.items())]

    @property
    def requests(self) -> builtins.list[RequestRecord]:
        """Every request so far, oldest first (a copy)."""
        return self._log.snapshot()

    def reset_requests(self) -> None:
        self._log.clear()

    def count(self, verb: str | None = None, kind: str | None = None, client: str | None = None) -> int:
        """How many requests matched ``verb``, ``kind`` and ``client`` (None: any); exact even
        after the bounded log has dropped old records."""
        return self._log.count(verb, kind, client)

    def objects(self, kind: str | None = None, namespace: str | None = None) -> builtins.list[JsonObject]:
        """Copies of the stored objects (optionally of one kind / namespace), in key order."""
        with self._lock:
            self._events.sweep(self.clock.monotonic())
            return [json_copy(o) for o in self._store.items(None, namespace)
                    if kind is None or o["kind"] == kind]

    @property
    def resource_version(self) -> str:
        """The current global revision (what a list would return)."""
        with self._lock:
            return str(self._store.revision)

    def set_tekton_installed(self, installed: bool) -> None:
        """Install or remove Tekton's CRDs at run time. Removing deletes every Tekton object
        (DELETED events, finalizers bypassed), as deleting a CRD does."""
        with self._lock:
            if installed:
                self._addons.add(TEKTON_ADDON)
                return
            self._addons.discard(TEKTON_ADDON)
            tekton = {(rt.api_version, rt.kind) for rt in self._registry if rt.addon == TEKTON_ADDON}
            for obj in builtins.list(self._store.items()):
                if (obj["apiVersion"], obj["kind"]) in tekton:
                    self._store.remove(key_of(obj))

    def compact_history(self) -> None:
        """Forget the change history: watches from any older resourceVersion now get 410."""
        with self._lock:
            self._hub.compact(self._store.revision)

    def close_watches(self) -> None:
        """End every open watch, as an API server restart or watch timeout does."""
        with self._lock:
            self._hub.close_all()

    # -- request plumbing ----------------------------------------------------------------------

    def _request(
        self,
        verb: str,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str | None,
        handle: Callable[[ResourceType, Any], Outcome[T]],
        *,
        obj: JsonObject | None = None,
        dry_run: bool = False,
    ) -> T:
        """Run one request under the lock: resolve the kind, take in the body (``obj``: a
        read-only copy, checked to be JSON, handed to ``handle``), consult the fault injector,
        act, log."""
        with self._lock:
            now = self.clock.monotonic()
            self._events.sweep(now)
            client = getattr(self._client, "name", "")
            decision = _NO_FAULT
            try:
                rt = self._resource_type(api_version, kind)
                if not rt.namespaced:
                    namespace = None
                elif verb not in ("list", "watch"):  # those two span all namespaces when None
                    namespace = namespace or "default"
                body = json_body(obj) if obj is not None else None
                if self.faults is not None:
                    decision = self.faults.decide(verb, kind, client)
                if decision.error is not None:
                    raise decision.error
                answer, status, no_op = handle(rt, body)
            except ApiError as exc:
                self._log.append(RequestRecord(verb, api_version, kind, namespace, name, exc.status,
                                               dry_run=dry_run, injected=exc is decision.error, client=client))
                raise
            if isinstance(answer, dict):
                name = answer["metadata"]["name"]  # generateName: log the name the server chose
                if verb in WRITE_VERBS and not dry_run and not no_op and (api_version, kind) in EVENT_KINDS:
                    self._events.touch(key_of(answer), now)
            if decision.lose_response and verb in WRITE_VERBS:
                self._log.append(RequestRecord(verb, api_version, kind, namespace, name, 504, no_op=no_op,
                                               dry_run=dry_run, injected=True, client=client))
                raise ApiTimeout(f"injected fault on {verb} {kind}: the request was carried out but "
                                 "the response was lost")
            # Positional: a NamedTuple built from keywords costs a dict per request.
            self._log.append(RequestRecord(verb, api_version, kind, namespace, name, status, no_op, dry_run, False,
                                           client))
            return answer

    def _watch_round_expires(self, kind: str) -> Callable[[], bool]:
        """Asked at the end of each round of a watch opened now: whether the fault injector ends
        it with 410 Expired (whichever injector is installed by then; for the opener's client)."""
        client = getattr(self._client, "name", "")

        def expires() -> bool:
            faults = self.faults
            return faults is not None and faults.expire_watch(kind, client)

        return expires

    def _expire_event(self, key: Key) -> None:
        """The Event's lease ran out: delete it (finalizers do not hold an expiring lease)."""
        if self._store.get(key) is not None:
            self._store.remove(key)

    def _resource_type(self, api_version: str, kind: str) -> ResourceType:
        rt = self._registry.find(api_version, kind)
        if rt is None or (rt.addon is not None and rt.addon not in self._addons):
            raise NotFound(_UNKNOWN_RESOURCE)
        return rt

    # -- object plumbing -----------------------------------------------------------------------

    def _timestamp(self) -> str:
        return rfc3339(self.clock.now())

    def _place(self, rt: ResourceType, meta: dict[str, Any]) -> None:
        """Default the namespace of namespaced kinds; drop it from cluster-scoped ones."""
        if rt.namespaced:
            meta["namespace"] = meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)

    def _key(self, rt: ResourceType, namespace: str | None, name: str) -> Key:
        return (rt.api_version, rt.kind, (namespace or "default") if rt.namespaced else "", name)

    def _key_of(self, rt: ResourceType, meta: dict[str, Any]) -> Key:
        return self._key(rt, meta.get("namespace"), meta["name"])

    def _existing(self, rt: ResourceType, key: Key) -> JsonObject:
        stored = self._store.get(key)
        if stored is None:
            raise self._not_found(rt, key[3])
        return stored

    @staticmethod
    def _not_found(rt: ResourceType, name: str) -> NotFound:
        return NotFound(f'{rt.group_resource} "{name}" not found')

    @staticmethod
    def _already_exists(rt: ResourceType, name: str) -> Conflict:
        return Conflict(f'{rt.group_resource} "{name}" already exists', reason="AlreadyExists")

    def _generate_name(self, rt: ResourceType, meta: dict[str, Any]) -> str:
        base = meta.get("generateName")
        if not base:
            raise Invalid(f'{rt.group_kind} "" is invalid: metadata.name: Required value: name or '
                          "generateName is required")
        for _ in range(100):  # the space is 27^5; collisions are rare and retried, as the server does
            name = str(base)[:_MAX_GENERATE_BASE] + "".join(self._rng.choices(_NAME_ALPHABET, k=5))
            if self._store.get(self._key(rt, meta.get("namespace"), name)) is None:
                return name
        raise self._already_exists(rt, name)

    def _check_preconditions(
        self, rt: ResourceType, stored: JsonObject, rv: str | None, uid: str | None
    ) -> None:
        meta = stored["metadata"]
        if rv and rv != meta["resourceVersion"]:
            raise Conflict(f'Operation cannot be fulfilled on {rt.group_resource} "{meta["name"]}": the '
                           "object has been modified; please apply your changes to the latest version "
                           "and try again")
        if uid and uid != meta["uid"]:
            raise Conflict(f'Operation cannot be fulfilled on {rt.group_resource} "{meta["name"]}": '
                           f"Precondition failed: UID in precondition: {uid}, "
                           f"UID in object meta: {meta['uid']}")

    def _answer(self, obj: JsonObject) -> JsonObject:
        """What a request answers with: for a client that asked for read-only answers, the
        stored snapshot itself (or a frozen ``obj``); for any other, a private mutable copy."""
        if getattr(self._client, "read_only", False):
            answer: JsonObject = freeze(obj)
            return answer
        return json_copy(obj)

    def _commit_new(self, rt: ResourceType, new: JsonObject, dry_run: bool) -> JsonObject:
        """Set server fields on a new object (its top level and metadata are the caller's to
        edit, the rest may be frozen), validate and store it (dry run: only return it)."""
        meta = new["metadata"]
        for field in SERVER_METADATA:
            if field != "managedFields":
                meta.pop(field, None)
        meta["uid"] = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        meta["creationTimestamp"] = self._timestamp()
        meta["generation"] = 1
        if rt.status_subresource:
            new.pop("status", None)  # a create never sets status where status is a subresource
        if rt.defaulter is not None:
            rt.defaulter(new)
        validate_object(rt, new)
        if dry_run:
            return self._answer(new)  # what would be stored; a dry-run create has no resourceVersion yet
        return self._answer(self._store.put(new))  # put sets the resourceVersion and freezes

    def _commit_change(self, rt: ResourceType, stored: JsonObject, candidate: JsonObject,
                       dry_run: bool) -> Outcome[JsonObject]:
        """Validate a replacement for ``stored`` and commit it, unless it changes nothing."""
        validate_object(rt, candidate, old=stored)
        name = stored["metadata"]["name"]
        if (path := immutable_violation(rt, stored, candidate)) is not None:
            raise Invalid(f'{rt.group_kind} "{name}" is invalid: {path}: Invalid value: the new value: '
                          "field is immutable")
        old_finalizers = stored["metadata"].get("finalizers") or []
        new_finalizers = candidate["metadata"].get("finalizers") or []
        if is_terminating(stored) and (added := sorted(set(new_finalizers) - set(old_finalizers))):
            raise Invalid(f'{rt.group_kind} "{name}" is invalid: metadata.finalizers: Forbidden: no new '
                          "finalizers can be added if the object is being deleted, "
                          f"found new finalizers {added}")
        generation = stored["metadata"].get("generation", 1)
        if generation_content(rt, candidate) != generation_content(rt, stored):
            generation += 1
        candidate["metadata"]["generation"] = generation
        if candidate == stored:
            return self._answer(stored), 200, True
        if dry_run:
            return self._answer(candidate), 200, False
        if is_terminating(stored) and not new_finalizers:
            return self._answer(self._deleter.finalize(self._key_of(rt, stored["metadata"]), candidate)), 200, False
        return self._answer(self._store.put(candidate)), 200, False


class _ActingAs:
    """``MemoryCluster.acting_as``: a plain class, not a ``contextlib`` generator, because every
    request of a named client enters one (a generator-based manager was 2% of a busy run)."""

    __slots__ = ("_client", "_local", "_previous")

    def __init__(self, local: threading.local, name: str, read_only_answers: bool) -> None:
        self._local, self._client = local, (name, read_only_answers)
        self._previous = ("", False)

    def __enter__(self) -> None:
        local = self._local
        self._previous = getattr(local, "name", ""), getattr(local, "read_only", False)
        local.name, local.read_only = self._client

    def __exit__(self, *_exc: object) -> None:
        self._local.name, self._local.read_only = self._previous


def _identity(obj: Any) -> tuple[str, str, str | None, str | None]:
    """apiVersion, kind, namespace and name of a request body, or 400 if it is not an object."""
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata", {}), dict):
        raise BadRequest("the request body must be a JSON object with a metadata object")
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        raise BadRequest("apiVersion and kind are required")
    meta = obj.get("metadata") or {}
    return api_version, kind, meta.get("namespace"), meta.get("name")


def _require_name(rt: ResourceType, meta: dict[str, Any]) -> dict[str, Any]:
    if not meta.get("name"):
        raise Invalid(f'{rt.group_kind} "" is invalid: metadata.name: Required value: name is required')
    return meta


def _parse_revision(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"invalid resourceVersion {text!r}: must be an integer") from None
    if value < 0:
        raise BadRequest(f"invalid resourceVersion {text!r}: must not be negative")
    return value
