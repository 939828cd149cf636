"""Deterministic fault injection for the embedded API server.

Controllers must survive throttling, server errors, conflicts and timeouts; the only way to test
that is to make the server misbehave on purpose, reproducibly (a seed), at a rate. An injected
error is raised *before* the request changes anything, like a real server that failed the
request, except a *lost response*: the write is carried out and the client still gets a timeout
— the case that makes crash-safety and idempotency tests honest. A watch can also end early with
410 Expired (``watch_expiry_rate``), which makes an informer re-list.

``clients`` narrows every fault to the requests of some clients (``MemoryCluster.client(name)``):
a test that injects faults only into kubernaut's requests, not into the simulators' beside it,
knows that a wrong result is kubernaut's doing.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from .errors import ApiError, ApiTimeout, Conflict, error_for_status

__all__ = ["DEFAULT_STATUSES", "DEFAULT_VERBS", "WRITE_VERBS", "FaultDecision", "FaultInjector"]

FaultStatus = int | str  # an HTTP status, or "timeout"
DEFAULT_STATUSES: tuple[FaultStatus, ...] = (500, 409, 429, "timeout")
DEFAULT_VERBS: tuple[str, ...] = ("create", "update", "apply", "patch_status", "delete", "get", "list")
WRITE_VERBS = frozenset({"create", "update", "apply", "patch_status", "delete"})


@dataclass(frozen=True)
class FaultDecision:
    """What to do with one request: raise ``error`` before it, or lose its response after it."""

    error: ApiError | None = None
    lose_response: bool = False


@dataclass(frozen=True)
class _Scripted:
    verb: str
    kind: str | None
    status: FaultStatus
    lose_response: bool


class FaultInjector:
    """Fails a fraction ``rate`` of the matching requests with a status drawn from ``statuses``.

    ``lost_response_rate`` is independent: the fraction of matching *writes* (verbs among ``verbs``,
    not failed otherwise) that are carried out and then answered with ``ApiTimeout``.
    ``watch_expiry_rate``: the fraction of watch rounds (a delivery of events that then leaves the
    watch idle) that end with an ERROR event, 410 Expired, as an API server that compacted its
    history does; drawn from a generator of its own, so it leaves the request faults of a seed as
    they were. ``kinds`` and ``clients`` (request client names; None: any) restrict all of them.
    :meth:`schedule` adds exact, one-off faults that fire before random ones (whoever asks).
    :attr:`counts` tells how many of each were injected ("500", "timeout", "lost response",
    "watch expired"...).
    """

    def __init__(
        self,
        rate: float = 0.0,
        statuses: Sequence[FaultStatus] = DEFAULT_STATUSES,
        verbs: Collection[str] = DEFAULT_VERBS,
        seed: int = 0,
        *,
        lost_response_rate: float = 0.0,
        kinds: Collection[str] | None = None,
        clients: Collection[str] | None = None,
        watch_expiry_rate: float = 0.0,
    ) -> None:
        if not all(0.0 <= r <= 1.0 for r in (rate, lost_response_rate, watch_expiry_rate)):
            raise ValueError("rates must be between 0 and 1")
        if rate > 0 and not statuses:
            raise ValueError("a positive rate needs at least one status")
        for status in statuses:
            _error(status, "create", "check")  # fail at construction on an unsupported status
        self.rate = rate
        self.statuses = tuple(statuses)
        self.verbs = frozenset(verbs)
        self.lost_response_rate = lost_response_rate
        self.kinds = frozenset(kinds) if kinds is not None else None
        self.clients = frozenset(clients) if clients is not None else None
        self.watch_expiry_rate = watch_expiry_rate
        self.injected = 0
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._watch_rng = random.Random(f"watch-{seed}")
        self._scripted: deque[_Scripted] = deque()
        self._lock = threading.Lock()

    def schedule(
        self,
        verb: str,
        status: FaultStatus = "timeout",
        *,
        kind: str | None = None,
        times: int = 1,
        lose_response: bool = False,
    ) -> None:
        """Fail the next ``times`` matching requests with ``status``; with ``lose_response`` the
        write happens and the client gets a timeout instead (``status`` is then ignored)."""
        if lose_response and verb not in WRITE_VERBS:
            raise ValueError(f"only writes can lose their response, not {verb!r}")
        _error(status, verb, "check")
        with self._lock:
            self._scripted.extend(_Scripted(verb, kind, status, lose_response) for _ in range(times))

    def decide(self, verb: str, kind: str, client: str = "") -> FaultDecision:
        """The fate of one request by ``client`` (called by the cluster before it acts)."""
        with self._lock:
            for item in self._scripted:
                if item.verb == verb and item.kind in (None, kind):
                    self._scripted.remove(item)
                    if item.lose_response:
                        return self._lose()
                    return self._fail(item.status, verb, kind)
            if not self._applies(kind, client):
                return FaultDecision()
            if verb in self.verbs and self.rate > 0 and self._rng.random() < self.rate:
                return self._fail(self._rng.choice(self.statuses), verb, kind)
            if (verb in WRITE_VERBS and verb in self.verbs and self.lost_response_rate > 0
                    and self._rng.random() < self.lost_response_rate):
                return self._lose()
            return FaultDecision()

    def expire_watch(self, kind: str, client: str = "") -> bool:
        """Whether a round of ``client``'s watch of ``kind`` ends with 410 Expired."""
        with self._lock:
            if self.watch_expiry_rate <= 0 or not self._applies(kind, client):
                return False
            if self._watch_rng.random() >= self.watch_expiry_rate:
                return False
            self.injected += 1
            self.counts["watch expired"] += 1
            return True

    def _applies(self, kind: str, client: str) -> bool:
        return (self.kinds is None or kind in self.kinds) and (self.clients is None or client in self.clients)

    def _fail(self, status: FaultStatus, verb: str, kind: str) -> FaultDecision:
        self.injected += 1
        self.counts[str(status)] += 1
        return FaultDecision(error=_error(status, verb, kind))

    def _lose(self) -> FaultDecision:
        self.injected += 1
        self.counts["lost response"] += 1
        return FaultDecision(lose_response=True)


def _error(status: FaultStatus, verb: str, kind: str) -> ApiError:
    message = f"injected fault on {verb} {kind}"
    if status == "timeout":
        return ApiTimeout(f"{message}: the request timed out")
    if not isinstance(status, int):
        raise ValueError(f"fault status must be an HTTP status or 'timeout', not {status!r}")
    if status == 409:
        # Never AlreadyExists: that claim would be a lie when the object does not exist.
        return Conflict(f"{message}: the object has been modified; please apply your changes to "
                        "the latest version and try again")
    if status < 400:
        raise ValueError(f"fault status must be an error status, not {status}")
    return error_for_status(status, message)
