"""reconciler.clock: the virtual clock's reads and the RFC 3339 helpers (issue 13: the embedded
loop reads the time hundreds of thousands of times a run, and formats the same instants again)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from reconciler.clock import VirtualClock, parse_rfc3339, rfc3339


def test_the_virtual_clock_hands_out_one_datetime_until_time_moves() -> None:
    clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
    first = clock.now()
    assert clock.now() is first and first == datetime(2026, 1, 1, tzinfo=UTC)
    clock.advance(1.5)
    assert clock.now() == datetime(2026, 1, 1, 0, 0, 1, 500000, tzinfo=UTC) and clock.monotonic() == 1.5
    clock.sleep(0)
    clock.sleep(-3)  # a deadline in the past: no-op
    assert clock.monotonic() == 1.5 and clock.now() is clock.now()
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_concurrent_advances_add_up() -> None:
    clock = VirtualClock()
    threads = [threading.Thread(target=lambda: [clock.advance(0.25) for _ in range(1000)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.monotonic() == 1000.0
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=1000)


def test_rfc3339_round_trips_and_ignores_the_zone_it_was_given() -> None:
    instant = datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC)
    assert rfc3339(instant) == "2026-03-04T05:06:07Z"
    # The same instant in another zone: the same text (a memoised answer for an equal key is right).
    assert rfc3339(instant.astimezone(timezone(timedelta(hours=2)))) == "2026-03-04T05:06:07Z"
    assert parse_rfc3339("2026-03-04T05:06:07Z") == instant.replace(microsecond=0)
    assert parse_rfc3339("2026-03-04T07:06:07.5+02:00") == datetime(2026, 3, 4, 5, 6, 7, 500000, tzinfo=UTC)
    for _ in range(2):  # errors are never remembered as answers
        with pytest.raises(ValueError, match="timezone-aware"):
            rfc3339(datetime(2026, 1, 1))
        with pytest.raises(ValueError, match="without a timezone"):
            parse_rfc3339("2026-01-01T00:00:00")
