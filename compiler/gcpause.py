"""Pausing Python's cyclic garbage collector around bulk work on acyclic data."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector inside the block; reference counting frees memory as usual.

    Loading a workflow and writing its manifests allocate hundreds of thousands of long-lived
    containers that cannot form cycles. With the collector running, every full collection
    re-scans all of them, which made large compiles super-linear (benchmarks/bench_compile.py).
    The collector's previous state is restored on the way out, exceptions included.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


#: The collector's thresholds for the long-running commands (``kubernaut run``, ``kubernaut
#: controller``). Their loop allocates short-lived JSON containers by the million: with the
#: default young-generation threshold (700) a collection ran every few reconciles and scanned
#: the live objects of every workflow in flight, about a fifth of the CPU of 1,000 concurrent
#: workflows (benchmarks/bench_engine.py: 212 -> 261 step transitions per CPU second). The older
#: generations keep their defaults, so cyclic garbage (exception tracebacks, mostly) is still
#: collected, only in larger batches; peak memory was the same (314 MiB).
LONG_RUNNING_THRESHOLDS = (10_000, 10, 10)


def tune_for_long_running() -> None:
    """Collect the young generation less often: for processes that run a reconcile loop."""
    gc.set_threshold(*LONG_RUNNING_THRESHOLDS)
