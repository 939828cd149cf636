"""The embedded API server's access log, so tests can assert what a controller asked for."""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["RequestLog", "RequestRecord"]


@dataclass(frozen=True)
class RequestRecord:
    verb: str
    api_version: str
    kind: str
    namespace: str | None
    name: str | None
    #: What the client saw: 200/201 on success, the error's status otherwise (504 for a lost response).
    status_code: int
    #: A write that changed nothing (an identical update, apply or status patch): no new resourceVersion.
    no_op: bool = False
    dry_run: bool = False
    #: The answer came from the fault injector, not from the server's own logic.
    injected: bool = False


class RequestLog:
    """Append-only, thread-safe list of :class:`RequestRecord`."""

    def __init__(self) -> None:
        self._records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def count(self, verb: str | None = None, kind: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self._records
                       if (verb is None or r.verb == verb) and (kind is None or r.kind == kind))
