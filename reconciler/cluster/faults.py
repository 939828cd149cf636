"""Deterministic fault injection for the embedded API server.

Controllers must survive throttling, server errors, conflicts and timeouts; the only way to test
that is to make the server misbehave on purpose, reproducibly (a seed), at a rate. An injected
error is raised *before* the request changes anything, like a real server that failed the
request, except a *lost response*: the write is carried out and the client still gets a timeout
— the case that makes crash-safety and idempotency tests honest.
"""

from __future__ import annotations

import random
import threading
from collections import deque
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
    not failed otherwise) that are carried out and then answered with ``ApiTimeout``. ``kinds`` restricts
    both to some kinds. :meth:`schedule` adds exact, one-off faults that fire before random ones.
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
    ) -> None:
        if not 0.0 <= rate <= 1.0 or not 0.0 <= lost_response_rate <= 1.0:
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
        self.injected = 0
        self._rng = random.Random(seed)
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

    def decide(self, verb: str, kind: str) -> FaultDecision:
        """The fate of one request (called by the cluster before it acts)."""
        with self._lock:
            for item in self._scripted:
                if item.verb == verb and item.kind in (None, kind):
                    self._scripted.remove(item)
                    self.injected += 1
                    if item.lose_response:
                        return FaultDecision(lose_response=True)
                    return FaultDecision(error=_error(item.status, verb, kind))
            if self.kinds is not None and kind not in self.kinds:
                return FaultDecision()
            if verb in self.verbs and self.rate > 0 and self._rng.random() < self.rate:
                self.injected += 1
                return FaultDecision(error=_error(self._rng.choice(self.statuses), verb, kind))
            if (verb in WRITE_VERBS and verb in self.verbs and self.lost_response_rate > 0
                    and self._rng.random() < self.lost_response_rate):
                self.injected += 1
                return FaultDecision(lose_response=True)
            return FaultDecision()


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
