"""The routing policy, kept current from a ConfigMap without restarting the controller.

``PolicySource`` lists the ConfigMap's namespace, then watches it (informer-style: re-list after a
410, resume a closed watch from the last resourceVersion, back off on API errors) and swaps the
current policy as a whole whenever ``data[key]`` changes. This is the seed's "feature flag
revert: 30 seconds": an operator edits the ConfigMap and the next workflow is routed by it.

* The ConfigMap or the key is missing: the built-in default policy (everything on V1 Jobs).
* The new text is invalid: the last good policy stays in force, and the located diagnostics are
  exposed (``state.error``, and ``on_change``) for the controller to log and emit as an Event.

Readers call :meth:`PolicySource.current` from any thread: the state is one immutable object
replaced by a single reference assignment, so a reader sees the old policy or the new one, never
a mix. Decisions already recorded in ``status.engine`` are unaffected (stickiness).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from compiler.diagnostics import Diagnostic

from ..cluster import ApiError, Cluster, Gone, JsonObject, Watch
from ..workqueue import Backoff
from .model import RoutingPolicy, default_policy, parse_policy

__all__ = ["DEFAULT_CONFIGMAP", "DEFAULT_KEY", "PolicySource", "PolicyState"]

log = logging.getLogger(__name__)

DEFAULT_CONFIGMAP = "kubernaut-config"
DEFAULT_KEY = "routing.yaml"

# How long one blocking watch read waits; bounds how quickly stop() is noticed.
_WATCH_WAIT_SECONDS = 0.5


@dataclass(frozen=True)
class PolicyState:
    """What the source currently routes by, and what went wrong with the newest config."""

    policy: RoutingPolicy
    origin: str  # where `policy` came from, for logs and `kubectl describe`
    resource_version: str | None = None  # of the ConfigMap the policy was read from
    diagnostics: tuple[Diagnostic, ...] = ()  # problems of the newest text (policy = last good)
    error: str | None = None  # the diagnostics rendered compiler-style, for an Event or a log

    @property
    def ok(self) -> bool:
        return self.error is None


Listener = Callable[[PolicyState, PolicyState], None]  # (previous, current)


class PolicySource:
    """The routing policy from ConfigMap ``namespace/name``, key ``key``, reloaded on change."""

    def __init__(
        self,
        cluster: Cluster,
        namespace: str,
        name: str = DEFAULT_CONFIGMAP,
        key: str = DEFAULT_KEY,
        *,
        on_change: Listener | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.name = name
        self.key = key
        self.on_change = on_change
        self._backoff = backoff or Backoff(base=0.5, cap=30.0)
        self._state = PolicyState(default_policy(), self._default_origin("not read yet"))
        self._seen_text: str | None = None  # last text parsed (good or bad), to skip no-op events
        self._watch: Watch | None = None
        self._rv: str | None = None
        self._needs_list = True
        self._failures = 0
        self._poll_lock = threading.Lock()  # one poll at a time: the thread or a test, not both
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- reading ----------------------------------------------------------------------------------

    def current(self) -> RoutingPolicy:
        """The policy in force now (safe from any thread)."""
        return self._state.policy

    @property
    def state(self) -> PolicyState:
        return self._state

    @property
    def error(self) -> str | None:
        """Why the newest config was rejected (the last good policy is in force), or None."""
        return self._state.error

    @property
    def file_label(self) -> str:
        """How diagnostics name the config: ``configmap/<ns>/<name>/<key>:line:col``."""
        return f"configmap/{self.namespace}/{self.name}/{self.key}"

    # -- driving ----------------------------------------------------------------------------------

    def poll(self, timeout: float = 0.0) -> int:
        """Read what changed (listing first if needed), waiting up to ``timeout`` seconds for the
        first watch event. Returns the number of events handled; API errors are logged and
        raise nothing (the last good policy stays)."""
        with self._poll_lock:
            try:
                handled = 0
                if self._needs_list:
                    self._list()
                    handled += 1
                if self._watch is None:
                    self._start_watch()
                handled += self._drain(timeout)
                self._failures = 0
                return handled
            except ApiError as exc:
                self._failures += 1
                log.warning("routing: reading ConfigMap %s/%s failed (%s); keeping the current policy",
                            self.namespace, self.name, exc)
                return 0

    def retry_delay(self) -> float:
        """How long the background thread waits after a failed poll."""
        return self._backoff.delay(self._failures)

    def start(self) -> PolicySource:
        """Read the ConfigMap once (so ``current()`` is right on return), then keep watching in a
        daemon thread until :meth:`stop`."""
        if self._thread is not None:
            raise RuntimeError("PolicySource is already started")
        self.poll()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"routing-{self.namespace}-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        # Close without taking the poll lock: the watch thread holds it while blocked in
        # Watch.next, and closing is what wakes it (closing twice is harmless).
        watch = self._watch
        if watch is not None:
            watch.close()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._poll_lock:
            self._close_watch()

    def __enter__(self) -> PolicySource:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll(_WATCH_WAIT_SECONDS)
            except Exception:  # a bug must not silently freeze routing on an old policy forever
                self._failures += 1
                log.exception("routing: unexpected error while watching the routing ConfigMap")
            if self._failures:
                self._stop.wait(self.retry_delay())

    # -- list and watch -----------------------------------------------------------------------------

    def _list(self) -> None:
        result = self.cluster.list("v1", "ConfigMap", self.namespace)
        found = next((o for o in result.items if (o.get("metadata") or {}).get("name") == self.name), None)
        self._apply(found)
        self._rv = result.resource_version
        self._needs_list = False
        self._close_watch()

    def _start_watch(self) -> None:
        try:
            # No field selectors in the Cluster interface: watch the namespace's ConfigMaps and
            # ignore the others (a handful per namespace; events are cheap).
            self._watch = self.cluster.watch("v1", "ConfigMap", self.namespace,
                                             resource_version=self._rv, allow_bookmarks=True)
        except Gone:
            self._relist()
            raise

    def _drain(self, timeout: float) -> int:
        handled = 0
        while self._watch is not None and not self._stop.is_set():
            watch = self._watch
            event = watch.next(timeout if handled == 0 else 0.0)
            if event is None:
                if getattr(watch, "closed", False):
                    self._close_watch()  # ended without error: resume from self._rv next poll
                break
            handled += 1
            if event.type == "ERROR":
                log.info("routing: ConfigMap watch ended (%s); re-listing", event.object.get("reason"))
                self._relist()
                break
            meta = event.object.get("metadata") or {}
            if meta.get("resourceVersion"):
                self._rv = meta["resourceVersion"]
            if event.type == "BOOKMARK" or meta.get("name") != self.name:
                continue
            self._apply(None if event.type == "DELETED" else event.object)
        return handled

    def _relist(self) -> None:
        self._needs_list = True
        self._rv = None
        self._close_watch()

    def _close_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    # -- applying a ConfigMap ---------------------------------------------------------------------

    def _default_origin(self, why: str) -> str:
        return f"built-in default (all workflows on jobs): {why}"

    def _apply(self, configmap: JsonObject | None) -> None:
        previous = self._state
        if configmap is None:
            self._seen_text = None
            new = PolicyState(default_policy(),
                              self._default_origin(f"ConfigMap {self.namespace}/{self.name} not found"))
        else:
            rv = (configmap.get("metadata") or {}).get("resourceVersion")
            text = (configmap.get("data") or {}).get(self.key)
            if text is None:
                self._seen_text = None
                new = PolicyState(default_policy(), self._default_origin(
                    f"ConfigMap {self.namespace}/{self.name} has no key '{self.key}'"), rv)
            elif text == self._seen_text:
                return  # another key or only metadata changed: nothing to re-parse or report
            else:
                self._seen_text = text
                new = self._parse(text, rv, previous)
        if new == previous:
            return
        self._state = new  # the atomic swap readers rely on
        self._announce(previous, new)

    def _parse(self, text: str, rv: str | None, previous: PolicyState) -> PolicyState:
        loaded = parse_policy(self.file_label, text)
        if loaded.ok and loaded.policy is not None:
            return PolicyState(loaded.policy, f"ConfigMap {self.namespace}/{self.name} key '{self.key}'",
                               rv, loaded.diagnostics)
        # Keep routing by the last good policy: a typo must not flip traffic between engines.
        return replace(previous, diagnostics=loaded.diagnostics, error=loaded.render())

    def _announce(self, previous: PolicyState, new: PolicyState) -> None:
        if new.error is not None:
            log.warning("routing: rejected new %s (keeping %s):\n%s", self.file_label, new.origin, new.error)
        else:
            log.info("routing: now using %s (resourceVersion %s)", new.origin, new.resource_version)
        if self.on_change is not None:
            try:
                self.on_change(previous, new)
            except Exception:  # a listener bug must not stop reloads
                log.exception("routing: on_change listener failed")
