"""Thread-safety smoke test: many writers, retry on conflict, no lost update, every event seen."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from reconciler.cluster import ApiError, FaultInjector, is_transient
from reconciler.cluster.memory import MemoryCluster

if TYPE_CHECKING:
    from conftest import Builders

THREADS, INCREMENTS = 8, 25


def _increment(cluster: MemoryCluster, conflicts: list[int]) -> None:
    for _ in range(INCREMENTS):
        while True:
            try:
                cm = cluster.get("v1", "ConfigMap", "counter")
                cm["data"]["n"] = str(int(cm["data"]["n"]) + 1)
                cluster.update(cm)
                break
            except ApiError as exc:
                if not is_transient(exc):
                    raise
                conflicts.append(exc.status)


def test_concurrent_read_modify_write_with_retry(make: Builders) -> None:
    cluster = MemoryCluster()
    cluster.create(make.configmap("counter", data={"n": "0"}))
    # Transient noise on reads and writes; no lost responses (an increment is not idempotent).
    cluster.faults = FaultInjector(rate=0.1, statuses=(500, 409, 429), verbs=("get", "update"), seed=9)
    watch = cluster.watch("v1", "ConfigMap")
    seen: list[str] = []

    def consume() -> None:
        while len(seen) < THREADS * INCREMENTS:
            event = watch.next(timeout=5)
            if event is None:
                return
            seen.append(event.object["data"]["n"])

    consumer = threading.Thread(target=consume)
    consumer.start()
    conflicts: list[int] = []
    writers = [threading.Thread(target=_increment, args=(cluster, conflicts)) for _ in range(THREADS)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(30)
    consumer.join(30)
    cluster.faults = None
    assert cluster.get("v1", "ConfigMap", "counter")["data"]["n"] == str(THREADS * INCREMENTS)
    assert seen == [str(i) for i in range(1, THREADS * INCREMENTS + 1)]
    assert 409 in conflicts  # real or injected: the retry path was exercised
    assert cluster.resource_version == str(1 + THREADS * INCREMENTS)
