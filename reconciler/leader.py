"""Leader election on a ``coordination.k8s.io/v1`` Lease, so only one controller replica acts.

The algorithm is client-go's ``leaderelection`` package, over any ``Cluster``:

* The Lease records ``holderIdentity``, ``leaseDurationSeconds``, ``acquireTime``, ``renewTime``
  and ``leaseTransitions``. Every write is an ``update`` carrying the ``resourceVersion`` that was
  read, so of two candidates racing for the same Lease exactly one wins; the other gets a 409.
* A candidate takes the Lease only when it is free (no holder) or expired. Expiry is judged on
  this process's own monotonic clock — "the record has not changed for ``lease_duration`` since
  I first saw it" — never by comparing ``renewTime`` with the local wall clock, so clock skew
  between nodes cannot make two replicas lead at once. The price: a newcomer waits one full
  lease duration before taking over an abandoned Lease.
* The leader renews every ``retry_period``; if no renewal succeeds for ``renew_deadline`` it
  stops leading (``renew_deadline < lease_duration`` leaves a margin before anyone else may
  take over). On a clean stop it releases the Lease, so a successor starts at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .clock import Clock, RealClock
from .cluster import ApiError, Cluster, Conflict, JsonObject, NotFound

__all__ = ["LeaderElector", "LeaseRecord", "default_identity"]

log = logging.getLogger(__name__)

LEASE_API_VERSION = "coordination.k8s.io/v1"
LEASE_KIND = "Lease"


def default_identity() -> str:
    """``<hostname>_<random>``: unique per process (a pod's hostname is its name), so a restarted
    controller is a new candidate and never mistakes a predecessor's Lease for its own."""
    return f"{os.environ.get('HOSTNAME') or socket.gethostname()}_{uuid.uuid4().hex[:12]}"


def micro_time(dt: datetime) -> str:
    """Lease times are ``MicroTime``: RFC 3339 with exactly six fractional digits."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class LeaseRecord:
    """The election fields of a Lease's spec."""

    holder: str
    lease_duration: int
    acquire_time: str | None
    renew_time: str | None
    transitions: int

    @classmethod
    def of(cls, lease: JsonObject) -> LeaseRecord:
        spec = lease.get("spec") or {}
        return cls(str(spec.get("holderIdentity") or ""), int(spec.get("leaseDurationSeconds") or 0),
                   spec.get("acquireTime"), spec.get("renewTime"), int(spec.get("leaseTransitions") or 0))

    def spec(self) -> JsonObject:
        return {"holderIdentity": self.holder, "leaseDurationSeconds": self.lease_duration,
                "acquireTime": self.acquire_time, "renewTime": self.renew_time,
                "leaseTransitions": self.transitions}


class LeaderElector:
    """Competes for the Lease ``namespace/name`` as ``identity``. Durations are in seconds.

    Use :meth:`run` in a controller process, or call :meth:`try_acquire_or_renew` yourself.
    """

    def __init__(
        self,
        cluster: Cluster,
        namespace: str,
        name: str = "kubernaut-controller",
        *,
        identity: str | None = None,
        lease_duration: float = 15,
        renew_deadline: float = 10,
        retry_period: float = 2,
        clock: Clock | None = None,
        release_on_stop: bool = True,
    ) -> None:
        if not lease_duration > renew_deadline > retry_period > 0:
            raise ValueError("need lease_duration > renew_deadline > retry_period > 0, got "
                             f"{lease_duration}, {renew_deadline}, {retry_period}")
        self.cluster = cluster
        self.namespace = namespace
        self.name = name
        self.identity = identity or default_identity()
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.clock: Clock = clock or RealClock()
        self.release_on_stop = release_on_stop
        self._lock = threading.Lock()
        self._observed: LeaseRecord | None = None
        self._observed_at = 0.0  # monotonic time the observed record last changed

    # -- one round --------------------------------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        """Whether the Lease, as last read or written by this elector, names us as holder."""
        with self._lock:
            return self._observed is not None and self._observed.holder == self.identity

    def try_acquire_or_renew(self) -> bool:
        """One attempt to take or keep the Lease; True when we hold it afterwards.

        API errors count as a failed attempt (logged): the caller simply tries again later.
        """
        with self._lock:
            try:
                return self._attempt()
            except ApiError as exc:
                log.warning("leader election %s/%s: %s", self.namespace, self.name, exc)
                return False

    def _attempt(self) -> bool:
        now = self.clock.now()
        try:
            lease = self.cluster.get(LEASE_API_VERSION, LEASE_KIND, self.name, self.namespace)
        except NotFound:
            return self._create(now)
        current = LeaseRecord.of(lease)
        if current != self._observed:
            self._observed, self._observed_at = current, self.clock.monotonic()
        held_by_other = current.holder and current.holder != self.identity
        duration = current.lease_duration or self.lease_duration
        if held_by_other and self.clock.monotonic() < self._observed_at + duration:
            return False
        if current.holder == self.identity:
            record = LeaseRecord(self.identity, self._lease_seconds(), current.acquire_time, micro_time(now),
                                 current.transitions)
        else:
            record = LeaseRecord(self.identity, self._lease_seconds(), micro_time(now), micro_time(now),
                                 current.transitions + 1)
        return self._write(lease, record)

    def _create(self, now: datetime) -> bool:
        record = LeaseRecord(self.identity, self._lease_seconds(), micro_time(now), micro_time(now), 0)
        lease = {"apiVersion": LEASE_API_VERSION, "kind": LEASE_KIND,
                 "metadata": {"name": self.name, "namespace": self.namespace}, "spec": record.spec()}
        try:
            self.cluster.create(lease)
        except Conflict:
            return False  # another candidate created it first
        self._observed, self._observed_at = record, self.clock.monotonic()
        return True

    def _write(self, lease: JsonObject, record: LeaseRecord) -> bool:
        updated = {**lease, "spec": {**(lease.get("spec") or {}), **record.spec()}}
        try:
            self.cluster.update(updated)  # carries the resourceVersion we read: the race is decided here
        except Conflict:
            return False
        self._observed, self._observed_at = record, self.clock.monotonic()
        return True

    def _lease_seconds(self) -> int:
        return max(1, round(self.lease_duration))

    def release(self) -> bool:
        """Give the Lease up if we hold it (holder cleared), so a successor need not wait for
        expiry. True when released."""
        with self._lock:
            if self._observed is None or self._observed.holder != self.identity:
                return False
            try:
                lease = self.cluster.get(LEASE_API_VERSION, LEASE_KIND, self.name, self.namespace)
                current = LeaseRecord.of(lease)
                if current.holder != self.identity:
                    return False
                now = micro_time(self.clock.now())
                # client-go's release: no holder, a 1-second duration, transitions kept.
                return self._write(lease, LeaseRecord("", 1, now, now, current.transitions))
            except ApiError as exc:
                log.warning("leader election %s/%s: release failed: %s", self.namespace, self.name, exc)
                return False

    # -- the loop -----------------------------------------------------------------------------------

    def run(
        self,
        on_started_leading: Callable[[], Any],
        on_stopped_leading: Callable[[], Any],
        stop_event: threading.Event,
    ) -> None:
        """Wait to become leader, lead, and return when leadership is lost or ``stop_event`` is set.

        ``on_started_leading`` is called once leadership is acquired and should return promptly
        (start the controller's threads); ``on_stopped_leading`` is called when leadership ends,
        lost or released, and is the cue to stop acting at once. Both run in the caller's thread.
        """
        while not self.try_acquire_or_renew():
            if self._pause(self.retry_period, stop_event):
                return
        log.info("leader election %s/%s: %s became leader", self.namespace, self.name, self.identity)
        try:
            on_started_leading()
            self._renew_until_lost(stop_event)
        finally:
            if stop_event.is_set() and self.release_on_stop:
                self.release()
            log.info("leader election %s/%s: %s stopped leading", self.namespace, self.name, self.identity)
            on_stopped_leading()

    def _renew_until_lost(self, stop_event: threading.Event) -> None:
        last_renewal = self.clock.monotonic()
        while not self._pause(self.retry_period, stop_event):
            if self.try_acquire_or_renew():
                last_renewal = self.clock.monotonic()
            elif self.clock.monotonic() - last_renewal >= self.renew_deadline:
                log.warning("leader election %s/%s: %s could not renew for %.0fs; leadership lost",
                            self.namespace, self.name, self.identity, self.renew_deadline)
                return

    def _pause(self, seconds: float, stop_event: threading.Event) -> bool:
        """Wait ``seconds`` on the clock; True when ``stop_event`` is set (before or meanwhile)."""
        if stop_event.is_set():
            return True
        if isinstance(self.clock, RealClock):
            return stop_event.wait(seconds)  # wakes at once on stop
        self.clock.sleep(seconds)  # a virtual clock only moves time
        return stop_event.is_set()
