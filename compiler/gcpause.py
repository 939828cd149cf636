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
#: controller``). Their loop allocates short-lived JSON containers by the million and keeps the
#: live objects of every workflow in flight (read-only snapshots: JSON, which cannot form
#: cycles, but the collector scans them all the same). With the defaults (700, 10, 10) the
#: collections were about a fifth of the CPU of 1,000 concurrent workflows; (10_000, 10, 10)
#: still spent about 9% in 90 young, 8 middle and one full collection per run (the longest
#: pause 245 ms). With (100_000, 20, 20) the same run makes 9 young collections and nothing
#: older: about 3.5% of the CPU, longest pause 70 ms (V1) / 106 ms (V2), the same peak memory
#: (benchmarks/bench_engine.py, issue 13). Reference counting frees everything acyclic at once;
#: cyclic garbage (exception tracebacks, mostly) is still collected, in larger batches.
LONG_RUNNING_THRESHOLDS = (100_000, 20, 20)


def tune_for_long_running() -> None:
    """Collect the young generation less often: for processes that run a reconcile loop."""
    gc.set_threshold(*LONG_RUNNING_THRESHOLDS)
