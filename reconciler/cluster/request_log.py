"""The embedded API server's access log, so tests can assert what a controller asked for.

The log keeps the newest ``max_records`` requests (a ring buffer: a long ``kubernaut run`` must
not grow without bound) and exact counts of every request ever made, by client, verb and kind.
The client is the user agent a caller chose with ``MemoryCluster.client(name)`` ("" for direct
calls): ``kubernaut run --stats`` tells kubernaut's controllers from the simulators this way.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import NamedTuple

__all__ = ["DEFAULT_MAX_RECORDS", "RequestLog", "RequestRecord"]

#: Records retained by default: plenty for a test's assertions, bounded for hours-long runs.
DEFAULT_MAX_RECORDS = 100_000


class RequestRecord(NamedTuple):
    """One request. A tuple of plain values, which the garbage collector stops tracking: a log of
    100,000 records costs nothing to scan in every full collection of a long run."""

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
    #: Who asked: the name given to ``MemoryCluster.client`` ("" for direct calls).
    client: str = ""


class RequestLog:
    """Thread-safe ring buffer of :class:`RequestRecord` with exact counts of every request."""

    def __init__(self, max_records: int = DEFAULT_MAX_RECORDS) -> None:
        if max_records < 0:
            raise ValueError("max_records must be >= 0")
        self._records: deque[RequestRecord] = deque(maxlen=max_records)
        self._counts: Counter[tuple[str, str, str]] = Counter()  # (client, verb, kind) -> requests
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)
            self._counts[(record.client, record.verb, record.kind)] += 1

    def snapshot(self) -> list[RequestRecord]:
        """The retained records, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._counts.clear()

    @property
    def max_records(self) -> int:
        return self._records.maxlen or 0

    @property
    def dropped(self) -> int:
        """Requests counted but no longer retained."""
        with self._lock:
            return sum(self._counts.values()) - len(self._records)

    def count(self, verb: str | None = None, kind: str | None = None, client: str | None = None) -> int:
        """Requests ever made (since the last clear) matching ``verb``, ``kind`` and ``client``
        (None: any): exact, whether or not the records are still retained."""
        with self._lock:
            return sum(n for (c, v, k), n in self._counts.items()
                       if (verb is None or v == verb) and (kind is None or k == kind)
                       and (client is None or c == client))

    def counts(self) -> dict[tuple[str, str, str], int]:
        """Every (client, verb, kind) with its exact request count."""
        with self._lock:
            return dict(self._counts)
