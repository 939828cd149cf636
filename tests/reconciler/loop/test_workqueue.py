"""WorkQueue semantics: dedup, one worker per key, dirty re-queue, timers and backoff on a clock."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.clock import VirtualClock
from reconciler.workqueue import Backoff, WorkQueue


def drain(queue: WorkQueue[str]) -> list[str]:
    taken = []
    while (key := queue.get(timeout=0)) is not None:
        taken.append(key)
        queue.done(key)
    return taken


def test_keys_are_deduplicated_and_fifo() -> None:
    queue: WorkQueue[str] = WorkQueue(VirtualClock())
    for key in ["a", "b", "a", "c", "b", "a"]:
        queue.add(key)
    assert len(queue) == 3
    assert drain(queue) == ["a", "b", "c"]


def test_a_key_added_while_processing_is_requeued_after_done_not_before() -> None:
    queue: WorkQueue[str] = WorkQueue(VirtualClock())
    queue.add("a")
    assert queue.get(timeout=0) == "a"
    queue.add("a")
    queue.add("a")  # still one pending re-run
    assert queue.get(timeout=0) is None  # never handed out twice at once
    assert queue.processing == {"a"}
    queue.done("a")
    assert queue.get(timeout=0) == "a"
    queue.done("a")
    assert queue.get(timeout=0) is None and queue.idle()


def test_no_key_is_ever_processed_by_two_threads_at_once() -> None:
    queue: WorkQueue[int] = WorkQueue()
    active: Counter[int] = Counter()
    processed: Counter[int] = Counter()
    lock = threading.Lock()
    violations: list[int] = []
    stop = threading.Event()

    def worker() -> None:
        rng = random.Random(threading.get_ident())
        while not stop.is_set():
            key = queue.get(timeout=0.01)
            if key is None:
                continue
            with lock:
                active[key] += 1
                if active[key] > 1:
                    violations.append(key)
            time.sleep(rng.random() / 2000)  # widen the window for a race
            with lock:
                active[key] -= 1
                processed[key] += 1
            queue.done(key)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for i in range(3000):
        queue.add(i % 5)  # 5 hot keys hammered while being processed
        if i % 100 == 0:
            time.sleep(0.001)
    deadline = time.monotonic() + 10
    while not queue.idle() and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    for thread in threads:
        thread.join()
    assert violations == []
    assert set(processed) == {0, 1, 2, 3, 4}  # every key's last add was processed
    assert queue.idle()


def test_add_after_fires_on_the_virtual_clock_only() -> None:
    clock = VirtualClock()
    queue: WorkQueue[str] = WorkQueue(clock)
    queue.add_after("a", 5)
    queue.add_after("b", 2)
    assert queue.get(timeout=0) is None
    assert queue.next_timer() == 2
    clock.advance(1.999)
    assert queue.ready() == 0
    clock.advance(0.001)
    assert drain(queue) == ["b"]
    assert queue.next_timer() == 5
    clock.advance(3)
    assert drain(queue) == ["a"]
    assert queue.next_timer() is None and queue.pending_timers == 0


def test_earliest_timer_for_a_key_wins() -> None:
    clock = VirtualClock()
    queue: WorkQueue[str] = WorkQueue(clock)
    queue.add_after("a", 10)
    queue.add_after("a", 3)
    queue.add_after("a", 7)  # later than the pending 3 s: ignored
    assert queue.pending_timers == 1 and queue.next_timer() == 3
    clock.advance(3)
    assert drain(queue) == ["a"]
    clock.advance(100)
    assert drain(queue) == []  # the superseded 10 s timer does not fire a second time


def test_timer_for_a_key_already_queued_does_not_duplicate_it() -> None:
    clock = VirtualClock()
    queue: WorkQueue[str] = WorkQueue(clock)
    queue.add("a")
    queue.add_after("a", 1)
    clock.advance(1)
    assert drain(queue) == ["a"]


def test_non_positive_delay_means_now() -> None:
    queue: WorkQueue[str] = WorkQueue(VirtualClock())
    queue.add_after("a", 0)
    queue.add_after("b", -3)
    assert drain(queue) == ["a", "b"]


def test_exponential_backoff_timing_and_reset() -> None:
    clock = VirtualClock()
    queue: WorkQueue[str] = WorkQueue(clock, Backoff(base=1, factor=2, cap=10))
    fired_at = []
    for _ in range(6):
        queue.add_rate_limited("k")
        while queue.ready() == 0:
            due = queue.next_timer()
            assert due is not None
            clock.advance(due - clock.monotonic())
        fired_at.append(clock.monotonic())
        assert drain(queue) == ["k"]
    gaps = [b - a for a, b in zip([0.0, *fired_at], fired_at, strict=False)]
    assert gaps == [1, 2, 4, 8, 10, 10]  # doubling, capped
    assert queue.failures("k") == 6
    queue.forget("k")
    assert queue.failures("k") == 0
    assert queue.add_rate_limited("k") == 1  # back to the base delay


def test_backoff_is_per_key() -> None:
    queue: WorkQueue[str] = WorkQueue(VirtualClock(), Backoff(base=0.5, factor=3, cap=100))
    assert [queue.add_rate_limited("a") for _ in range(3)] == [0.5, 1.5, 4.5]
    assert queue.add_rate_limited("b") == 0.5


def test_rate_limited_respects_a_minimum_delay() -> None:
    queue: WorkQueue[str] = WorkQueue(VirtualClock(), Backoff(base=1, factor=2, cap=60))
    assert queue.add_rate_limited("a", at_least=30) == 30


@pytest.mark.parametrize("kwargs", [{"base": 0}, {"factor": 0.5}, {"base": 5, "cap": 1}])
def test_invalid_backoff_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)


@given(st.floats(0.001, 10), st.floats(1, 4), st.floats(10, 1000), st.integers(1, 5000))
@settings(max_examples=200, deadline=None)
def test_backoff_is_monotonic_and_bounded(base: float, factor: float, cap: float, failures: int) -> None:
    backoff = Backoff(base=base, factor=factor, cap=cap)
    assert base <= backoff.delay(failures) <= cap
    assert backoff.delay(failures) <= backoff.delay(failures + 1)


def test_blocked_get_wakes_up_on_add_and_on_shutdown() -> None:
    queue: WorkQueue[str] = WorkQueue()
    got: list[str | None] = []
    thread = threading.Thread(target=lambda: got.append(queue.get()))
    thread.start()
    time.sleep(0.05)
    queue.add("x")
    thread.join(2)
    assert got == ["x"]
    thread = threading.Thread(target=lambda: got.append(queue.get()))
    thread.start()
    time.sleep(0.05)
    queue.shutdown()
    thread.join(2)
    assert got == ["x", None]
    queue.add("y")  # ignored after shutdown
    assert queue.get(timeout=0) is None


def test_blocked_get_notices_a_timer_made_due_by_another_thread_advancing_virtual_time() -> None:
    clock = VirtualClock()
    queue: WorkQueue[str] = WorkQueue(clock)
    queue.add_after("t", 60)
    got: list[str | None] = []
    thread = threading.Thread(target=lambda: got.append(queue.get(timeout=5)))
    thread.start()
    time.sleep(0.05)
    clock.advance(60)
    thread.join(5)
    assert got == ["t"]


def test_get_timeout_returns_none() -> None:
    queue: WorkQueue[str] = WorkQueue()
    started = time.monotonic()
    assert queue.get(timeout=0.05) is None
    assert time.monotonic() - started >= 0.04
