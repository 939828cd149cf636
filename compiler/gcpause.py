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
